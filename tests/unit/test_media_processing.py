"""Tests for server.media.processing. All inputs are generated here with Pillow."""

from __future__ import annotations

import io
import random
import struct
import time
import tracemalloc
import zlib

import pytest
from PIL import Image, ImageCms, ImageFile

from server.media import processing
from server.media.processing import (
    MAX_BYTES,
    MAX_SIDE,
    ImageRejected,
    ProcessedImage,
    process_image,
    read_limited,
)

RED = (220, 20, 20)
BLUE = (20, 20, 220)


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def two_tone(size=(200, 100)) -> Image.Image:
    """Left half red, right half blue."""
    w, h = size
    img = Image.new("RGB", size, BLUE)
    img.paste(Image.new("RGB", (w // 2, h), RED), (0, 0))
    return img


def noise(size=(256, 256), seed=1) -> Image.Image:
    rnd = random.Random(seed)
    return Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))


def close_to(px, colour, tol=40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(px, colour))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def crafted_png(width: int, height: int) -> bytes:
    """A valid 1-bit grayscale PNG, streamed through zlib row-block by row-block
    so building it never holds the uncompressed pixels in memory."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    comp = zlib.compressobj(1)
    parts = []
    block_rows = 1000
    done = 0
    block = row * block_rows
    while done < height:
        n = min(block_rows, height - done)
        parts.append(comp.compress(block if n == block_rows else row * n))
        done += n
    parts.append(comp.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def rejected(raw: bytes, **kw) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        process_image(raw, **kw)
    return info.value


def open_out(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


# --------------------------------------------------------------------------- #
# happy paths
# --------------------------------------------------------------------------- #


def test_jpeg_with_exif_gps_is_rotated_and_stripped():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x0110] = "SecretModel"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 27.0)
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 17.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>39,54N</exif:GPSLatitude></x:xmpmeta>'
    raw = encode(
        two_tone((400, 200)),
        "JPEG",
        exif=exif.tobytes(),
        comment=b"home address",
        quality=95,
    )
    # XMP APP1 segment inserted by hand (Pillow < 11 has no xmp= for JPEG)
    xmp_payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    raw = raw[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp_payload) + 2) + xmp_payload + raw[2:]
    # sanity: the input really carries the metadata, so the test can fail
    src = Image.open(io.BytesIO(raw))
    assert src.getexif().get(0x0112) == 6
    assert src.getexif().get_ifd(0x8825)
    assert b"Exif" in raw and b"GPS" in raw and b"home address" in raw
    assert "xmp" in src.info or b"xmpmeta" in raw

    out = process_image(raw)
    assert isinstance(out, ProcessedImage)
    assert out.content_type == "image/jpeg" and out.extension == "jpg"
    for blob in (out.data, out.thumbnail):
        img = open_out(blob)
        assert img.format == "JPEG"
        assert not img.getexif()
        assert "exif" not in img.info and "xmp" not in img.info
        assert "comment" not in img.info and "icc_profile" not in img.info
        for marker in (b"Exif", b"GPS", b"SecretPhone", b"home address", b"xmpmeta"):
            assert marker not in blob

    img = open_out(out.data)
    # 400x200 rotated 90 degrees clockwise: 200x400, left (red) half on top
    assert (out.width, out.height) == img.size == (200, 400)
    assert close_to(img.getpixel((100, 40)), RED)
    assert close_to(img.getpixel((100, 360)), BLUE)
    # progressive
    assert img.info.get("progressive") or img.info.get("progression")

    thumb = open_out(out.thumbnail)
    assert thumb.size == (out.thumb_width, out.thumb_height) == (160, 320)
    assert max(thumb.size) == 320
    assert close_to(thumb.getpixel((80, 20)), RED)

    import hashlib

    assert out.sha256 == hashlib.sha256(out.data).hexdigest()


def test_png_with_alpha_stays_png_with_alpha():
    img = Image.new("RGBA", (64, 48), (0, 128, 0, 255))
    img.paste(Image.new("RGBA", (32, 48), (0, 0, 0, 0)), (0, 0))
    out = process_image(encode(img, "PNG"))
    assert out.content_type == "image/png" and out.extension == "png"
    res = open_out(out.data)
    assert res.format == "PNG" and res.mode == "RGBA"
    assert res.getpixel((5, 5))[3] == 0
    assert res.getpixel((50, 5)) == (0, 128, 0, 255)
    # thumbnail is always JPEG, transparent part on white
    thumb = open_out(out.thumbnail)
    assert thumb.format == "JPEG" and thumb.mode == "RGB"
    assert close_to(thumb.getpixel((5, 5)), (255, 255, 255), tol=10)


def test_opaque_rgba_png_becomes_jpeg():
    out = process_image(encode(Image.new("RGBA", (64, 64), (10, 20, 30, 255)), "PNG"))
    assert out.content_type == "image/jpeg"
    assert open_out(out.data).mode == "RGB"


def test_palette_png_with_transparency_stays_png():
    img = Image.new("P", (32, 32), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (0, 0, 16, 32))
    raw = encode(img, "PNG", transparency=1)
    out = process_image(raw)
    assert out.content_type == "image/png"
    res = open_out(out.data)
    assert res.mode == "RGBA"
    assert res.getpixel((2, 2))[3] == 0 and res.getpixel((20, 2)) == (255, 0, 0, 255)


def test_webp_becomes_jpeg():
    raw = encode(two_tone((120, 80)), "WEBP", quality=90)
    out = process_image(raw)
    assert out.content_type == "image/jpeg" and out.extension == "jpg"
    res = open_out(out.data)
    assert res.format == "JPEG" and res.size == (120, 80)
    assert close_to(res.getpixel((10, 40)), RED)


def test_animated_webp_first_frame_only():
    frames = [Image.new("RGB", (40, 40), RED), Image.new("RGB", (40, 40), BLUE)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    assert Image.open(io.BytesIO(buf.getvalue())).n_frames == 2
    out = process_image(buf.getvalue())
    assert close_to(open_out(out.data).getpixel((20, 20)), RED)


def test_large_jpeg_is_downscaled_to_max_side():
    big = Image.new("RGB", (5000, 3000), (90, 140, 200))
    raw = encode(big, "JPEG", quality=80)
    assert len(raw) < MAX_BYTES
    out = process_image(raw)
    res = open_out(out.data)
    assert max(res.size) == MAX_SIDE == 4096
    assert res.size == (out.width, out.height) == (4096, 2458)
    assert (out.thumb_width, out.thumb_height) == (320, 192)


def test_sixteen_bit_grayscale_png_is_scaled_not_clipped():
    img = Image.new("I;16", (32, 32))
    img.putdata([32768] * (32 * 32))
    out = process_image(encode(img, "PNG"))
    res = open_out(out.data)
    assert out.content_type == "image/jpeg" and res.mode == "L"
    assert 120 <= res.getpixel((16, 16)) <= 136


def test_cmyk_jpeg_and_icc_profile_are_converted_to_plain_srgb():
    cmyk = Image.new("CMYK", (40, 40), (0, 255, 255, 0))  # red-ish
    out = process_image(encode(cmyk, "JPEG"))
    res = open_out(out.data)
    assert res.mode == "RGB"
    r, g, b = res.getpixel((20, 20))
    assert r > 200 and g < 60 and b < 60

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    raw = encode(two_tone((64, 64)), "JPEG", icc_profile=icc)
    assert Image.open(io.BytesIO(raw)).info.get("icc_profile")
    out = process_image(raw)
    assert "icc_profile" not in open_out(out.data).info
    assert b"ICC_PROFILE" not in out.data


def test_png_text_chunks_are_dropped():
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "lat=39.9 lon=116.4")
    out = process_image(encode(Image.new("RGBA", (32, 32), (0, 0, 0, 0)), "PNG", pnginfo=meta))
    assert b"lat=39.9" not in out.data
    assert b"tEXt" not in out.data and b"iTXt" not in out.data


def test_polyglot_jpeg_with_appended_script_is_reencoded():
    payload = b"<?php system($_GET['c']); ?>"
    raw = encode(two_tone((64, 64)), "JPEG") + payload
    out = process_image(raw)
    assert payload not in out.data and b"<?php" not in out.data


# --------------------------------------------------------------------------- #
# rejections
# --------------------------------------------------------------------------- #


def test_php_script_named_jpg_is_not_an_image():
    err = rejected(b"<?php system($_GET['c']); ?>")
    assert (err.code, err.status) == ("not_an_image", 415)
    assert isinstance(err, ValueError)
    assert err.detail and any("\u4e00" <= ch <= "\u9fff" for ch in err.detail)


@pytest.mark.parametrize(
    "raw",
    [
        b"hello, this is a plain text file\n",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
        b"\x00" * 100,
        b"PK\x03\x04" + b"\x00" * 60,
    ],
)
def test_non_images_are_415(raw):
    err = rejected(raw)
    assert err.status == 415 and err.code == "not_an_image"


def test_svg_is_415():
    svg = (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" '
        b'height="100"><script>alert(1)</script><rect width="100" height="100"/></svg>'
    )
    err = rejected(svg)
    assert err.status == 415 and err.code in ("unsupported_format", "not_an_image")
    assert rejected(svg[svg.index(b"<svg"):]).status == 415


def test_gif_is_415():
    raw = encode(Image.new("P", (32, 32), 1), "GIF")
    assert Image.open(io.BytesIO(raw)).format == "GIF"  # sanity
    err = rejected(raw)
    assert (err.code, err.status) == ("unsupported_format", 415)


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_other_pillow_formats_are_415(fmt):
    err = rejected(encode(Image.new("RGB", (32, 32), RED), fmt))
    assert (err.code, err.status) == ("unsupported_format", 415)


def test_empty_body():
    err = rejected(b"")
    assert err.code == "empty_file" and err.status in (415, 422)


def test_truncated_jpeg_is_422():
    raw = encode(noise(), "JPEG", quality=95)
    half = raw[: len(raw) // 2]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    err = rejected(half)
    assert (err.code, err.status) == ("image_truncated", 422)


def test_truncated_png_is_422():
    raw = encode(noise((128, 128)), "PNG")
    err = rejected(raw[: len(raw) // 2])
    assert (err.code, err.status) == ("image_truncated", 422)


def test_jpeg_cut_inside_header_is_rejected():
    raw = encode(noise((64, 64)), "JPEG")
    err = rejected(raw[:20])
    assert err.status in (415, 422)


def test_tiny_image_is_rejected():
    err = rejected(encode(Image.new("RGB", (10, 10), RED), "PNG"))
    assert (err.code, err.status) == ("image_too_small", 422)
    err = rejected(encode(Image.new("RGB", (2000, 8), RED), "JPEG"))
    assert err.code == "image_too_small"


def test_too_large_bytes_is_413():
    raw = encode(noise((64, 64)), "PNG")
    err = rejected(raw, max_bytes=len(raw) - 1)
    assert (err.code, err.status) == ("file_too_large", 413)
    assert process_image(raw, max_bytes=len(raw)).width == 64


@pytest.fixture
def no_decode(monkeypatch):
    """Fail loudly if anything tries to decode pixel data."""
    calls = []

    def forbidden_load(self, *a, **kw):
        calls.append(self.size)
        raise AssertionError(f"pixel data of a {self.size} image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden_load)
    return calls


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 6000)])
def test_decompression_bomb_rejected_before_decoding(size, no_decode):
    # 20000x20000 trips Pillow's own bomb error too; 8000x6000 (48 MP) is below
    # Pillow's threshold and is only caught by our MAX_PIXELS check.
    raw = crafted_png(*size)
    assert len(raw) < 1024 * 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        err = rejected(raw)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (err.code, err.status) == ("image_too_many_pixels", 422)
    assert no_decode == []
    assert elapsed < 1.0
    assert peak < 50 * 1024 * 1024


def test_bomb_check_does_not_touch_pillow_globals():
    before = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    rejected(crafted_png(20000, 20000))
    process_image(encode(two_tone(), "JPEG"))
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == before


def test_random_corruption_never_leaks_other_exceptions():
    rnd = random.Random(1234)
    seeds = [
        encode(noise((48, 48)), "JPEG"),
        encode(noise((48, 48)), "PNG"),
        encode(noise((48, 48)), "WEBP"),
        encode(Image.new("RGBA", (48, 48), (1, 2, 3, 4)), "PNG"),
    ]
    for i in range(200):
        data = bytearray(rnd.choice(seeds))
        kind = i % 3
        if kind == 0:
            for _ in range(rnd.randint(1, 8)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        elif kind == 1:
            data = data[: rnd.randrange(1, len(data))]
        else:
            pos = rnd.randrange(len(data))
            data[pos:pos] = rnd.randbytes(rnd.randint(1, 64))
        try:
            out = process_image(bytes(data))
        except ImageRejected as exc:
            assert exc.status in (413, 415, 422) and exc.code in processing._ERRORS
        else:
            assert out.data and out.thumbnail


# --------------------------------------------------------------------------- #
# read_limited
# --------------------------------------------------------------------------- #


class ZeroStream:
    """A file-like of ``size`` zero bytes that counts what it hands out."""

    def __init__(self, size: int):
        self.remaining = size
        self.served = 0
        self.calls = 0

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if n is None or n < 0:
            n = self.remaining
        n = min(n, self.remaining)
        self.remaining -= n
        self.served += n
        return b"\x00" * n


def test_read_limited_stops_early_on_huge_upload():
    stream = ZeroStream(30 * 1024 * 1024)
    with pytest.raises(ImageRejected) as info:
        read_limited(stream)
    assert (info.value.code, info.value.status) == ("file_too_large", 413)
    assert "10 MB" in info.value.detail
    assert stream.served <= MAX_BYTES + 1
    assert stream.remaining >= 30 * 1024 * 1024 - MAX_BYTES - 1


def test_read_limited_with_bytesio():
    data = b"x" * (30 * 1024 * 1024)
    bio = io.BytesIO(data)
    with pytest.raises(ImageRejected) as info:
        read_limited(bio)
    assert info.value.code == "file_too_large"
    assert bio.tell() <= MAX_BYTES + 1


def test_read_limited_exact_limit_and_small_files():
    assert read_limited(io.BytesIO(b"a" * 100), max_bytes=100) == b"a" * 100
    with pytest.raises(ImageRejected):
        read_limited(io.BytesIO(b"a" * 101), max_bytes=100)
    assert read_limited(io.BytesIO(b"")) == b""
    raw = encode(two_tone(), "PNG")
    assert read_limited(io.BytesIO(raw)) == raw


@pytest.mark.parametrize("fmt, size", [("PNG", (4100, 3000)), ("WEBP", (3300, 2500))])
def test_formats_decoded_whole_have_a_lower_pixel_limit(fmt, size, no_decode):
    """PNG and WebP cannot be decoded at a smaller scale: above their own limit they are
    refused from the header, before a pixel is decoded (docs/RELIABILITY.md, peak memory)."""
    from server.media.processing import MAX_PIXELS_WHOLE_DECODE

    assert size[0] * size[1] > MAX_PIXELS_WHOLE_DECODE[fmt]
    raw = encode(Image.new("RGB", size, (90, 140, 200)), fmt) if fmt == "WEBP" else crafted_png(*size)
    assert rejected(raw).code == "image_too_many_pixels"


def test_a_jpeg_above_the_draft_threshold_is_decoded_at_half_scale():
    from server.media.processing import DRAFT_ABOVE_PIXELS

    big = Image.new("RGB", (6400, 4000), (90, 140, 200))
    assert big.width * big.height > DRAFT_ABOVE_PIXELS
    out = process_image(encode(big, "JPEG", quality=60))
    assert (out.width, out.height) == (3200, 2000)  # libjpeg's 1/2 scale, within MAX_SIDE
