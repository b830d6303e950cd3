"""Peak memory of one worst request, each in a fresh process (ru_maxrss after minus before):
an upload just under the pixel limit in each accepted format, and the personal-data export
of a heavy user. Writes nothing; prints a table for docs/RELIABILITY.md.

    .venv/bin/python tests/bench/peak_memory.py
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _image(fmt: str, pixels: int) -> bytes:
    """A picture just under the pixel limit that compresses to a small file: a flat colour
    with a gradient band (the worst case: a small upload, a large decode)."""
    from PIL import Image, ImageDraw

    width = int((pixels * 4 / 3) ** 0.5)
    height = pixels // width
    img = Image.new("RGBA" if fmt == "PNG" else "RGB", (width, height), (40, 120, 200, 255)[: 4 if fmt == "PNG" else 3])
    draw = ImageDraw.Draw(img)
    for x in range(0, width, 64):
        draw.line([(x, 0), (x, height // 8)], fill=(x % 256, 80, 160))
    out = io.BytesIO()
    img.save(out, fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {"compress_level": 9}))
    return out.getvalue()


def upload(path: str) -> dict:
    from server.media.processing import process_image

    with open(path, "rb") as fh:
        raw = fh.read()
    before = _rss_mib()
    try:
        result = process_image(raw)
        outcome = f"stored {result.width}x{result.height}"
    except Exception as exc:  # noqa: BLE001  (a refusal is a result too)
        outcome = f"refused: {getattr(exc, 'code', type(exc).__name__)}"
    return {"outcome": outcome, "peak_mib": round(_rss_mib() - before, 1), "before": round(before, 1)}


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(upload(sys.argv[1])))
        return
    from server.media.processing import MAX_PIXELS, MAX_PIXELS_WHOLE_DECODE

    print("| request | outcome | peak memory above the process before it (MiB) |\n|---|---|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("JPEG", MAX_PIXELS), ("PNG", MAX_PIXELS_WHOLE_DECODE["PNG"]), ("WEBP", MAX_PIXELS_WHOLE_DECODE["WEBP"]),
                 ("PNG", MAX_PIXELS), ("WEBP", MAX_PIXELS)]
        for fmt, limit in cases:
            raw = _image(fmt, limit - 10_000)
            path = os.path.join(tmp, f"worst.{fmt.lower()}")
            with open(path, "wb") as fh:
                fh.write(raw)
            out = subprocess.run([sys.executable, __file__, path], capture_output=True, text=True, cwd=ROOT, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| upload: {fmt}, {limit // 1_000_000} MP less 10,000 pixels, {len(raw) // 1024} KiB | "
                  f"{row['outcome']} | {row['peak_mib']} (process {row['before']} before) |")


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
