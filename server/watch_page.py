"""The watch page's parts besides its route: filling its template, and the page a browser gets
in place of a /watch error (server/routes/watch.py; its OpenAPI text is built from these)."""

from __future__ import annotations

import html
import re

from aiohttp import web

from server.errors import ERROR_CODE
from server.state import REQUEST_ID
from server.static_files import static_file

_PLACEHOLDER = re.compile(r"__[A-Z]+__")


def fill_page(template: str, values: dict[str, str]) -> str:
    """The template with each placeholder replaced in one pass: a value is never scanned again,
    so a file name holding `__CONFIG__` is shown as such (chained replaces pasted the player's
    config into the title). A placeholder-like text the page does not fill stays as it is."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(0), m.group(0)), template)


# What the error page says, by case and language: a parent on a phone, not a developer.
PAGE_LANGUAGES = ("en", "es")
ERROR_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Video not available",
        "reference": "Reference",
        "expired": "This link has expired. Ask the person who sent it for a new one.",
        "invalid": "This link is not valid. Check that it was copied whole, or ask for a new one.",
        "gone": "This video is no longer available.",
        "needs_link": "This video opens only with the link that was shared for it; ask for it.",
        "unavailable": "This video cannot be shown right now. Try again later.",
    },
    "es": {
        "title": "Vídeo no disponible",
        "reference": "Referencia",
        "expired": "Este enlace ha caducado. Pide uno nuevo a quien te lo envió.",
        "invalid": "Este enlace no es válido. Comprueba que se copió entero o pide uno nuevo.",
        "gone": "Este vídeo ya no está disponible.",
        "needs_link": "Este vídeo solo se abre con el enlace que se compartió para verlo; pídelo.",
        "unavailable": "Este vídeo no se puede mostrar ahora. Inténtalo más tarde.",
    },
}
# The player's own words (its buttons' accessible names, its notices), in the page's language
PLAYER_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "play": "Play",
        "pause": "Pause",
        "seek": "Seek",
        "mute": "Mute",
        "unmute": "Unmute",
        "fullscreen": "Full screen",
        "exit_fullscreen": "Exit full screen",
        "preparing": "This video is still being prepared… It will play here as soon as it is "
        "ready.",
        "unplayable": "This browser cannot play this video.",
    },
    "es": {
        "play": "Reproducir",
        "pause": "Pausa",
        # a position slider, not "Buscar" (to search)
        "seek": "Posición",
        "mute": "Silenciar",
        "unmute": "Activar sonido",
        "fullscreen": "Pantalla completa",
        "exit_fullscreen": "Salir de pantalla completa",
        "preparing": "Este vídeo aún se está preparando… Se reproducirá aquí en cuanto esté listo.",
        "unplayable": "Este navegador no puede reproducir este vídeo.",
    },
}
# The player says why a video stopped loading with the error page's own sentences
for _lang in PAGE_LANGUAGES:
    PLAYER_TEXT[_lang].update(
        {
            case: ERROR_TEXT[_lang][case]
            for case in ERROR_TEXT[_lang]
            if case not in ("title", "reference")
        }
    )
# The answer depends on both: a cache must not hand the JSON to a browser, or English to Spanish
_VARY = "Accept, Accept-Language"
_OWN_HEADERS = ("content-type", "content-length")


def _quality(params: str) -> float:
    """The q of a header item's parameters (1 when absent, 0 when unreadable or out of range)."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0  # NaN included
    return 1.0


def prefers_html(accept: str) -> bool:
    """Whether Accept ranks text/html above application/json, each by its most specific range:
    a browser opening the link (`text/html,…,*/*;q=0.8`), not an API client (JSON, `*/*`
    alone or no Accept at all, which keep the JSON error)."""
    best: dict[str, tuple[int, float]] = {}
    for item in accept.split(","):
        media, _, params = item.partition(";")
        media = media.strip().lower()
        for wanted in ("text/html", "application/json"):
            fit = {wanted: 2, wanted.split("/")[0] + "/*": 1, "*/*": 0}.get(media)
            if fit is not None and fit >= best.get(wanted, (-1, 0.0))[0]:
                best[wanted] = (fit, _quality(params))
    html_q = best.get("text/html", (0, 0.0))[1]
    return html_q > 0 and html_q > best.get("application/json", (0, 0.0))[1]


def page_language(accept_language: str) -> str:
    """The page's language: of those it has, the one Accept-Language ranks first (English when
    it names none)."""
    ranked = []
    for order, item in enumerate(accept_language.split(",")):
        tag, _, params = item.partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = _quality(params)
        if primary in PAGE_LANGUAGES and q > 0:
            ranked.append((-q, order, primary))
    return min(ranked)[2] if ranked else PAGE_LANGUAGES[0]


# Which sentence of ERROR_TEXT an error answer gets: the first rule its code or status matches,
# else "unavailable" (too many tries, the server or its storage out: it may open later). Data,
# so that the player (server/static/watch.html) says the same of an answer it meets itself.
ERROR_CASES: tuple[tuple[str, str | int, str], ...] = (
    ("code", "signature_expired", "expired"),
    ("code", "invalid_signature", "invalid"),
    ("status", 400, "invalid"),
    ("status", 401, "needs_link"),
    ("code", "insufficient_scope", "needs_link"),
    ("status", 404, "gone"),
    ("status", 410, "gone"),
)


def error_case(status: int, code: str) -> str:
    """Which sentence of ERROR_TEXT an error answer gets (ERROR_CASES)."""
    for field, value, case in ERROR_CASES:
        if (code if field == "code" else status) == value:
            return case
    return "unavailable"


def error_page(request: web.Request, answer: web.Response) -> web.Response:
    """The error of a watch link as a page for a browser, same status; JSON for API clients."""
    answer.headers["Vary"] = _VARY
    if not prefers_html(request.headers.get("Accept", "")):
        return answer
    lang = page_language(request.headers.get("Accept-Language", ""))
    text = ERROR_TEXT[lang]
    rid = request.get(REQUEST_ID, "")
    page = fill_page(
        static_file("watch_error.html").decode("utf-8"),
        {
            "__LANG__": lang,
            "__TITLE__": html.escape(text["title"]),
            "__MESSAGE__": html.escape(text[error_case(answer.status, answer.get(ERROR_CODE, ""))]),
            "__REFERENCE__": html.escape(f"{text['reference']}: {rid}" if rid else ""),
        },
    )
    # the JSON answer's own headers (WWW-Authenticate, Retry-After) stay
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _OWN_HEADERS}
    headers.update(
        {
            "Cache-Control": "no-store",
            # embeddable as the player page is; it loads nothing, runs nothing
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "frame-ancestors *",
            "Referrer-Policy": "no-referrer",
        }
    )
    return web.Response(
        status=answer.status, text=page, content_type="text/html", charset="utf-8", headers=headers
    )
