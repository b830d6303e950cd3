"""The photo store on a real S3-speaking server (moto's, over HTTP on 127.0.0.1): the storage
protocol, presigned addresses, and `flask media migrate` copying a local store into a bucket,
resumably and checking each copy."""
from __future__ import annotations

import hashlib
import json

import pytest
import requests

from server.media.s3 import S3Settings, S3Storage
from server.media.storage import LocalStorage, MediaStorage, make_key

pytestmark = pytest.mark.usefixtures("s3_server")


def _store(s3_server, **extra) -> tuple[S3Storage, str]:
    settings = s3_server.settings(**extra)
    return S3Storage(S3Settings.from_config(settings)), settings["S3_BUCKET"]


def _key(n: int, suffix: str = "") -> str:
    return make_key(hashlib.sha256(str(n).encode()).hexdigest(), "jpg", suffix=suffix)


def test_round_trip_in_a_private_bucket(s3_server):
    store, bucket = _store(s3_server)
    assert isinstance(store, MediaStorage)
    key = _key(1)
    assert not store.exists(key) and store.path_for(key) is None
    with pytest.raises(FileNotFoundError):
        store.open(key)
    store.save(key, b"\xff\xd8photo", "image/jpeg")
    assert store.exists(key) and store.open(key) == b"\xff\xd8photo"
    head = s3_server.client().head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "image/jpeg"
    assert head["Metadata"]["sha256"] == hashlib.sha256(b"\xff\xd8photo").hexdigest()
    # Nobody but the owner is granted anything: reads go through presigned addresses only.
    grants = s3_server.client().get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"] and all("URI" not in g["Grantee"] for g in grants)
    url = store.redirect_url(key, 60, "private, max-age=3600")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"\xff\xd8photo"
    assert got.headers["Cache-Control"] == "private, max-age=3600"
    store.delete(key)
    store.delete(key)  # a missing key: nothing to do
    assert not store.exists(key)
    assert requests.get(store.redirect_url(key, 60), timeout=10).status_code == 404


def test_prefix_and_public_endpoint(s3_server):
    store, bucket = _store(s3_server, S3_PREFIX="city/", S3_PUBLIC_ENDPOINT_URL=s3_server.url.replace("127.0.0.1", "localhost"))
    key = _key(2)
    store.save(key, b"x", "image/jpeg")
    assert s3_server.keys(bucket) == ["city/" + key]
    url = store.redirect_url(key, 60)
    assert url.startswith(s3_server.url.replace("127.0.0.1", "localhost") + "/" + bucket + "/city/")
    assert requests.get(url, timeout=10).content == b"x"


@pytest.mark.parametrize("key", ["../evil.jpg", "/etc/passwd", "a//b.jpg", "a/.hidden", ""])
def test_unsafe_keys_are_refused(s3_server, key):
    store, bucket = _store(s3_server)
    for call in (lambda: store.save(key, b"x", "image/jpeg"), lambda: store.open(key), lambda: store.delete(key),
                 lambda: store.exists(key), lambda: store.redirect_url(key, 60)):
        with pytest.raises(ValueError):
            call()
    assert s3_server.keys(bucket) == []


def test_a_bucket_is_required():
    with pytest.raises(ValueError, match="S3_BUCKET"):
        S3Storage(S3Settings(bucket=""))


def _invoke(app, *args, **config):
    saved = {k: app.config.get(k) for k in config}
    app.config.update(config)
    try:
        with app.app_context():
            return app.test_cli_runner().invoke(args=list(args))
    finally:
        app.config.update(saved)


def _local(tmp_path, n: int) -> tuple[LocalStorage, dict[str, bytes]]:
    local = LocalStorage(tmp_path / "media")
    files = {}
    for i in range(n):
        data = f"photo {i} ".encode() * (i + 1)
        files[_key(100 + i)] = data
        files[_key(100 + i, "-thumb")] = data[:5]
    for key, data in files.items():
        local.save(key, data, "image/jpeg")
    (tmp_path / "media" / "2026").mkdir(exist_ok=True)
    (tmp_path / "media" / "2026" / ".tmp-abc.part").write_bytes(b"an upload cut short")
    return local, files


def test_migrate_copies_checks_and_resumes(app, s3_server, tmp_path, monkeypatch):
    local, files = _local(tmp_path, 3)
    settings = s3_server.settings()
    bucket = settings["S3_BUCKET"]
    settings.update(MEDIA_STORAGE="local", MEDIA_ROOT=str(tmp_path / "media"))  # copied before the switch
    first = _invoke(app, "media", "migrate", **settings)
    assert first.exit_code == 0, first.output
    counts = json.loads(first.output.strip().splitlines()[-1])
    assert counts == {"copied": 6, "skipped": 0, "failed": 0, "bytes_copied": sum(map(len, files.values()))}
    assert s3_server.keys(bucket) == sorted(files)
    client = s3_server.client()
    for key, data in files.items():
        answer = client.get_object(Bucket=bucket, Key=key)
        assert answer["Body"].read() == data and answer["ContentType"] == "image/jpeg"
    # Again: everything is there already.
    again = _invoke(app, "media", "migrate", **settings)
    assert json.loads(again.output.strip().splitlines()[-1])["skipped"] == 6
    # An object damaged in the bucket (same size, other bytes) and one missing are copied again.
    damaged, missing = sorted(files)[0], sorted(files)[1]
    client.put_object(Bucket=bucket, Key=damaged, Body=b"X" * len(files[damaged]))
    client.delete_object(Bucket=bucket, Key=missing)
    resumed = _invoke(app, "media", "migrate", "--verbose", **settings)
    assert json.loads(resumed.output.strip().splitlines()[-1]) == {
        "copied": 2, "skipped": 4, "failed": 0, "bytes_copied": len(files[damaged]) + len(files[missing])}
    assert client.get_object(Bucket=bucket, Key=damaged)["Body"].read() == files[damaged]


def test_migrate_counts_a_copy_that_does_not_check_out_as_failed(app, s3_server, tmp_path, monkeypatch):
    local, files = _local(tmp_path, 2)
    settings = s3_server.settings()
    settings.update(MEDIA_ROOT=str(tmp_path / "media"))
    bad = sorted(files)[2]
    real_save = S3Storage.save

    def garbling_save(self, key, data, content_type=""):
        real_save(self, key, data[::-1] + b"!" if key == bad else data, content_type)

    monkeypatch.setattr(S3Storage, "save", garbling_save)
    result = _invoke(app, "media", "migrate", **settings)
    assert result.exit_code == 1
    assert json.loads(result.output.strip().splitlines()[-1])["failed"] == 1
    monkeypatch.setattr(S3Storage, "save", real_save)
    fixed = _invoke(app, "media", "migrate", **settings)
    assert fixed.exit_code == 0 and json.loads(fixed.output.strip().splitlines()[-1])["copied"] == 1


def test_migrate_without_a_bucket_says_so(app, tmp_path):
    result = _invoke(app, "media", "migrate", "--source", str(tmp_path), S3_BUCKET="")
    assert result.exit_code == 2 and "S3_BUCKET" in result.output
