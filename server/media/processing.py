"""Validation and sanitising re-encoding of user-uploaded photos.

Pure functions: no Flask, no database, no global state changes.

Pipeline of :func:`process_image`:

1. size limits (empty body, more than ``max_bytes``);
2. format detection by Pillow only (``Image.open(..., formats=...)`` restricted
   to JPEG/PNG/WebP, so no other Pillow parser ever sees the bytes). The file
   name and the client's Content-Type are never consulted;
3. pixel count from the header (``width * height``) is checked against
   ``MAX_PIXELS`` *before* any pixel data is decoded (decompression bombs);
4. full decode (``img.load()``); a truncated or corrupt stream is rejected;
5. EXIF orientation is applied, colours are converted to sRGB, every piece
   of metadata is dropped, and the pixels are re-encoded from scratch (this
   also kills polyglots such as a JPEG with a PHP script appended).

Output format decisions
-----------------------
* **JPEG** (quality 85, progressive, optimised, 4:2:0) for everything that has
  no meaningful transparency. Uploads are phone photos; JPEG is the smallest
  format every WeChat client / browser / image viewer decodes, and progressive
  JPEG renders early on slow mobile networks. WebP output was rejected because
  older WeChat/iOS webviews and most moderation/export tooling handle it less
  reliably, and the size win at q85 does not matter at our volumes.
* **PNG** only when the source has an alpha channel (or a transparent palette
  entry / tRNS colour key) that is actually used, i.e. at least one pixel has
  alpha < 255. JPEG cannot store alpha and flattening would destroy e.g. a
  cut-out sticker. An alpha channel that is fully opaque is dropped -> JPEG.
* Grayscale sources stay single-channel ("L") JPEGs; everything else is RGB.
* The thumbnail is always a JPEG (quality 80), longest side at most 320 px
  (images already smaller are not upscaled); transparent areas are
  composited onto white.

ICC profiles
------------
If the source carries an ICC profile it is *converted* to sRGB with LittleCMS
(``PIL.ImageCms``) and the profile is then dropped. Output files therefore
carry no ICC profile and are sRGB, which is what viewers assume for untagged
images. This keeps wide-gamut (Display P3) iPhone photos and CMYK JPEGs looking
right, removes one more metadata block (profile descriptions can name the
device), and saves a few KB. If the profile is broken or LittleCMS is not
available, the profile is simply ignored (pixels used as-is).

Metadata
--------
EXIF (including GPS), XMP, IPTC, JPEG comments, PNG text chunks, DPI and ICC are
all removed: the re-encoded image is saved from a copy whose ``info`` dict is
empty, and no metadata is passed to the encoders.

Thread-safety notes
-------------------
``Image.MAX_IMAGE_PIXELS``, ``ImageFile.LOAD_TRUNCATED_IMAGES`` and the
``warnings`` filters are process-global and are NOT modified here
(``warnings.catch_warnings`` is not thread-safe). Instead our own
``MAX_PIXELS`` (40 MP) is stricter than Pillow's default bomb threshold
(~89 MP), so we reject by our own check; Pillow's ``DecompressionBombError``
(and ``DecompressionBombWarning`` if a caller has turned warnings into errors)
are caught and mapped to ``image_too_many_pixels``. ``LOAD_TRUNCATED_IMAGES``
must stay at its default ``False`` for truncation to be detected.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # LittleCMS is bundled with the Pillow wheels, but be defensive.
    from PIL import ImageCms

    _SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
except Exception:  # pragma: no cover - depends on the Pillow build
    ImageCms = None  # type: ignore[assignment]
    _SRGB_PROFILE = None

__all__ = [
    "ImageRejected",
    "ProcessedImage",
    "process_image",
    "read_limited",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MIN_SIDE",
    "THUMB_SIDE",
    "JPEG_QUALITY",
    "THUMB_QUALITY",
]

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
# PNG and WebP can only be decoded whole (a 12 MP RGBA picture is 48 MiB of pixels, and
# libwebp holds two more while it decodes): a lower
# limit for them keeps one upload from costing a worker hundreds of MiB (docs/RELIABILITY.md).
MAX_PIXELS_WHOLE_DECODE = {"PNG": 12_000_000, "WEBP": 8_000_000}
# A JPEG larger than this is decoded at half scale or less (libjpeg's draft mode), so its
# pixels in memory stay under about 72 MiB; it is then stored with its longest side between
# MAX_SIDE / 2 and MAX_SIDE.
DRAFT_ABOVE_PIXELS = 24_000_000
MAX_SIDE = 4096  # re-encoded images are downscaled so the longest side is at most this
MIN_SIDE = 16  # images narrower or lower than this are refused
THUMB_SIDE = 320
JPEG_QUALITY = 85
THUMB_QUALITY = 80
MAX_ICC_BYTES = 1024 * 1024  # larger embedded profiles are ignored, not parsed

_READ_CHUNK = 64 * 1024

# Pillow format ids we accept. "MPO" is what Pillow reports for multi-picture
# JPEGs (many phone cameras); it is a plain JPEG for our purposes.
_ALLOWED_OPEN_FORMATS = ("JPEG", "PNG", "WEBP")
_ALLOWED_DETECTED = frozenset({"JPEG", "MPO", "PNG", "WEBP"})

_ERRORS: dict[str, tuple[int, str]] = {
    "file_too_large": (413, "图片不能超过 {limit}"),
    "not_an_image": (415, "文件不是有效的图片，请上传 JPEG、PNG 或 WebP 格式的照片"),
    "unsupported_format": (415, "不支持该图片格式，请上传 JPEG、PNG 或 WebP 格式的照片"),
    "image_truncated": (422, "图片文件不完整或已损坏，请重新上传"),
    "image_too_many_pixels": (422, "图片分辨率过大，最多支持 {max_mp} 万像素"),
    "image_too_small": (422, "图片尺寸太小，宽和高至少需要 {min_side} 像素"),
    "empty_file": (422, "上传的文件是空的，请重新选择图片"),
}


class ImageRejected(ValueError):
    """An upload that is not an acceptable image.

    ``code``   stable snake_case key for programs (see ``_ERRORS``).
    ``detail`` Chinese message that can be shown to the user as-is.
    ``status`` HTTP status to answer with (413 / 415 / 422).
    """

    code: str
    detail: str
    status: int

    def __init__(self, code: str, detail: str | None = None, status: int | None = None):
        default_status, default_detail = _ERRORS.get(code, (422, "图片无法处理"))
        if detail is None:
            detail = default_detail.format(
                limit=_format_size(MAX_BYTES),
                max_mp=MAX_PIXELS // 10_000,
                min_side=MIN_SIDE,
            )
        self.code = code
        self.detail = detail
        self.status = status if status is not None else default_status
        super().__init__(f"{code}: {detail}")

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly body: ``{"error": code, "detail": detail}``."""
        return {"error": self.code, "detail": self.detail}


