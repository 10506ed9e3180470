"""An HLS rung starts at the original's first picture in hls.js, whatever the frame rate.

libx264 decodes B-frames 2 frames before it shows them; in a transport stream (no edit list)
the muxer moved the whole stream 2 frames later to keep the decoding times from going below 0,
and hls.js starts its clock at the first decoding time: every picture came 2 frames late, a
2 fps time-lapse's by 1 s (hls.js said 11 s for a 10 s clip, no picture for its first second).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from core.video import encode
from tests.browser import Tab, chromium_path
from tests.video_helpers import ffmpeg_clip, no_progress

STATIC = Path(__file__).resolve().parent.parent / "server" / "static"


def _timelapse(path: Path) -> Path:
    """10 s at 2 fps, with libx264's B-frames and no sound (a time-lapse, a sideline camera)."""
    return ffmpeg_clip(
        path,
        *["-f", "lavfi", "-i", "testsrc2=s=320x180:r=2:d=10"],
        *["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"],
    )


def _starts(path: Path) -> tuple[float, float, list[float]]:
    """The first decoding time, the first sound's time (0 without sound) and the pictures'
    times, as a player reads them from the stream (a transport stream's own clock)."""
    with av.open(str(path)) as c:
        first = next(c.demux(c.streams.video[0]))
        assert first.dts is not None and first.time_base is not None
        decoded = float(first.dts * first.time_base)
    with av.open(str(path)) as c:
        pictures = [float(f.time) for f in c.decode(c.streams.video[0]) if f.time is not None]
    sound = 0.0
    with av.open(str(path)) as c:
        if c.streams.audio:
            sound = float(next(f.time for f in c.decode(c.streams.audio[0])))
    return decoded, sound, pictures


@pytest.mark.parametrize("fps", [2, 25])
def test_the_rung_is_decoded_from_its_first_picture(tmp_path: Path, fps: int) -> None:
    if fps == 2:
        clip = _timelapse(tmp_path / "timelapse.mp4")
    else:  # with sound: both start at 0 as in the original
        clip = ffmpeg_clip(
            tmp_path / "match.mp4",
            *["-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3"],
            *["-f", "lavfi", "-i", "sine=sample_rate=48000:d=3"],
            *["-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-pix_fmt", "yuv420p"],
            *["-c:a", "aac"],
        )
    with av.open(str(clip)) as c:
        source = [float(f.time) for f in c.decode(c.streams.video[0])]
    encode.hls_ladder(clip, tmp_path / "hls", [180], 4, no_progress)
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    decoded, sound, pictures = _starts(tmp_path / "hls" / "180" / "index.m3u8")
    assert decoded == 0.0 and sound == 0.0, (decoded, sound)
    assert [round(t, 3) for t in pictures] == [round(t, 3) for t in source], pictures[:4]
    with av.open(str(tmp_path / "web.mp4")) as c:  # an MP4's edit list already hid it
        web = [float(f.time) for f in c.decode(c.streams.video[0])]
    assert [round(t, 3) for t in web] == [round(t, 3) for t in source], web[:4]


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A folder served over loopback HTTP, holding the watch page's own hls.js."""
    shutil.copy(STATIC / "hls.min.js", tmp_path / "hls.min.js")
    (tmp_path / "index.html").write_text('<html><script src="hls.min.js"></script></html>')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


BUFFER_ALL = """
new Promise((resolve) => {
  const v = document.createElement('video');
  v.muted = true;
  document.body.appendChild(v);
  const hls = new Hls();
  const done = () => resolve({
    ranges: Array.from({length: v.buffered.length}, (_, i) => [v.buffered.start(i),
                                                               v.buffered.end(i)]),
    duration: v.duration});
  const timer = setTimeout(done, 20000);
  hls.on(Hls.Events.BUFFER_EOS, () => { clearTimeout(timer); setTimeout(done, 200); });
  hls.on(Hls.Events.ERROR, (_, e) => { if (e.fatal) resolve({error: e.details}); });
  hls.loadSource('hls/180/index.m3u8');
  hls.attachMedia(v);
})
"""


@pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")
async def test_hlsjs_shows_a_timelapse_from_0_for_its_length(
    static_site: tuple[str, Path],
) -> None:
    url, folder = static_site
    clip = _timelapse(folder / "timelapse.mp4")
    encode.hls_ladder(clip, folder / "hls", [180], 4, no_progress)
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{url}/index.html")
        got = await browser.evaluate(BUFFER_ALL)
    assert "error" not in got and got["ranges"], got
    (start, end), *_ = got["ranges"]
    # the first picture at 0 and the last shown until 10 s, as the original
    assert abs(start) < 0.05 and abs(end - 10.0) < 0.1, got
    assert abs(got["duration"] - 10.0) < 0.1, got


def test_a_rung_whose_pictures_start_late_is_decoded_from_its_first_picture(
    tmp_path: Path,
) -> None:
    """An MP4 whose timeline starts at 5 s (a clip cut by an editor that keeps its times): the
    rung's first decoding time stayed 2 frames before its first picture (the clamp was to 0),
    and hls.js, whose clock starts there, showed every picture 2 frames late."""
    clip = ffmpeg_clip(
        tmp_path / "cut.mp4",
        *["-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2"],
        *["-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-pix_fmt", "yuv420p"],
        *["-output_ts_offset", "5"],
    )
    with av.open(str(clip)) as c:
        source = [float(f.time) for f in c.decode(c.streams.video[0])]
    assert abs(source[0] - 5.0) < 0.01, source[:2]
    encode.hls_ladder(clip, tmp_path / "hls", [90], 4, no_progress)
    decoded, _, pictures = _starts(tmp_path / "hls" / "90" / "index.m3u8")
    assert [round(t, 3) for t in pictures] == [round(t, 3) for t in source], pictures[:4]
    assert abs(decoded - pictures[0]) < 0.001, (decoded, pictures[0])


@pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")
async def test_hlsjs_plays_a_short_slow_clip_to_its_end(static_site: tuple[str, Path]) -> None:
    """5 s at 1 fps (a slideshow) and 2.5 s at 2 fps: hls.js played them 4.5 s and 2.125 s
    (ffprobe and the playlist said 5.0 and 2.5). hls.js gives each picture the time to the next
    decoding time, and the B-frames' decoding times squeezed in after the first picture made
    the last picture's short. With so few pictures a segment, the rung has no B-frames."""
    url, folder = static_site
    clips = {"one": (1, 5.0), "two": (2, 2.5)}  # name: (fps, length)
    for name, (fps, length) in clips.items():
        clip = ffmpeg_clip(
            folder / f"{name}.mp4",
            *["-f", "lavfi", "-i", f"testsrc=size=320x240:rate={fps}"],
            *["-t", str(length), "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        )
        encode.hls_ladder(clip, folder / name, [180], 4, no_progress)
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{url}/index.html")
        for name, (_, length) in clips.items():
            got = await browser.evaluate(BUFFER_ALL.replace("hls/180", f"{name}/180"))
            assert "error" not in got and abs(got["duration"] - length) < 0.01, (name, got)
