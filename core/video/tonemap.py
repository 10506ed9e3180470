"""HDR10 (PQ, SMPTE ST 2084, BT.2020) to SDR BT.709 as a 3D look-up table for FFmpeg's lut3d.

Why a table of our own: PyAV's wheels carry no zimg (so no zscale/tonemap chain), and FFmpeg
8's swscale tone mapping builds its perceptual curve again for every filter graph, 6 s of CPU
each (an upload's thumbnail, every rung, the sprite, each poster: a one-second clip cost 30 s),
and without mastering metadata it assumed a peak far above a phone's, so clips came out dim.
lut3d is in every FFmpeg build; the table is made once per process in well under a second, and
applying it costs about what the plain BT.2020 conversion did.

The curve: PQ's light in nits, BT.2020's primaries to BT.709's in linear light (BT.2087),
then light counted in BT.2408's HDR reference white (203 nits) and compressed by extended
Reinhard on the largest of R, G and B, whose white point is PEAK_NITS: the peak and above
become white, reference white about 72 % of the signal (a light grey, as diffuse white sits
below the highlights in SDR grading), and a colour keeps its hue instead of washing towards
white; then BT.709's transfer. The peak is fixed rather than read from each clip's mastering
display: phones often write none, and 1,000 nits is what BT.2408 and players assume then."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

# SMPTE ST 2084's constants
_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
REFERENCE_WHITE_NITS = 203.0  # BT.2408: shown as SDR's white level
PEAK_NITS = 1000.0
LUT_SIZE = 33  # points per axis, as graders' tables; tetrahedral interpolation between them
# BT.2020 to BT.709 primaries, linear light (BT.2087); out-of-gamut results are clipped at 0
_TO_709 = (
    (1.6605, -0.5876, -0.0728),
    (-0.1246, 1.1329, -0.0083),
    (-0.0182, -0.1006, 1.1187),
)


def pq_nits(signal: float) -> float:
    """The light (cd/m²) a PQ signal value in 0–1 stands for (ST 2084's EOTF)."""
    p = signal ** (1 / _M2)
    return 10000 * (max(p - _C1, 0.0) / (_C2 - _C3 * p)) ** (1 / _M1)


def cube_text(size: int = LUT_SIZE, peak: float = PEAK_NITS) -> str:
    """The table in the .cube format lut3d reads: BT.2020 PQ R'G'B' in, BT.709 R'G'B' out."""
    white2 = (peak / REFERENCE_WHITE_NITS) ** 2
    (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = _TO_709
    light = [pq_nits(i / (size - 1)) / REFERENCE_WHITE_NITS for i in range(size)]
    out = [f'TITLE "MediaDesk PQ to SDR BT.709"\nLUT_3D_SIZE {size}\n']
    line = "%.5f %.5f %.5f\n"
    # red varies fastest, as .cube wants; written out by hand: 36k points in pure Python
    for b in light:
        for g in light:
            gb_r, gb_g, gb_b = a1 * g + a2 * b, b1 * g + b2 * b, c1 * g + c2 * b
            for r in light:
                x, y, z = a0 * r + gb_r, b0 * r + gb_g, c0 * r + gb_b
                x, y, z = max(x, 0.0), max(y, 0.0), max(z, 0.0)
                m = max(x, y, z)
                if m > 0:
                    k = min((1 + m / white2) / (1 + m), 1 / m)
                    x, y, z = x * k, y * k, z * k
                out.append(line % (_bt709(x), _bt709(y), _bt709(z)))
    return "".join(out)


def _bt709(v: float) -> float:
    return 4.5 * v if v < 0.018 else 1.099 * v**0.45 - 0.099


@functools.cache
def cube_file() -> Path:
    """The table written once per process, in a folder of its own (0700: the path goes into
    a filter's arguments, and a shared, guessable name could be swapped under it), removed at
    exit."""
    folder = Path(tempfile.mkdtemp(prefix="mediadesk-tonemap-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "pq-to-sdr.cube"
    with open(path, "w", encoding="ascii") as f:
        f.write(cube_text())
        f.flush()
        os.fsync(f.fileno())
    return path


def filter_arg(path: Path) -> str:
    """`path` as one libavfilter option value: its separators and quotes escaped."""
    text = str(path)
    for char in "\\':":
        text = text.replace(char, "\\" + char)
    return text


def table_file() -> Path:
    """cube_file(), written again when it is gone (a cleaner of temporary files)."""
    path = cube_file()
    if not path.is_file():
        cube_file.cache_clear()
        path = cube_file()
    return path


def lut_chain() -> list[str]:
    """The filters that tone-map a PQ frame to SDR BT.709 in limited range (yuv420p out): to
    R'G'B' with BT.2020's matrix, through the table, tagged BT.709 so no later scaler converts
    it again, then BT.709's matrix."""
    return [
        "scale=in_color_matrix=bt2020:in_range=tv",
        "format=gbrp16le",
        f"lut3d=file={filter_arg(table_file())}:interp=tetrahedral",
        "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709",
        "scale=out_color_matrix=bt709:out_range=tv",
        "format=yuv420p",
    ]