@dataclass(frozen=True)
class ProcessedImage:
    """A sanitised, re-encoded image plus its JPEG thumbnail.

    ``content_type`` is ``"image/jpeg"`` (``extension`` ``"jpg"``) unless the
    source had meaningful transparency, then ``"image/png"`` / ``"png"``.
    See the module docstring for why.
    """

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes
    thumb_width: int
    thumb_height: int
    sha256: str


def _format_size(n: int) -> str:
    mib = n / (1024 * 1024)
    if mib >= 1:
        return f"{mib:g} MB"
    return f"{max(1, n // 1024)} KB"


# --------------------------------------------------------------------------- #
# Reading
# --------------------------------------------------------------------------- #


def read_limited(stream: BinaryIO, max_bytes: int = MAX_BYTES) -> bytes:
    """Read a file-like object, but never more than ``max_bytes + 1`` bytes.

    Raises ``ImageRejected("file_too_large")`` (413) as soon as the stream is
    known to be longer than ``max_bytes``; at most ``max_bytes + 1`` bytes are
    ever requested from the stream or held in memory.

    Note: with Flask/Werkzeug the request body is spooled by Werkzeug before
    the view runs; set ``MAX_CONTENT_LENGTH`` to bound that part as well.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    budget = max_bytes + 1
    buf = bytearray()
    while len(buf) < budget:
        chunk = stream.read(min(_READ_CHUNK, budget - len(buf)))
        if chunk is None:  # non-blocking raw stream with nothing available
            continue
        if not chunk:
            break
        buf += chunk
    if len(buf) > max_bytes:
        raise ImageRejected(
            "file_too_large", _ERRORS["file_too_large"][1].format(limit=_format_size(max_bytes))
        )
    return bytes(buf)


# --------------------------------------------------------------------------- #
# Processing
# --------------------------------------------------------------------------- #

# Exceptions Pillow (and the codecs / zlib / struct it uses) raise on bad data.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    ZeroDivisionError,
    OverflowError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def _sniff_rejected(raw: bytes) -> ImageRejected:
    """Classify bytes Pillow refused to open as one of our formats."""
    head = raw[:512]
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n") or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        # Looks like an allowed format but the header is broken/cut off.
        return ImageRejected("image_truncated")
    other_image_magic = (
        b"GIF87a",
        b"GIF89a",
        b"BM",  # BMP
        b"II*\x00",  # TIFF little endian
        b"MM\x00*",  # TIFF big endian
        b"\x00\x00\x01\x00",  # ICO
        b"\x00\x00\x02\x00",  # CUR
        b"8BPS",  # PSD
        b"\x00\x00\x00\x0cjP  ",  # JPEG 2000
        b"\xff\x4f\xff\x51",  # JPEG 2000 codestream
        b"\xff\x0a",  # JPEG XL codestream
        b"\x00\x00\x00\x0cJXL ",  # JPEG XL container
        b"qoif",
        b"DDS ",
        b"icns",
    )
    if head.startswith(other_image_magic):
        return ImageRejected("unsupported_format")
    if head[4:8] == b"ftyp" and head[8:12] in (
        b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis",
    ):
        return ImageRejected("unsupported_format")
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in raw[:4096].lower():
        return ImageRejected("unsupported_format")
    return ImageRejected("not_an_image")


def _to_srgb(img: Image.Image) -> Image.Image:
    """Convert pixels from the embedded ICC profile to sRGB (best effort)."""
    icc = img.info.get("icc_profile")
    if not icc or ImageCms is None or _SRGB_PROFILE is None or len(icc) > MAX_ICC_BYTES:
        return img
    if img.mode not in ("RGB", "RGBA", "CMYK"):
        return img  # gray profiles: rare, left unconverted
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, src, _SRGB_PROFILE, outputMode=out_mode)
        if converted is None:  # only when inPlace=True; defensive
            return img
        return converted
    except Exception:
        return img  # broken / mismatched profile: use pixels as they are


def _normalise_mode(img: Image.Image) -> Image.Image:
    """Return an image in "RGB", "RGBA" or "L"."""
    mode = img.mode
    if mode in ("RGB", "L"):
        if "transparency" in img.info:  # tRNS colour key
            return img.convert("RGBA")
        return img
    if mode == "RGBA":
        return img
    if mode in ("LA", "La", "RGBa", "PA"):
        return img.convert("RGBA")
    if mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grayscale: Pillow's I->L conversion clips at 255, so scale.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "F":
        return img.convert("L")  # clips to 0..255
    # CMYK (naive, only if no ICC conversion happened), YCbCr, LAB, HSV, ...
    return img.convert("RGB")


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    w, h = size
    if max(w, h) <= box:
        return w, h
    if w >= h:
        return box, max(1, round(h * box / w))
    return max(1, round(w * box / h)), box


def _encode_jpeg(img: Image.Image, quality: int, progressive: bool) -> bytes:
    out = io.BytesIO()
    img.save(
        out,
        format="JPEG",
        quality=quality,
        optimize=True,
        progressive=progressive,
        subsampling="4:2:0",
    )
    return out.getvalue()


def _encode_png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _flatten(img: Image.Image) -> Image.Image:
    """RGBA -> RGB on a white background (for JPEG output)."""
    if img.mode != "RGBA":
        return img
    bg = Image.new("RGB", img.size, (255, 255, 255))
    bg.paste(img, mask=img.getchannel("A"))
    return bg


def _strip(img: Image.Image) -> Image.Image:
    """Make sure nothing from the source's metadata reaches an encoder."""
    img.info = {}
    if hasattr(img, "_exif"):
        img._exif = None  # type: ignore[attr-defined]
    return img


