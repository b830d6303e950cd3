"""Tests for server.media.storage."""

from __future__ import annotations

import os
import random
import stat
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from server.media import storage as storage_mod
from server.media.storage import LocalStorage, MediaStorage, make_key, url_path, validate_key

SHA = "ab" + "0123456789abcdef" * 3 + "0123456789abcd"
assert len(SHA) == 64


def all_files(root) -> list[str]:
    found = []
    for dirpath, _dirs, files in os.walk(root):
        found += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    return sorted(found)


def test_round_trip(tmp_path):
    st = LocalStorage(tmp_path / "media")
    assert isinstance(st, MediaStorage)
    key = make_key(SHA, "jpg", now=datetime(2026, 11, 3, tzinfo=timezone.utc))
    assert not st.exists(key)

    st.save(key, b"hello", "image/jpeg")
    assert st.exists(key)
    assert st.open(key) == b"hello"
    path = st.path_for(key)
    assert path and os.path.isabs(path)
    assert os.path.realpath(path) == str((tmp_path / "media" / key).resolve())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644

    st.save(key, b"replaced", "image/jpeg")  # overwrite is fine (idempotent)
    assert st.open(key) == b"replaced"

    st.delete(key)
    assert not st.exists(key)
    st.delete(key)  # deleting twice is a no-op
    with pytest.raises(FileNotFoundError):
        st.open(key)


@pytest.mark.parametrize(
    "key",
    [
        "../evil.jpg",
        "2026/../../evil.jpg",
        "2026/11/../../../etc/passwd",
        "..",
        "/etc/passwd",
        "//etc/passwd",
        "a\\..\\evil.jpg",
        "2026\\11\\x.jpg",
        "",
        "a//b.jpg",
        "./a.jpg",
        "a/./b.jpg",
        "a/.hidden",
        "a/b.jpg/",
        "x\x00.jpg",
        "C:/windows/x.jpg",
        "%2e%2e/x.jpg",
        "a b.jpg",
        "2026/11/ab/\u00e9.jpg",
    ],
)
def test_unsafe_keys_are_rejected(tmp_path, key):
    st = LocalStorage(tmp_path)
    with pytest.raises(ValueError):
        validate_key(key)
    with pytest.raises(ValueError):
        st.save(key, b"x", "image/jpeg")
    for method in (st.open, st.delete, st.exists, st.path_for):
        with pytest.raises(ValueError):
            method(key)
    assert all_files(tmp_path) == []


def test_non_string_key_rejected(tmp_path):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).save(None, b"x", "image/jpeg")  # type: ignore[arg-type]


def test_symlink_escaping_root_is_rejected(tmp_path):
    root = tmp_path / "media"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "link")
    st = LocalStorage(root)
    with pytest.raises(ValueError):
        st.save("link/x.jpg", b"x", "image/jpeg")
    assert list(outside.iterdir()) == []


def test_atomic_write_leaves_no_temp_files(tmp_path):
    st = LocalStorage(tmp_path)
    keys = [make_key(f"{i:064x}", "jpg", now=datetime(2026, 1, 31)) for i in range(5)]
    for k in keys:
        st.save(k, os.urandom(1000), "image/jpeg")
    assert all_files(tmp_path) == sorted(keys)
    assert not any(os.path.basename(f).startswith(".") for f in all_files(tmp_path))


def test_failed_write_keeps_old_content_and_cleans_up(tmp_path, monkeypatch):
    st = LocalStorage(tmp_path)
    key = make_key(SHA, "png", now=datetime(2026, 5, 1))
    st.save(key, b"old", "image/png")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(storage_mod.os, "replace", boom)
    with pytest.raises(OSError):
        st.save(key, b"new", "image/png")
    monkeypatch.undo()
    assert st.open(key) == b"old"
    assert all_files(tmp_path) == [key]


def test_make_key_format():
    now = datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc)
    key = make_key(SHA, "jpg", now=now)
    assert key == f"2026/11/ab/{SHA}.jpg"
    assert make_key(SHA.upper(), ".JPG", now=now) == key
    assert make_key(SHA, "jpg", now=now, suffix="_thumb") == f"2026/11/ab/{SHA}_thumb.jpg"
    assert validate_key(key) == key


def test_make_key_uses_utc_date():
    # 2026-12-01 07:30 in Beijing is still November in UTC
    beijing = timezone(timedelta(hours=8))
    assert make_key(SHA, "png", now=datetime(2026, 12, 1, 7, 30, tzinfo=beijing)).startswith(
        "2026/11/ab/"
    )
    # naive datetimes are taken as UTC
    assert make_key(SHA, "png", now=datetime(2026, 12, 1, 0, 30)).startswith("2026/12/")
    # default: now
    assert make_key(SHA, "jpg").startswith(datetime.now(timezone.utc).strftime("%Y/%m/"))


@pytest.mark.parametrize(
    "sha,ext,suffix",
    [
        ("abc", "jpg", ""),
        ("z" * 64, "jpg", ""),
        ("../" + SHA[3:], "jpg", ""),
        (SHA, "jp/g", ""),
        (SHA, "", ""),
        (SHA, "jpg", "/../x"),
        (SHA, "jpg", "a.b"),
    ],
)
def test_make_key_rejects_bad_parts(sha, ext, suffix):
    with pytest.raises(ValueError):
        make_key(sha, ext, suffix=suffix)


@pytest.mark.parametrize("key", [
    make_key("ab" * 32, "jpg"), make_key("cd" * 32, "jpg", suffix="-thumb"), "2026/11/ab/a b.jpg",
    "2026/11/照片.jpg", "a%2Fb.jpg", "a?b#c.jpg", "x+y=z&w.png", "~user/file.webp",
])
def test_a_key_in_a_url_is_percent_encoded_exactly_where_quote_encodes_it(key):
    assert url_path(key) == quote(key)


def test_url_path_agrees_with_quote_on_any_text():
    rng = random.Random(7)
    alphabet = "abcXYZ019/._-~ %?#&+=:;@!$'()*,[]照片\\"
    for _ in range(3000):
        key = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 24)))
        assert url_path(key) == quote(key), key
