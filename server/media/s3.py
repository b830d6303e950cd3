"""Photos in S3-compatible object storage (AWS S3, Tencent COS, Aliyun OSS, MinIO), chosen
by MEDIA_STORAGE=s3 (deploy/README.md). The bucket stays private: a photo is read through a
short-lived presigned address the service hands out after its own access check.

Objects are named by the storage key (make_key), under S3_PREFIX when one is set; each
carries its SHA-256 in the `sha256` metadata field, so a copy can be verified without
reading it back (`flask media migrate`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .storage import validate_key

__all__ = ["S3Storage", "S3Settings", "ObjectInfo"]


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint_url: str = ""         # empty: the provider's default (AWS); MinIO/COS/OSS name theirs
    region: str = ""
    access_key_id: str = ""        # empty: boto3's own chain (environment, instance role ...)
    secret_access_key: str = ""
    prefix: str = ""               # e.g. "gongzhi/" when the bucket is shared
    addressing_style: str = "auto"  # "path" for MinIO and most self-hosted servers, "virtual" for COS/OSS
    public_endpoint_url: str = ""  # the address phones reach the bucket at, when the service's differs
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Any) -> "S3Settings":
        get = config.get
        return cls(bucket=get("S3_BUCKET") or "", endpoint_url=get("S3_ENDPOINT_URL") or "",
                   region=get("S3_REGION") or "", access_key_id=get("S3_ACCESS_KEY_ID") or "",
                   secret_access_key=get("S3_SECRET_ACCESS_KEY") or "", prefix=get("S3_PREFIX") or "",
                   addressing_style=get("S3_ADDRESSING_STYLE") or "auto",
                   public_endpoint_url=get("S3_PUBLIC_ENDPOINT_URL") or "",
                   timeout=float(get("S3_TIMEOUT") or 10))


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str            # without its quotes; the MD5 of the bytes for a single-part, unencrypted upload
    sha256: str | None   # from the object's metadata, when the service wrote it


def digests(data: bytes) -> tuple[str, str]:
    """(sha256 hex, md5 hex) of the bytes."""
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest()


def _not_found(err: Exception) -> bool:
    response = getattr(err, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound") or status == 404


class S3Storage:
    """The MediaStorage protocol on a bucket.

    * ``save`` puts the object with its content type and its SHA-256 (metadata), and sends
      its MD5 so the server refuses bytes damaged on the way.
    * ``open`` raises ``FileNotFoundError`` for a missing key; ``delete`` of a missing key
      is a no-op; ``path_for`` is None (no file on this box).
    * ``redirect_url`` presigns a GET valid for ``seconds``.
    """

    def __init__(self, settings: S3Settings) -> None:
        if not settings.bucket:
            raise ValueError("S3_BUCKET is required with MEDIA_STORAGE=s3")
        self.settings = settings
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.client = self._client(settings.endpoint_url)
        # Presigned addresses name the host phones reach; the signature covers it.
        self.signer = self._client(settings.public_endpoint_url) if settings.public_endpoint_url else self.client

    def _client(self, endpoint_url: str):
        import boto3
        from botocore.config import Config

        s = self.settings
        config = Config(signature_version="s3v4", connect_timeout=s.timeout, read_timeout=s.timeout,
                        retries={"max_attempts": 3, "mode": "standard"},
                        s3={"addressing_style": s.addressing_style})
        kwargs: dict[str, Any] = {"config": config}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        if s.region:
            kwargs["region_name"] = s.region
        if s.access_key_id:
            kwargs["aws_access_key_id"] = s.access_key_id
            kwargs["aws_secret_access_key"] = s.secret_access_key
        return boto3.session.Session().client("s3", **kwargs)

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    # -- MediaStorage ------------------------------------------------------ #
    def save(self, key: str, data: bytes, content_type: str = "") -> None:
        import base64

        sha, md5 = digests(data)
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data,
                               ContentType=content_type or "application/octet-stream",
                               ContentMD5=base64.b64encode(bytes.fromhex(md5)).decode(),
                               Metadata={"sha256": sha})

    def open(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as err:
            if _not_found(err):
                raise FileNotFoundError(key) from None
            raise
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        return self.info(key) is not None

    def path_for(self, key: str) -> str | None:
        validate_key(key)
        return None

    def redirect_url(self, key: str, seconds: int, cache_control: str = "") -> str | None:
        params = {"Bucket": self.bucket, "Key": self._name(key)}
        if cache_control:
            params["ResponseCacheControl"] = cache_control
        return self.signer.generate_presigned_url("get_object", Params=params, ExpiresIn=int(seconds))

    # -- beyond the protocol: copying and checking ------------------------- #
    def info(self, key: str) -> ObjectInfo | None:
        """Size, ETag and recorded SHA-256 of the object, or None when there is none."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as err:
            if _not_found(err):
                return None
            raise
        return ObjectInfo(size=int(head["ContentLength"]), etag=str(head.get("ETag", "")).strip('"'),
                          sha256=(head.get("Metadata") or {}).get("sha256"))

    def holds(self, key: str, size: int, sha256: str, md5: str) -> bool:
        """Whether the bucket has exactly these bytes under the key: the same size, and an ETag
        the server computed equal to their MD5 (a plain upload); where the ETag is no MD5
        (multipart, SSE-KMS), the bytes read back and hashed."""
        found = self.info(key)
        if found is None or found.size != size:
            return False
        if found.etag == md5:
            return True
        if found.sha256 and found.sha256 != sha256:
            return False
        return digests(self.open(key))[0] == sha256
