"""Upload attacks through POST /api/v1/media: each refused with a 4xx, nothing stored."""
import io
import struct
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image

from server.extensions import db
from server.media.models import Media
from tests.api.helpers import get_photo, jpeg_bytes, upload


def _png_header_only(width, height):
    """A tiny file whose header claims a huge image (a decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


ATTACKS = {
    "php named .jpg": (b"<?php system($_GET['c']); ?>", "shell.jpg", 415),
    "truncated jpeg": (jpeg_bytes(size=(400, 300))[:600], "cut.jpg", 422),
    "20000x20000 bomb": (_png_header_only(20000, 20000), "bomb.png", 422),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg", 415),
    "30 MB": (b"\xff\xd8\xff" + b"0" * (30 * 1024 * 1024), "big.jpg", 413),
    "empty": (b"", "empty.jpg", 422),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_upload_attacks_are_refused(client, login, name, media_store):
    data, filename, status = ATTACKS[name]
    res = upload(client, login("attacker"), data, filename)
    assert res.status_code == status, res.json
    assert res.json["errors"]["detail"]
    assert db.session.execute(sa.select(sa.func.count(Media.id))).scalar_one() == 0
    assert media_store.keys() == []


def test_upload_strips_gps_and_serves_a_thumbnail(client, login, media_store):
    img = Image.new("RGB", (800, 600), (10, 120, 200))
    exif = Image.Exif()
    exif[0x8825] = {2: (30.0, 34.0, 12.0), 1: "N"}  # GPSInfo
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    assert b"Exif" in buf.getvalue()
    res = upload(client, login("resident"), buf.getvalue())
    assert res.status_code == 201
    stored = get_photo(client, res.json["url"])
    assert stored.status_code == 200 and stored.content_type == "image/jpeg"
    assert b"Exif" not in stored.data and not Image.open(io.BytesIO(stored.data)).getexif()
    thumb = Image.open(io.BytesIO(get_photo(client, res.json["thumbnail_url"]).data))
    assert max(thumb.size) == 320
    media = db.session.execute(sa.select(Media)).scalar_one()
    assert media_store.keys() == sorted([media.key, media.thumb_key])


def test_upload_needs_login_and_a_file(client, login):
    assert upload(client, {}, jpeg_bytes()).status_code == 401
    res = client.post("/api/v1/media", headers=login("resident"), data={}, content_type="multipart/form-data")
    assert res.status_code == 422 and res.json["message"] == "file_required"


def test_media_path_traversal_is_404(client):
    assert client.get("/media/../../etc/passwd").status_code == 404
    assert client.get("/media/2026/11/ab/..%2F..%2Fsecret.jpg").status_code == 404
