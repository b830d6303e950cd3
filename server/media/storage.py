"""Where processed media bytes live.

``MediaStorage`` is the interface the rest of the service depends on;
``LocalStorage`` keeps files under a root directory (``MEDIA_ROOT``); ``S3Storage``
(media/s3.py, MEDIA_STORAGE=s3) keeps them in a private bucket, returns ``None`` from
``path_for`` and a presigned address from ``redirect_url``.

Keys are relative, "/"-separated paths such as
``"2026/11/ab/abcdef0123....jpg"`` built by :func:`make_key`.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable
from urllib.parse import quote

__all__ = ["MediaStorage", "LocalStorage", "make_key", "url_path", "validate_key"]

MAX_KEY_LENGTH = 512
# One path segment: letters, digits, "_", "-", "." — but never starting with
# "." (no "." / "..", no hidden files, cannot collide with our ".tmp-" files).
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_EXT_RE = re.compile(r"[a-z0-9]{1,10}")
_SUFFIX_RE = re.compile(r"[A-Za-z0-9_\-]{0,64}")
# What urllib's quote() leaves as it is: every key make_key builds.
_URL_PLAIN_RE = re.compile(r"[A-Za-z0-9_.~/\-]*")


@runtime_checkable
class MediaStorage(Protocol):
    def save(self, key: str, data: bytes, content_type: str) -> None: ...

    def open(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def path_for(self, key: str) -> str | None: ...

    def redirect_url(self, key: str, seconds: int, cache_control: str = "") -> str | None:
        """An address the client fetches the bytes from itself (valid for `seconds`), or None
        when the service (or nginx) sends them."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative storage key, else raise ValueError.

    Rejected: non-strings, empty keys, absolute paths, backslashes, NUL and
    other characters outside ``[A-Za-z0-9_.-/]``, empty segments ("a//b",
    trailing "/"), "." / ".." and any segment starting with ".".
    """
    if not isinstance(key, str) or not key:
        raise ValueError("storage key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError("storage key too long")
    if "\\" in key or "\x00" in key:
        raise ValueError(f"invalid storage key: {key!r}")
    if key.startswith("/") or os.path.isabs(key):
        raise ValueError(f"storage key must be relative: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT_RE.fullmatch(segment):
            raise ValueError(f"invalid storage key: {key!r}")
    return key


def url_path(key: str) -> str:
    """The key as a URL path, percent-encoded where it must be (`quote(key)`); the keys
    make_key builds need none, and a page of tickets shows dozens of them."""
    return key if _URL_PLAIN_RE.fullmatch(key) else quote(key)


def make_key(
    sha256: str,
    extension: str,
    *,
    now: datetime | None = None,
    suffix: str = "",
) -> str:
    """``"YYYY/MM/<sha[:2]>/<sha><suffix>.<ext>"`` using the UTC date.

    ``now`` defaults to the current time; a naive datetime is taken as UTC.
    ``suffix`` distinguishes derived files, e.g. ``suffix="_thumb"``.
    """
    sha = (sha256 or "").lower()
    if not _SHA256_RE.fullmatch(sha):
        raise ValueError("sha256 must be 64 hex digits")
    ext = (extension or "").lower().lstrip(".")
    if not _EXT_RE.fullmatch(ext):
        raise ValueError(f"invalid extension: {extension!r}")
    if not _SUFFIX_RE.fullmatch(suffix):
        raise ValueError(f"invalid suffix: {suffix!r}")
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    else:
        now = now.astimezone(timezone.utc)
    return f"{now:%Y/%m}/{sha[:2]}/{sha}{suffix}.{ext}"


class LocalStorage:
    """Files under ``root``; writes are atomic (temp file + ``os.replace``).

    * ``save`` overwrites an existing key (keys are content-addressed, so this
      is idempotent); files are created ``0o644``, directories ``0o755``
      (subject to the umask). ``content_type`` is not stored locally; derive
      it from the extension when serving.
    * ``open`` raises ``FileNotFoundError`` for a missing key.
    * ``delete`` of a missing key is a no-op.
    * ``path_for`` returns the absolute path whether or not the file exists.
    * Every method raises ``ValueError`` for an unsafe key, including keys that
      would resolve (through symlinks) outside ``root``.
    """

    def __init__(self, root: str | os.PathLike[str], *, file_mode: int = 0o644) -> None:
        self.root = os.path.realpath(os.fspath(root))
        self.file_mode = file_mode

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    # -- helpers --------------------------------------------------------- #
    def _path(self, key: str) -> str:
        validate_key(key)
        path = os.path.join(self.root, *key.split("/"))
        real = os.path.realpath(path)
        if os.path.commonpath([self.root, real]) != self.root or real == self.root:
            raise ValueError(f"storage key escapes the media root: {key!r}")
        return path

    # -- MediaStorage ------------------------------------------------------ #
    def save(self, key: str, data: bytes, content_type: str = "") -> None:
        path = self._path(key)
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        # Re-check after creating directories (a symlinked directory could
        # have appeared in between).
        self._path(key)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
                os.fchmod(fh.fileno(), self.file_mode)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self._fsync_dir(directory)

    def open(self, key: str) -> bytes:
        with open(self._path(key), "rb") as fh:
            return fh.read()

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def path_for(self, key: str) -> str | None:
        return self._path(key)

    def redirect_url(self, key: str, seconds: int, cache_control: str = "") -> str | None:
        return None

    def keys(self):
        """Every stored key (our temporary files aside), in no particular order."""
        for directory, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                key = os.path.relpath(os.path.join(directory, name), self.root).replace(os.sep, "/")
                try:
                    yield validate_key(key)
                except ValueError:
                    continue

    @staticmethod
    def _fsync_dir(directory: str) -> None:
        try:
            dfd = os.open(directory, os.O_RDONLY)
        except OSError:  # pragma: no cover - platform dependent
            return
        try:
            os.fsync(dfd)
        except OSError:  # pragma: no cover
            pass
        finally:
            os.close(dfd)