def process_image(raw: bytes, *, max_bytes: int = MAX_BYTES) -> ProcessedImage:
    """Validate ``raw`` as a JPEG/PNG/WebP photo and re-encode it.

    Returns a :class:`ProcessedImage`; raises :class:`ImageRejected` for
    anything unacceptable. No other exception type is raised for bad input.
    """
    if raw is None or len(raw) == 0:
        raise ImageRejected("empty_file")
    if len(raw) > max_bytes:
        raise ImageRejected(
            "file_too_large", _ERRORS["file_too_large"][1].format(limit=_format_size(max_bytes))
        )
    raw = bytes(raw)

    # -- 1. identify (header only) ---------------------------------------- #
    try:
        img = Image.open(io.BytesIO(raw), formats=_ALLOWED_OPEN_FORMATS)
    except _BOMB_ERRORS as exc:
        raise ImageRejected("image_too_many_pixels") from exc
    except UnidentifiedImageError as exc:
        raise _sniff_rejected(raw) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected("image_truncated") from exc
    except Exception as exc:  # pragma: no cover - belt and braces
        raise ImageRejected("image_truncated") from exc

    try:
        return _process_opened(img)
    finally:
        try:
            img.close()
        except Exception:  # pragma: no cover
            pass


def _process_opened(img: Image.Image) -> ProcessedImage:
    if img.format not in _ALLOWED_DETECTED:
        raise ImageRejected("unsupported_format")

    # -- 2. size checks from the header, before decoding ------------------- #
    try:
        width, height = (int(v) for v in img.size)
    except Exception as exc:
        raise ImageRejected("image_truncated") from exc
    if width <= 0 or height <= 0:
        raise ImageRejected("image_truncated")
    if width * height > MAX_PIXELS:
        raise ImageRejected("image_too_many_pixels")
    whole = MAX_PIXELS_WHOLE_DECODE.get(img.format or "")
    if whole is not None and width * height > whole:
        raise ImageRejected("image_too_many_pixels", _ERRORS["image_too_many_pixels"][1].format(max_mp=whole // 10_000))
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected("image_too_small")

    # -- 3. decode ---------------------------------------------------------- #
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated: first frame only
        if img.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4, 1/8 scale when the result would
            # be downscaled anyway (keeps memory and CPU down for big photos).
            side = MAX_SIDE // 2 if width * height > DRAFT_ABOVE_PIXELS else MAX_SIDE
            img.draft(None, _fit((width, height), side))
        img.load()
        img = _shrink_early(img)
    except _BOMB_ERRORS as exc:
        raise ImageRejected("image_too_many_pixels") from exc
    except MemoryError as exc:
        raise ImageRejected("image_too_many_pixels") from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected("image_truncated") from exc
    except Exception as exc:  # pragma: no cover - never leak Pillow errors
        raise ImageRejected("image_truncated") from exc

    # -- 4. orientation, colour, mode, size, encode ------------------------- #
    try:
        return _finish(img)
    except ImageRejected:
        raise
    except MemoryError as exc:
        raise ImageRejected("image_too_many_pixels") from exc
    except Exception as exc:
        raise ImageRejected("image_truncated") from exc


def _swap(old: Image.Image, new: Image.Image) -> Image.Image:
    """`new` in place of `old`, whose pixels are released at once (a 16 MP RGBA copy is 64 MiB)."""
    if new is not old:
        old.close()
    return new


def _shrink_early(img: Image.Image) -> Image.Image:
    """At least twice too large: down by a whole factor right after decoding (a box filter,
    no resampling copies), before the orientation and colour steps copy the pixels. The
    orientation and the colour profile travel with it; _finish fits the rest."""
    factor = max(img.size) // MAX_SIDE
    if factor < 2 or img.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return img
    smaller = img.reduce(factor)
    smaller.info = dict(img.info)
    exif = img.getexif()
    if exif:
        smaller.info["exif"] = exif.tobytes()
    smaller.format = img.format
    return _swap(img, smaller)


def _finish(img: Image.Image) -> ProcessedImage:
    try:
        oriented = ImageOps.exif_transpose(img)
    except Exception:
        oriented = None  # malformed EXIF: keep the pixels as stored
    work: Image.Image = img if oriented is None else _swap(img, oriented)

    if work.mode != "CMYK":
        # Palette / tRNS / LA / 16-bit -> RGB(A) or L first (convert() keeps
        # the ICC profile in .info); CMYK waits so the profile can convert it.
        work = _swap(work, _normalise_mode(work))
    work = _swap(work, _to_srgb(work))
    work = _swap(work, _normalise_mode(work))

    if work.mode == "RGBA":
        alpha_min, _ = work.getchannel("A").getextrema()
        if alpha_min >= 255:
            work = _swap(work, work.convert("RGB"))  # alpha channel present but unused

    # A fresh copy with an empty info dict: nothing of the source's metadata
    # (EXIF, GPS, XMP, ICC, comments, text chunks, dpi) can reach the encoder.
    if work is img:
        work = img.copy()
    _strip(work)

    if max(work.size) > MAX_SIDE:
        work = _swap(work, work.resize(_fit(work.size, MAX_SIDE), Image.Resampling.LANCZOS))
        _strip(work)

    if work.mode == "RGBA":
        data = _encode_png(work)
        content_type, extension = "image/png", "png"
    else:
        data = _encode_jpeg(work, JPEG_QUALITY, progressive=True)
        content_type, extension = "image/jpeg", "jpg"

    thumb = _flatten(work)
    if max(thumb.size) > THUMB_SIDE:
        thumb = thumb.resize(_fit(thumb.size, THUMB_SIDE), Image.Resampling.LANCZOS)
    _strip(thumb)
    thumb_bytes = _encode_jpeg(thumb, THUMB_QUALITY, progressive=False)

    return ProcessedImage(
        data=data,
        content_type=content_type,
        extension=extension,
        width=work.width,
        height=work.height,
        thumbnail=thumb_bytes,
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
