"""Generated sports scenes (Pillow stills, PyAV clips) for the screenshot library and demos."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFilter

Size = tuple[int, int]
Scene = Callable[[ImageDraw.ImageDraw, Size, float], None]


def _athlete(
    draw: ImageDraw.ImageDraw, x: float, y: float, h: float, color: str, phase: float = 0.0
) -> None:
    """A running figure: head, body, swinging arms and legs."""
    head = h * 0.12
    draw.ellipse([x - head, y - h, x + head, y - h + 2 * head], fill="#5b3a29")
    hip = (x, y - h * 0.42)
    neck = (x, y - h + 2 * head)
    draw.line([neck, hip], fill=color, width=int(h * 0.11))
    swing = math.sin(phase) * h * 0.22
    for sign in (1, -1):
        draw.line([hip, (x + sign * swing, y)], fill="#2b2b2b", width=int(h * 0.07))
        draw.line(
            [(x, y - h * 0.72), (x - sign * swing, y - h * 0.45)], fill=color, width=int(h * 0.06)
        )


def track(draw: ImageDraw.ImageDraw, size: Size, t: float) -> None:
    w, h = size
    draw.rectangle([0, 0, w, h * 0.35], fill="#8fc3ea")
    draw.rectangle([0, h * 0.35, w, h], fill="#b5452f")
    for lane in range(1, 8):
        y = h * 0.35 + lane * h * 0.09
        draw.line([(0, y), (w, y + h * 0.04)], fill="#f4efe6", width=max(2, w // 400))
    draw.rectangle([0, h * 0.3, w, h * 0.36], fill="#3f8f45")
    for i, color in enumerate(("#1e5bd6", "#f2c400", "#e03a3a")):
        x = (w * (0.2 + 0.25 * i) + t * w * 0.35) % (w * 1.1)
        _athlete(draw, x, h * (0.62 + 0.11 * i), h * 0.32, color, t * 9 + i)


def pitch(draw: ImageDraw.ImageDraw, size: Size, t: float) -> None:
    w, h = size
    for i in range(10):
        draw.rectangle([i * w / 10, 0, (i + 1) * w / 10, h], fill="#3d9b47" if i % 2 else "#358a3f")
    line = max(2, w // 300)
    draw.rectangle([w * 0.04, h * 0.08, w * 0.96, h * 0.92], outline="white", width=line)
    draw.line([(w / 2, h * 0.08), (w / 2, h * 0.92)], fill="white", width=line)
    r = h * 0.16
    draw.ellipse([w / 2 - r, h / 2 - r, w / 2 + r, h / 2 + r], outline="white", width=line)
    draw.rectangle([w * 0.04, h * 0.3, w * 0.16, h * 0.7], outline="white", width=line)
    ball_x = w * (0.3 + 0.4 * ((t * 0.4) % 1))
    draw.ellipse(
        [ball_x - h * 0.025, h * 0.55, ball_x + h * 0.025, h * 0.6], fill="white", outline="#222222"
    )
    _athlete(draw, ball_x - h * 0.08, h * 0.62, h * 0.3, "#d62828", t * 8)
    _athlete(draw, w * 0.7, h * 0.5, h * 0.28, "#1d4ed8", t * 7 + 1)


def pool(draw: ImageDraw.ImageDraw, size: Size, t: float) -> None:
    w, h = size
    draw.rectangle([0, 0, w, h], fill="#1f8fd1")
    for lane in range(1, 8):
        y = lane * h / 8
        for x in range(0, w, max(8, w // 60)):
            color = "#e63946" if (x // max(8, w // 60)) % 4 == 0 else "#ffffff"
            draw.ellipse([x, y - h * 0.01, x + w // 80, y + h * 0.01], fill=color)
    for i in range(3):
        px = (w * 0.1 + t * w * 0.25 + i * w * 0.12) % w
        py = (2 * i + 1.5) * h / 8
        draw.ellipse([px - h * 0.03, py - h * 0.03, px + h * 0.03, py + h * 0.03], fill="#f4a261")
        draw.line([(px - h * 0.2, py), (px - h * 0.03, py)], fill="#e9f5ff", width=max(3, h // 60))


def court(draw: ImageDraw.ImageDraw, size: Size, t: float) -> None:
    w, h = size
    for i in range(14):
        draw.rectangle([i * w / 14, 0, (i + 1) * w / 14, h], fill="#d99a5b" if i % 2 else "#cf8d4e")
    line = max(2, w // 300)
    draw.rectangle(
        [w * 0.36, h * 0.05, w * 0.64, h * 0.55], outline="white", width=line, fill="#c2410c"
    )
    draw.arc([w * 0.2, -h * 0.5, w * 0.8, h * 0.95], 20, 160, fill="white", width=line)
    draw.ellipse([w * 0.47, h * 0.03, w * 0.53, h * 0.1], outline="#ff6b00", width=line)
    by = h * (0.2 + 0.25 * abs(math.sin(t * 3)))
    draw.ellipse([w * 0.56, by, w * 0.6, by + w * 0.04], fill="#e76f2e", outline="#222222")
    _athlete(draw, w * 0.55, h * 0.9, h * 0.45, "#6d28d9", t * 5)


def podium(draw: ImageDraw.ImageDraw, size: Size, t: float) -> None:
    w, h = size
    draw.rectangle([0, 0, w, h], fill="#1d3557")
    for i, (place, height, color) in enumerate(
        ((2, 0.28, "#c0c0c0"), (1, 0.4, "#f2c400"), (3, 0.2, "#cd7f32"))
    ):
        x0, x1 = w * (0.2 + 0.2 * i), w * (0.4 + 0.2 * i)
        draw.rectangle([x0, h * (1 - height), x1, h], fill="#f1faee")
        draw.text(((x0 + x1) / 2 - 6, h * (1 - height) + 10), str(place), fill="#1d3557")
        _athlete(draw, (x0 + x1) / 2, h * (1 - height), h * 0.3, color)
    rng = random.Random(7)
    for _ in range(60):
        x, y = rng.random() * w, rng.random() * h * 0.5
        draw.ellipse([x, y, x + 3, y + 3], fill=rng.choice(["#ffd166", "#ef476f", "#06d6a0"]))


SCENES: dict[str, Scene] = {
    "track": track,
    "pitch": pitch,
    "pool": pool,
    "court": court,
    "podium": podium,
}


def render(scene: str, size: Size, t: float = 0.0, grain: float = 0.0) -> Image.Image:
    image = Image.new("RGB", size, "black")
    SCENES[scene](ImageDraw.Draw(image), size, t)
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    if grain:
        noise = Image.effect_noise(size, 64).convert("RGB")
        image = Image.blend(image, noise, grain)
    return image


def make_photo(
    path: Path, scene: str, size: Size = (1600, 1067), t: float = 0.0, grain: float = 0.0
) -> Path:
    image = render(scene, size, t, grain)
    if path.suffix.lower() == ".png":
        image.save(path, "PNG")
    else:
        image.save(path, "JPEG", quality=88)
    return path


def make_clip(
    path: Path, scene: str, seconds: float = 4.0, size: Size = (640, 360), fps: int = 25
) -> Path:
    """An H.264/AAC MP4 (faststart) of a moving scene with a quiet tone."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "veryfast"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_image(render(scene, size, i / fps))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        done, total = 0, int(seconds * 48000)
        while done < total:
            n = min(1024, total - done)
            chunk = av.AudioFrame(format="s16", layout="mono", samples=n)
            chunk.planes[0].update(bytes(2 * n))
            chunk.sample_rate, chunk.pts, chunk.time_base = 48000, done, Fraction(1, 48000)
            out.mux(audio.encode(chunk))
            done += n
        out.mux(audio.encode(None))
    return path
