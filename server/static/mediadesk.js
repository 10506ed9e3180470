// MediaDesk for web pages: an ES module, no build step.
//
//   import { uploadFile, playbackUrl, streamUrl, watchUrl } from "https://media.example.org/static/mediadesk.js";
//   const file = await uploadFile(input.files[0], { token, onProgress: (sent, total) => … });
//
// uploadFile checks the file before asking for an upload URL (its type from the first bytes,
// not from its name or file.type; its size and type against the server's GET /config), then
// runs the presigned flow: POST /files/upload/presigned (with the description, if any), PUT
// the bytes with upload progress (XMLHttpRequest upload.onprogress), POST
// /files/{id}/confirm-upload. Failures reject with a MediaDeskError carrying the server's
// error code. baseUrl defaults to this module's origin. File names go as JSON text (the
// server cleans them as every upload's), never through a multipart header.
//
// A request that goes silent (no upload progress and no answer for `stallTimeout` seconds,
// 60 by default as the Python client's timeout; every function that makes a request takes
// the option) is aborted and retried as a network error; a PUT still sending bytes, however
// slowly, is never cut. After its retries it rejects with network_error, reason "stalled".
// A MediaDesk server that has never answered this page is not retried, and its first GET
// (GET /config for uploadFile) is given up after 5 s without an answer (a frozen server, a
// host that does not answer), as the Python client does.

// Why a processing job was skipped or failed: the codes of a Job's `reason` and of
// StreamInfo's processing.reasons (core.jobs.SKIP_REASONS and FAILURE_REASONS, each with its
// meaning in the README), for a page's own messages. The module the server serves lists the
// codes of that server: tests/test_js_module.py fails when these and core's differ.
export const SKIP_REASONS = Object.freeze([
  "audio_only", "no_picture_size", "not_mp4_or_mov", "already_fast_start", "no_video_frames",
  "already_web_ready",
]);
export const FAILURE_REASONS = Object.freeze([
  "undecodable_media", "encoder_failed", "original_missing", "storage_unavailable",
  "insufficient_storage", "interrupted", "internal",
]);

const MODULE_ORIGIN = new URL(import.meta.url).origin;
// enough for MPEG-TS's first packets (192 bytes each on a camcorder), not just magic numbers
const HEAD_BYTES = 1024;

export class MediaDeskError extends Error {
  constructor(code, message, {
    status = null, details = {}, requestId = null, reason = null,
  } = {}) {
    super(message);
    this.name = "MediaDeskError";
    this.code = code;
    this.status = status; // null when the file was refused before any request
    this.details = details;
    this.requestId = requestId;
    this.reason = reason; // the server's finer cause under the code (description_too_long)
  }
}

const base = (baseUrl) => (baseUrl || MODULE_ORIGIN).replace(/\/+$/, "");

// What a function needs of its JavaScript environment, checked before its first request: a
// browser has fetch and XMLHttpRequest, Node (18 and later) and Deno fetch only. uploadFile
// asked for an upload URL there, which left a pending file on the server, and then failed with
// a bare ReferenceError where its PUT made an XMLHttpRequest (fetch tells no upload progress).
function needs(what, ...names) {
  const missing = names.filter((name) => typeof globalThis[name] !== "function");
  if (!missing.length) return;
  throw new MediaDeskError("unsupported_environment",
    `${what} needs ${missing.join(" and ")}, which this JavaScript environment does not have `
    + "(web browsers do; Node.js and Deno have no XMLHttpRequest): nothing was sent",
    { details: { missing } });
}
const ascii = (bytes, start, end) => String.fromCharCode(...bytes.subarray(start, end));
const starts = (bytes, magic, at = 0) => magic.every((b, i) => bytes[at + i] === b);

// ISO BMFF brands that share MP4's structure but are not videos (as core/mediatypes.py).
const NOT_VIDEO_BRANDS = {
  heic: "HEIF image", heix: "HEIF image", heim: "HEIF image", heis: "HEIF image",
  hevc: "HEIF image", hevx: "HEIF image", mif1: "HEIF image", msf1: "HEIF image",
  avif: "AVIF image", avis: "AVIF image", "M4A ": "MPEG-4 audio", "M4B ": "MPEG-4 audio",
  "crx ": "Canon raw image",
};

