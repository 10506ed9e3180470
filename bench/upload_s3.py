"""Benchmark: ingesting a video into S3 through MediaDesk against a raw boto3 upload_file.

Both write to the same moto S3 server on loopback. MediaDesk also hashes, validates and makes a
poster frame, so the ratio shows what that costs. The two take turns going first each round
(bench/_common.taking_turns). Run `.venv/bin/python bench/upload_s3.py`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import dev_packages, exit_on_sigterm, run_main, taking_turns  # noqa: E402
from core.library import Library  # noqa: E402
from core.settings import load_settings  # noqa: E402

with dev_packages():
    from moto.server import ThreadedMotoServer  # noqa: E402


def make_noise_mp4(path: Path, frames: int, size: tuple[int, int] = (640, 360)) -> Path:
    """A large valid H.264 MP4 (noise does not compress), so the upload dominates."""
    import av
    from PIL import Image

    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0"}
        for i in range(frames):
            image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=96, help="frames of 640x360 noise")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    exit_on_sigterm()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"  # noqa: SLF001
    try:
        with tempfile.TemporaryDirectory() as tmp:
            video = make_noise_mp4(Path(tmp) / "clip.mp4", args.frames)
            size = video.stat().st_size
            client = boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                config=Config(
                    signature_version="s3v4", request_checksum_calculation="when_required"
                ),
            )
            client.create_bucket(Bucket="bench")
            settings = load_settings(
                environ={},
                config_file=Path(tmp) / "none.toml",
                data_dir=str(Path(tmp) / "data"),
                r2_endpoint_url=endpoint,
                r2_bucket_name="bench",
                r2_access_key_id="testing",
                r2_secret_access_key="testing",
                r2_region="us-east-1",
            )
            lib = Library.open(settings)
            made_raw, made = iter(range(args.rounds)), iter(range(args.rounds))

            def raw_upload() -> float:
                i = next(made_raw)
                start = time.perf_counter()
                client.upload_file(
                    str(video), "bench", f"raw/{i}.mp4", ExtraArgs={"ContentType": "video/mp4"}
                )
                return time.perf_counter() - start

            def ingest() -> float:
                i = next(made)
                copy = Path(tmp) / f"clip{i}.mp4"
                copy.write_bytes(video.read_bytes() + bytes([i]))  # a new SHA-256 each round
                start = time.perf_counter()
                lib.uploads.ingest(copy, "video")
                return time.perf_counter() - start

            # taking turns: the side always run first met another load than the second
            raw, ours = taking_turns(raw_upload, ingest, args.rounds)
            lib.close()
    finally:
        server.stop()
    best_raw, best_ours = min(raw), min(ours)
    mb = size / 1e6
    print(f"{mb:.1f} MB H.264 MP4 into moto S3, best of {args.rounds} rounds taking turns")
    print(f"  raw boto3 upload_file : {best_raw * 1000:8.0f} ms  ({mb / best_raw:6.1f} MB/s)")
    print(f"  MediaDesk ingest      : {best_ours * 1000:8.0f} ms  ({mb / best_ours:6.1f} MB/s)")
    print(f"  ratio                 : {best_ours / best_raw:8.2f}x the time of raw boto3")


if __name__ == "__main__":
    run_main(main)
