import mimetypes

from flask import Response, current_app, request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..auth import sessions
from ..errors import DomainError, NotFound
from ..openapi import answer
from ..ops.ratelimit import rate_limit
from ..tickets.queries import photo_is_public
from . import signing
from .operations import storage, upload
from .storage import validate_key

blp = Blueprint("media", __name__, description="照片上传")


@answer()
class MediaSchema(Schema):
    """A new upload: seen by its uploader alone until a report or a note takes it (signed addresses)."""

    id = fields.Integer()
    url = fields.Function(lambda m: url_for("media.serve", key=m.key) + signing.query(m.key), metadata={"type": "string"})
    thumbnail_url = fields.Function(lambda m: url_for("media.serve", key=m.thumb_key) + signing.query(m.thumb_key),
                                    metadata={"type": "string"})
    width = fields.Integer()
    height = fields.Integer()


@blp.post("/api/v1/media")
@rate_limit("RATELIMIT_UPLOAD", key=sessions.user_or_ip)
@sessions.login_required
@blp.response(201, MediaSchema)
@blp.doc(security=[{"bearerAuth": []}], requestBody={
    "content": {"multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}})
def create_media():
    """Upload one photo (JPEG, PNG or WebP, up to 10 MB): re-encoded, metadata stripped."""
    file = request.files.get("file")
    if file is None:
        raise DomainError("请选择要上传的照片（字段 file）", status=422, key="file_required")
    return upload(sessions.viewer(), file.stream)


_IMAGE = {"schema": {"type": "string", "format": "binary"}}


@blp.get("/media/<path:key>")
@blp.doc(responses={"200": {"description": "The photo or its thumbnail, as stored (JPEG, or PNG where it had transparency)",
                            "content": {"image/jpeg": _IMAGE, "image/png": _IMAGE}},
                    "302": {"description": "With photos in a bucket (MEDIA_STORAGE=s3): to a presigned address of "
                                           "the bucket, valid MEDIA_URL_SECONDS"}})
def serve(key):
    """A photo by its key: anyone's when it belongs to what the public reads, else only under a
    signed address (media/signing.py); 404 otherwise. nginx sends the bytes in production.

    With photos in a bucket (MEDIA_STORAGE=s3) the bucket sends them: the answer redirects to
    an address of it presigned for MEDIA_URL_SECONDS."""
    # Behind nginx (MEDIA_ACCEL_REDIRECT_PREFIX set) the app only decides; nginx sends the bytes
    # from its internal location (deploy/nginx/gongzhi.conf).
    accel = current_app.config.get("MEDIA_ACCEL_REDIRECT_PREFIX") or ""
    try:
        validate_key(key)
        public = photo_is_public(key)
        if not public and not signing.valid(key, request.args.get("exp"), request.args.get("sig")):
            raise FileNotFoundError(key)
    except (ValueError, FileNotFoundError):
        raise NotFound("照片不存在", key="media_not_found") from None
    cache = "public, max-age=31536000, immutable" if public else "private, max-age=3600"
    store = storage()
    seconds = int(current_app.config.get("MEDIA_URL_SECONDS") or 600)
    target = store.redirect_url(key, seconds, cache)
    if target:
        # The redirect itself may be kept a little less long than the address it names.
        return Response(status=302, headers={"Location": target, "Cache-Control": f"private, max-age={seconds // 2}",
                                             "X-Content-Type-Options": "nosniff"})
    try:
        if accel and not store.exists(key):
            raise FileNotFoundError(key)
        data = b"" if accel else store.open(key)
    except (ValueError, FileNotFoundError, OSError):
        raise NotFound("照片不存在", key="media_not_found") from None
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if accel:
        headers["X-Accel-Redirect"] = accel.rstrip("/") + "/" + key
    return Response(data, content_type=content_type, headers=headers)