// MPEG-TS: the sync byte 0x47 at every packet's start in the head, at least 3 packets of 188
// bytes, or of 192 with a camcorder's 4-byte prefix (as core/mediatypes.py)
function transportStream(bytes) {
  return [[188, 0], [192, 4]].some(([size, offset]) => {
    const starts = [];
    for (let i = offset; i < bytes.length; i += size) starts.push(i);
    return starts.length >= 3 && starts.every((i) => bytes[i] === 0x47);
  });
}

/** The media type of content from its first bytes, or null: the server's sniffing rules. */
export function sniff(bytes) {
  if (transportStream(bytes)) return { mime: "video/mp2t", kind: "video" };
  if (bytes.length >= 12 && ["ftyp", "moov", "mdat", "wide", "free"].includes(ascii(bytes, 4, 8))) {
    if (ascii(bytes, 4, 8) !== "ftyp") return { mime: "video/quicktime", kind: "video" };
    const brand = ascii(bytes, 8, 12);
    if (NOT_VIDEO_BRANDS[brand]) return null;
    return brand === "qt  " ? { mime: "video/quicktime", kind: "video" }
      : { mime: "video/mp4", kind: "video" };
  }
  if (starts(bytes, [0xff, 0xd8, 0xff])) return { mime: "image/jpeg", kind: "image" };
  if (starts(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { mime: "image/png", kind: "image" };
  }
  if (["GIF87a", "GIF89a"].includes(ascii(bytes, 0, 6))) return { mime: "image/gif", kind: "image" };
  if (ascii(bytes, 0, 4) === "RIFF") {
    const form = ascii(bytes, 8, 12);
    if (form === "WEBP") return { mime: "image/webp", kind: "image" };
    if (form === "AVI ") return { mime: "video/x-msvideo", kind: "video" };
    return null;
  }
  if (starts(bytes, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) {
    return { mime: "video/x-ms-wmv", kind: "video" };
  }
  if (starts(bytes, [0x1a, 0x45, 0xdf, 0xa3]) && ascii(bytes, 0, 64).includes("webm")) {
    return { mime: "video/webm", kind: "video" };
  }
  return null;
}

const configs = new Map();

/** GET /config of a server (once per page): limits, allowed types, presign threshold. */
export function getConfig({ baseUrl, stallTimeout } = {}) {
  const url = base(baseUrl);
  if (!configs.has(url)) {
    configs.set(url, request("GET", `${url}/config`, { stallTimeout }).catch((err) => {
      configs.delete(url);
      throw err;
    }));
  }
  return configs.get(url);
}

// A File the browser can no longer read: changed, moved or removed on disk since it was chosen
// (Chromium's NotReadableError, Firefox's NotFoundError). uploadFile rejected with the bare
// DOMException (no MediaDeskError, `code` 0). A file changed during its PUT is the server's to
// find (403 content_length_mismatch).
const unreadable = (file, cause) => new MediaDeskError("unreadable",
  `${file.name || "The file"} can no longer be read (changed, moved or removed since it was `
  + "chosen): choose it again", { details: { cause: cause?.name || null } });

/** Checks a File or Blob as the server would; rejects with a MediaDeskError (status null). */
export async function checkFile(file, { baseUrl, fileType, stallTimeout } = {}) {
  if (!file.size) {
    // A chosen file removed from disk before the page first asked its size reads as 0 bytes
    // (Chromium takes the size then, from a file no longer there), and was said empty. Read
    // whole (nothing, for a file that is empty), it is refused as gone: said unreadable.
    try {
      await file.arrayBuffer();
    } catch (err) {
      throw unreadable(file, err);
    }
    throw new MediaDeskError("empty_file", "The file is empty");
  }
  let head;
  try {
    head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  } catch (err) {
    throw unreadable(file, err);
  }
  const media = sniff(head);
  const config = await getConfig({ baseUrl, stallTimeout });
  if (!media) {
    const accepted = [...config.allowed_types.image, ...config.allowed_types.video].join(", ")
      || "none";
    throw new MediaDeskError("unsupported_type",
      `${file.name || "The file"} is not a photo or video this server accepts (${accepted})`);
  }
  if (fileType && fileType !== media.kind) {
    throw new MediaDeskError("type_mismatch",
      `The content is ${media.kind} (${media.mime}) but fileType says ${fileType}`);
  }
  if (!config.allowed_types[media.kind].includes(media.mime)) {
    throw new MediaDeskError("unsupported_type", `${media.mime} is not accepted by this server`);
  }
  if (file.size > config.max_file_size) {
    throw new MediaDeskError("too_large",
      `The file is ${file.size} bytes; the limit is ${config.max_file_size} bytes`,
      { details: { size: file.size, max_size: config.max_file_size } });
  }
  return media;
}

// An S3-style error document's Code and Message (R2, S3, MinIO answer a signed request they
// refuse with one, readable when the bucket's CORS rule matches this page), or null: read by
// pattern, as the Python client does, never parsed as XML.
function storageError(text) {
  const field = (name) => {
    const found = new RegExp(`<${name}>([^<]{1,500})</${name}>`).exec(text);
    if (!found) return "";
    // XML's entities as the bucket meant them (no DOM here: Node and Deno have none)
    const named = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" };
    return found[1].replace(/&(?:#x([0-9a-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/gi,
      (all, hex, dec, name) => {
        if (name) return named[name.toLowerCase()];
        const point = parseInt(hex || dec, hex ? 16 : 10);
        return point <= 0x10ffff ? String.fromCodePoint(point) : all;
      }).trim();
  };
  if (typeof text !== "string" || !text.includes("<Error>")) return null;
  const code = field("Code");
  return code ? { code, message: field("Message") } : null;
}

async function errorFrom(status, text, headers) {
  try {
    const { error } = JSON.parse(text);
    // a proxy's or CDN's own JSON ({"error": "upstream timed out"}) is not our error body
    if (typeof error?.code !== "string") throw new TypeError("not a MediaDesk error");
    return new MediaDeskError(error.code, error.message, {
      status, details: error.details || {}, reason: error.reason || null,
      requestId: error.request_id || headers.get?.("X-Request-ID") || null,
    });
  } catch {
    // a bucket's refusal in its own words is kept: "HTTP 403" alone did not tell an expired
    // link from a signature the bucket would not take
    const storage = storageError(text);
    if (!storage) return new MediaDeskError(`http_${status}`, `HTTP ${status}`, { status });
    return new MediaDeskError(`http_${status}`, `HTTP ${status}: the storage answered `
      + `${storage.code}${storage.message ? ` (${storage.message})` : ""}`, {
      status, details: { storage_code: storage.code, storage_message: storage.message },
    });
  }
}

// 429 (too many uploads) and 503 (server_busy: every upload slot is taking a body;
// server_stopping: a restart cut the body) say the server did not act on the request, so any
// request may be sent again after Retry-After, as the README asks of clients; without these
// retries a page's upload failed whenever MEDIADESK_UPLOAD_BODIES others were arriving. A
// network error is sent again too, with the same growing waits and the same five retries as
// the Python client (server/client): a server that took longer than Retry-After to come back
// from a restart refused the PUT sent then, and the upload failed where the Python client's
// went on. Every request here may be repeated (reads, a signed PUT of the same bytes, a
// presign, a confirm, the same edit), as the Python client repeats them. Except, as it does,
// where MediaDesk's server has never answered this page: a wrong baseUrl, a server not
// started, or this origin not in its CORS origins, said at once rather than after 15 s. A
// bucket's signed URL is retried even then (a bucket without CORS for this origin is reported
// only after the retries). A 502 or 504 is a proxy in front (nginx, a load balancer) that
// could not reach the server, as while it restarts: sent again the same way, as the Python
// client does; every request here may be repeated, so one the proxy gave up on after the
// server acted is harmless. Other failures are the caller's to judge.
const RETRIES = 5;
const NOT_ACTED = new Set([429, 502, 503, 504]);
// Codes whose cause outlasts any retry (core.errors.LASTING_CODES): a server whose catalog a
// newer MediaDesk upgraded answers every write 503 until it is restarted, and five retries
// only kept a page silent for 15 s before it could say so.
export const LASTING_CODES = Object.freeze(["catalog_upgraded"]);
const retried = (status, text) => {
  if (!NOT_ACTED.has(status)) return false;
  try {
    return !LASTING_CODES.includes(JSON.parse(text).error.code);
  } catch {
    return true; // not our error body: a proxy's page, a bucket's XML
  }
};
const pause = (attempt, retryAfter) => {
  const seconds = Math.min(60, Math.max(0.5 * 2 ** attempt, Number(retryAfter) || 0));
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
};
const answered = new Set(); // origins of MediaDesk servers that have answered this page
const originOf = (url) => new URL(url).origin;

// A link gone silent (Wi-Fi lost, a NAT that dropped the connection: no reset, no bytes
// either way) leaves a fetch or an XMLHttpRequest waiting for ever, a page's upload frozen
// with no error and no Retry. As the Python client's timeout (server/client), a request is
// given up when nothing moves for this long, and sent again as a network error is.
const STALL_SECONDS = 60;
const stallSeconds = (seconds) => (Number(seconds) > 0 ? Number(seconds) : STALL_SECONDS);
// A read (GET) of a MediaDesk server that has never answered this page gets its answer within
// this many seconds, as the Python client's first read does (FIRST_ANSWER_TIMEOUT): a live
// server answers GET /config from memory at once, and a frozen one (a stopped process, a
// desktop app not responding) or a host that does not answer kept a page silent 60 s.
const FIRST_ANSWER_SECONDS = 5;

// Calls onStall once `seconds` pass without a touch(): each sign of life (bytes sent, an
// answer's headers or bytes) touches it, so a slow upload is never cut.
function watchdog(seconds, onStall) {
  let timer = null;
  // setTimeout runs at once past 2^31 - 1 ms: a huge window is the longest it takes
  const ms = Math.min(stallSeconds(seconds) * 1000, 2 ** 31 - 1);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(onStall, ms);
  };
  touch();
  return { touch, stop: () => clearTimeout(timer) };
}

const failure = (what, stalled, seconds, err) => (stalled
  ? new MediaDeskError("network_error",
    `${what}: no answer and no progress for ${stallSeconds(seconds)} s`, { reason: "stalled" })
  : new MediaDeskError("network_error", `${what}: ${err.message}`));
const unanswered = (what, seconds) => new MediaDeskError("network_error",
  `${what}: the server did not answer within ${seconds} s: it may be frozen (a stopped `
  + "`mediadesk serve`, a desktop app not responding) or too busy, or the host does not answer",
  { reason: "stalled" });

async function request(method, url, { token, json, stallTimeout } = {}) {
  needs("mediadesk.js", "fetch");
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  for (let attempt = 0; ; attempt += 1) {
    let response;
    let text;
    let stalled = false;
    const abort = new AbortController();
    const first = method === "GET" && !answered.has(originOf(url));
    const wait = first ? Math.min(stallSeconds(stallTimeout), FIRST_ANSWER_SECONDS)
      : stallTimeout;
    // fetch tells no upload progress: these bodies are small JSON, and the window runs again
    // from the answer's headers for its (small) body
    const dog = watchdog(wait, () => {
      stalled = true;
      abort.abort();
    });
    try {
      response = await fetch(url, {
        method, headers, body: json === undefined ? undefined : JSON.stringify(json),
        signal: abort.signal,
      });
      answered.add(originOf(url));
      dog.touch();
      text = await response.text();
      dog.stop();
    } catch (err) {
      dog.stop();
      if (attempt < RETRIES && answered.has(originOf(url))) {
        await pause(attempt);
        continue;
      }
      if (first && stalled && wait < stallSeconds(stallTimeout)) {
        throw unanswered(`${method} ${url}`, wait);
      }
      throw failure(`${method} ${url}`, stalled, stallTimeout, err);
    }
    if (attempt < RETRIES && retried(response.status, text)) {
      await pause(attempt, response.headers.get("Retry-After"));
      continue;
    }
    if (!response.ok) throw await errorFrom(response.status, text, response.headers);
    return text ? JSON.parse(text) : null;
  }
}

// One PUT with upload progress (fetch has no upload progress events; XMLHttpRequest has),
// sent again after a 429, 502, 503 or 504 (see NOT_ACTED; not a LASTING_CODES one) or a network
// error or a stall (see RETRIES, STALL_SECONDS). `ours`: the URL is MediaDesk's server (local
// storage), not a bucket's. Resolves with the answered request.
async function put(url, body, headers, onSent, ours, stallTimeout) {
  for (let attempt = 0; ; attempt += 1) {
    const xhr = await putOnce(url, body, headers, onSent, stallTimeout);
    if (typeof xhr === "string") {
      if (attempt < RETRIES && (!ours || answered.has(originOf(url)))) {
        onSent(0);
        await pause(attempt);
        continue;
      }
      if (xhr === "stalled") throw failure("The upload", true, stallTimeout);
      throw new MediaDeskError("network_error",
        "The upload failed (network or CORS: the storage must allow this origin)");
    }
    if (ours) answered.add(originOf(url));
    if (xhr.status >= 200 && xhr.status < 300) {
      onSent(body.size);
      return xhr;
    }
    if (attempt < RETRIES && retried(xhr.status, xhr.responseText)) {
      onSent(0);
      // a bucket's 503 SlowDown: its Retry-After only when its CORS rule exposes it, else
      // this module's own back-off
      await pause(attempt, exposedHeader(xhr, "Retry-After"));
      continue;
    }
    throw await errorFrom(xhr.status, xhr.responseText, {
      get: (name) => exposedHeader(xhr, name) || null,
    });
  }
}

// A header of an answer, or "" when the answer's CORS rule does not expose it (a bucket's
// often exposes none: a part's ETag is then left to the server, which lists the parts in the
// bucket; a 503's Retry-After to this module's back-off). Looked for among the exposed
// headers: getResponseHeader of a hidden one makes Chromium log "Refused to get unsafe header".
function exposedHeader(xhr, name) {
  const prefix = `${name.toLowerCase()}:`;
  const line = xhr.getAllResponseHeaders().split(/\r?\n/)
    .find((header) => header.toLowerCase().startsWith(prefix));
  return line ? line.slice(prefix.length).trim() : "";
}

// The XMLHttpRequest once answered, else why not: "network" for a network error (which a
// browser does not tell apart from a refusal by CORS), "stalled" when neither a byte of the
// body went nor a byte of an answer came for the stall window.
function putOnce(url, body, headers, onSent, stallTimeout) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) {
      // the browser sets Content-Length itself and refuses scripts that try
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    const dog = watchdog(stallTimeout, () => xhr.abort());
    xhr.upload.onprogress = (event) => {
      dog.touch();
      onSent(event.loaded);
    };
    xhr.onreadystatechange = dog.touch; // the answer's headers
    xhr.onprogress = dog.touch; // its bytes
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => resolve("network");
    xhr.onabort = () => resolve("stalled"); // only the watchdog aborts
    xhr.onloadend = dog.stop;
    xhr.send(body);
  });
}

