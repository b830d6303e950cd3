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


HEAVY_PHOTOS = 300


def export(tmp: str) -> dict:
    """GET /me/export of a resident with HEAVY_PHOTOS reports, each with a 1 MiB photo."""
    import sqlalchemy as sa

    from server import create_app
    from server.config import TestConfig
    from server.demo import seed_demo
    from server.extensions import db
    from server.media.models import Media
    from server.media.operations import storage
    from tests.api.helpers import IN_HQ_1_1, report
    from tests.conftest import agree

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/export.sqlite3"
    config.MEDIA_ROOT = f"{tmp}/media"
    app = create_app(config)
    client = app.test_client()
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        headers = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={"code": "dev:heavy"}).json["token"]}
        agree(client, headers)
        user_id = client.get("/api/v1/me", headers=headers).json["id"]
        blob = os.urandom(1024 * 1024)
        for i in range(HEAVY_PHOTOS):
            key = f"2026/12/{i:02x}/{i:064x}.jpg"
            storage().save(key, blob, "image/jpeg")
            db.session.add(Media(owner_id=user_id, key=key, thumb_key=key, content_type="image/jpeg", width=1, height=1,
                                 size=len(blob), sha256=f"{i:064x}"))
            db.session.commit()
            media_id = db.session.execute(sa.select(sa.func.max(Media.id))).scalar()
            assert report(client, headers, IN_HQ_1_1, description=f"第{i}个", media=[media_id]).status_code == 201
        before = _rss_mib()
        res = client.get("/api/v1/me/export", headers=headers)
        peak = _rss_mib() - before
    return {"outcome": f"{res.status_code}, {len(res.data) // 1024} KiB", "peak_mib": round(peak, 1),
            "before": round(before, 1)}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "export":
        print(json.dumps(export(sys.argv[2])))
        return
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
        out = subprocess.run([sys.executable, __file__, "export", tmp], capture_output=True, text=True, cwd=ROOT,
                             check=True, env={**os.environ, "RATELIMIT_ENABLED": "0"})
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| GET /me/export: a resident with {HEAVY_PHOTOS} reports, each with a 1 MiB photo | {row['outcome']} | "
              f"{row['peak_mib']} (process {row['before']} before) |")


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