// The catalog's largest id (core.listing.MAX_ID), as `mediadesk upload --athlete` takes it.
const MAX_ID = 2 ** 31 - 1;

// `athleteId` as the presign's athlete_id, or a MediaDeskError before any request: "abc" was
// sent as Number("abc"), NaN, which JSON writes as null, and the server answered "The field
// 'athlete_id' cannot be null" of an id the page never meant to leave out.
function athleteIdOf(value) {
  const id = typeof value === "string" && /^\s*[0-9]+\s*$/.test(value) ? Number(value) : value;
  if (typeof id === "number" && Number.isInteger(id) && id >= 1 && id <= MAX_ID) return id;
  const given = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new MediaDeskError("invalid_input",
    `athleteId must be an athlete id, a whole number from 1 to ${MAX_ID}, not ${given}: `
    + "nothing was sent", { details: { field: "athlete_id" } });
}

// 128 random bits in hex: crypto.getRandomValues works on plain http:// pages too, where
// crypto.randomUUID does not (a LAN address is no secure context).
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Uploads a File: checks it, asks for a presigned URL, PUTs the bytes with progress, confirms.
 * Resolves with the stored file (`duplicate: true` when the same file was already there).
 * A duplicate resolves with the confirm's answer as the server gives it: `id` is this upload's
 * own id, an alias of the stored file that opens it everywhere (the id onPending and an
 * error's fileId named), and `duplicate_of` the stored file's id, the one the library lists:
 * show `file.duplicate_of ?? file.id`. `athleteId` other than a whole number from 1 to
 * 2147483647 (or "", null, undefined: no athlete) rejects with invalid_input, status null,
 * before any request. `onPending(fileId)` is called once the server keeps the pending upload
 * (the presign answered): a page that stores the id goes on with resumeUpload after a reload.
 */
export async function uploadFile(file, {
  baseUrl, fileType, athleteId, isPublic = false, token, onProgress, onPending, description,
  stallTimeout,
} = {}) {
  needs("uploadFile", "fetch", "XMLHttpRequest");
  const url = base(baseUrl);
  const athlete = athleteId === undefined || athleteId === null || athleteId === ""
    ? null : athleteIdOf(athleteId);
  const media = await checkFile(file, { baseUrl: url, fileType, stallTimeout });
  const report = (sent) => onProgress && onProgress(Math.min(sent, file.size), file.size);
  const form = {
    // a Blob has no name: the server's own fallback, which it completes with the extension of
    // the bytes' type (unnamed.mov); a MIME subtype is no extension (upload.quicktime.mov)
    original_filename: file.name || "unnamed",
    file_type: media.kind,
    is_public: Boolean(isPublic),
    content_type: media.mime,
    size: file.size,
  };
  if (athlete !== null) form.athlete_id = athlete;
  // With the other fields: a description the server refuses (too long, not text) fails here,
  // before any byte is sent, and no second request can fail once the file is stored.
  if (description !== undefined && description !== null) form.description = description;
  // This upload's own name for its presign: sent again after a network error (its answer
  // lost after the server made the pending upload), the server answers that same upload.
  // Without it the retry made a second pending upload, whose URL went unused, listed until
  // its presign expired. An older server ignores the field.
  form.idempotency_key = randomKey();
  const grant = await request("POST", `${url}/files/upload/presigned`,
    { token, json: form, stallTimeout });
  try {
    // The server keeps a pending upload from now on. Said at once, not only on an error's
    // fileId: a page reloaded while the bytes still go (no error ever came) had no id to
    // resume with, and a new upload from 0 % left this one pending until its presign expired.
    if (onPending) onPending(grant.file_id);
    return await sendGranted(file, grant, {
      url, token, report, form, description, stallTimeout,
    });
  } catch (err) {
    // the pending upload the server keeps: resumeUpload(file, err.fileId, …) sends only
    // what it lacks, where a new uploadFile sent every byte again and left this one behind
    if (err instanceof MediaDeskError) err.fileId = grant.file_id;
    throw err;
  }
}

async function sendGranted(file, grant, {
  url, token, report, form, description, stallTimeout,
}) {
  let confirmBody;
  if (grant.parts && grant.parts.length) {
    // an upload in parts straight to the bucket: equal parts, the last one shorter
    const done = new Map();
    const etags = [];
    for (const part of grant.parts) {
      const start = (part.part_number - 1) * grant.part_size;
      const chunk = file.slice(start, start + grant.part_size);
      const answered = await put(part.url, chunk, {}, (sent) => {
        done.set(part.part_number, sent);
        report([...done.values()].reduce((a, b) => a + b, 0));
      }, originOf(part.url) === originOf(url), stallTimeout);
      etags.push({ part_number: part.part_number, etag: exposedHeader(answered, "ETag") });
    }
    confirmBody = etags.every((p) => p.etag) ? { parts: etags } : undefined;
  } else {
    const target = new URL(grant.upload_url, url).href;
    await put(target, file, grant.headers, report, originOf(target) === originOf(url),
      stallTimeout);
  }
  const stored = await request("POST", `${url}/files/${grant.file_id}/confirm-upload`,
    { token, json: confirmBody, stallTimeout });
  if ("description" in form && needsDescriptionEdit(grant, stored, form.description)) {
    // a server older than the presign's description field ignores it: edit it after
    return request("PATCH", `${url}/files/${stored.id}`,
      { token, json: { description }, stallTimeout });
  }
  return stored;
}

/**
 * Goes on with a pending presigned upload that failed or was left part-way (the `fileId` on
 * uploadFile's error, or the one its onPending was given before a reload): confirms it first
 * (the bytes may all be there already), and only when the server answers 400
 * upload_not_received asks it for fresh URLs (POST /files/{id}/upload/renew), sends the parts
 * the bucket still lacks (a single PUT: the file again) and confirms. Resolves with the stored
 * file as uploadFile does; a 409 or 410 from the server says the upload cannot be resumed
 * (upload the file anew).
 */
export async function resumeUpload(file, fileId, {
  baseUrl, token, onProgress, stallTimeout,
} = {}) {
  needs("resumeUpload", "fetch", "XMLHttpRequest");
  const url = base(baseUrl);
  const report = (sent) => onProgress && onProgress(Math.min(sent, file.size), file.size);
  const id = encodeURIComponent(idOf(fileId, "resumeUpload"));
  // A single PUT whose answer came but whose confirm did not (the link dropped between them,
  // a reload): the server holds every byte, and a renew and PUT sent the whole file again.
  // The server takes only a complete PUT (a cut one leaves nothing at the key) and checks
  // the size it was declared, so a confirm of a file not all there answers
  // upload_not_received; for parts in a bucket it names the missing ones, and the upload
  // stays resumable.
  try {
    return await request("POST", `${url}/files/${id}/confirm-upload`, { token, stallTimeout });
  } catch (err) {
    if (!(err instanceof MediaDeskError && err.code === "upload_not_received")) throw err;
  }
  const grant = await request("POST", `${url}/files/${id}/upload/renew`,
    { token, stallTimeout });
  if (grant.parts) {
    // the parts the bucket holds count as sent; the confirm lets the server list them all
    const size = (n) => Math.max(0, Math.min(grant.part_size, file.size - (n - 1) * grant.part_size));
    const held = file.size - grant.parts.reduce((sum, part) => sum + size(part.part_number), 0);
    const done = new Map();
    report(held);
    for (const part of grant.parts) {
      const start = (part.part_number - 1) * grant.part_size;
      await put(part.url, file.slice(start, start + grant.part_size), {}, (sent) => {
        done.set(part.part_number, sent);
        report(held + [...done.values()].reduce((a, b) => a + b, 0));
      }, originOf(part.url) === originOf(url), stallTimeout);
    }
  } else {
    const target = new URL(grant.upload_url, url).href;
    await put(target, file, grant.headers, report, originOf(target) === originOf(url),
      stallTimeout);
  }
  return request("POST", `${url}/files/${id}/confirm-upload`, { token, stallTimeout });
}

// Whether the server ignored the presign's description (one from before that field answers
// the pending file with ""): a server that took it answers it in NFC, the form it keeps text
// in, so an NFD name from macOS is no reason to send it again. Never after a duplicate: the
// confirm's id is then an alias of the stored file, and the edit rewrote its description.
function needsDescriptionEdit(grant, stored, description) {
  if (stored?.duplicate === true) return false;
  const answered = grant.file?.description;
  if (typeof answered !== "string") return true;
  return answered.normalize("NFC") !== String(description).normalize("NFC");
}

// A file as the server answers it (File, StreamInfo) or its id; the first has these links.
const isRecord = (file) => file !== null && typeof file === "object";
const isId = (id) => (typeof id === "number" && Number.isSafeInteger(id) && id > 0)
  || (typeof id === "string" && /^[1-9][0-9]*$/.test(id));
// The id of `file` for `what`'s URL, or a TypeError: an undefined or null id (a typo'd
// variable, a record without its id) went into the path as it was written
// ("/stream/undefined/video"), a URL that only failed later, at the server, as a 404.
function idOf(file, what) {
  const id = isRecord(file) ? file.file_id ?? file.id : file;
  if (isId(id)) return id;
  const given = isRecord(file) ? `a file with ${"file_id" in file ? "file_id" : "id"} `
    + `${String(id)}` : typeof file === "string" ? JSON.stringify(file) : String(file);
  throw new TypeError(`${what} needs a file id or the file as the server answered it, `
    + `not ${given}`);
}
const STREAM_KIND = { image: "image", video: "video" }; // other types: raw (server/presenters.py)

// The content tag (`v`) the server put on its own link to `path` in a file record, or null:
// taken from the link, not worked out here, so the module follows the server's rule of which
// links carry one (image and raw bytes do; a video's stream does not, its renditions come
// later) and of what the tag is.
function contentTag(record, path) {
  const links = [record.urls?.stream, record.urls?.raw, record.stream_url, record.raw_url];
  for (const link of links) {
    if (typeof link !== "string") continue;
    const url = new URL(link, "http://link.invalid");
    if (url.pathname === path) return url.searchParams.get("v");
  }
  return null;
}

/**
 * The URL a <video> or <img> plays: /stream/{id}/{kind}; token adds ?access_token=.
 * `file` is an id, or a file as the server answers it (uploadFile's result, GET /files/{id},
 * /stream/{id}/info): then kind defaults to the file's own and the URL carries the file's
 * content tag (?v=) where the server's links do, so browsers and CDNs may keep the bytes
 * for good (a URL without it is cached for five minutes only).
 * For HEAD, curl and downloads: a video's URL here is the bare /stream/{id}/video, which
 * follows the current version, so a player holding it while the video is processed can be
 * sent the faststart copy's bytes spliced onto the original's. Give players playbackUrl().
 */
export function streamUrl(file, { baseUrl, kind, token } = {}) {
  const own = isRecord(file) ? STREAM_KIND[file.file_type] || "raw" : "video";
  const path = `/stream/${encodeURIComponent(idOf(file, "streamUrl"))}/${kind || own}`;
  const tag = isRecord(file) ? contentTag(file, path) : null;
  const query = [];
  if (tag) query.push(`v=${encodeURIComponent(tag)}`);
  if (token) query.push(`access_token=${encodeURIComponent(token)}`);
  return `${base(baseUrl)}${path}${query.length ? `?${query.join("&")}` : ""}`;
}

/**
 * The URL a <video> (or any player) plays, asked from /stream/{id}/info with `token`: its
 * stream_url, which for a video names the version the server sends now (?rendition=…&v=…)
 * and keeps sending those bytes, so the player's later ranges cannot be answered from a copy
 * made meanwhile (404 once they are no longer kept: ask again, as a reload does). While a
 * video browsers cannot open (MPEG-TS, AVI, WMV) has its web copy made, stream_url is the bare
 * /stream/{id}/video, which answers 503 not_ready with Retry-After until that copy is there:
 * ask again then (the watch page does). A private
 * file's URL carries the file grant (exp=…&sig=…) the server signs for players, as its watch
 * link does: it opens only this file, until it expires, without the token in the URL.
 * /info puts it on stream_url itself; from a server that did so only for a video's other
 * links it is taken from watch_url, and a file it gave none for (not a video) gets
 * ?access_token= instead, as streamUrl's.
 * `file` is an id or a file as the server answers it. Resolves to a string.
 */
export async function playbackUrl(file, { baseUrl, token, stallTimeout } = {}) {
  const path = `/stream/${encodeURIComponent(idOf(file, "playbackUrl"))}/info`;
  const info = await request("GET", `${base(baseUrl)}${path}`, { token, stallTimeout });
  const url = `${base(baseUrl)}${info.stream_url}`;
  if (info.is_public || new URL(url, "http://link.invalid").searchParams.has("sig")) return url;
  let grant = new URL(info.watch_url || "/", "http://link.invalid").search.slice(1);
  // an older server signed a grant only for a video's other links
  if (!grant.includes("sig=")) grant = token ? `access_token=${encodeURIComponent(token)}` : "";
  return grant ? `${url}${url.includes("?") ? "&" : "?"}${grant}` : url;
}

/** The server's player page for a file (/watch/{id}: adaptive HLS when ready); `file` is an
 * id or a file as the server answers it. */
export function watchUrl(file, { baseUrl } = {}) {
  return `${base(baseUrl)}/watch/${encodeURIComponent(idOf(file, "watchUrl"))}`;
}

/**
 * A link to hand to someone else, from a file as the server answered it. A public file's is
 * its player page (video) or its stream URL, which need no token; a private file's is a
 * signed link asked from the server with `token` (read scope) — the watch page for a video,
 * the download otherwise — that works without a token until it expires (`expiresIn`
 * seconds; the server's default and bounds apply). Never a URL with the token in it.
 */
export async function shareUrl(file, { baseUrl, token, expiresIn, stallTimeout } = {}) {
  if (!isRecord(file)) throw new TypeError("shareUrl needs the file as the server answered it");
  const id = idOf(file, "shareUrl");
  const video = file.file_type === "video";
  if (file.is_public) return video ? watchUrl(file, { baseUrl }) : streamUrl(file, { baseUrl });
  const query = new URLSearchParams();
  if (video) query.set("kind", "watch");
  if (expiresIn) query.set("expires_in", String(expiresIn));
  const path = `/files/${encodeURIComponent(id)}/presigned-url`;
  const signed = await request("GET", `${base(baseUrl)}${path}?${query}`, { token, stallTimeout });
  return signed.url;
}

