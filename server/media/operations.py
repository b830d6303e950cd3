"""Storing an upload: checked and re-encoded by processing, kept behind the storage interface."""
from __future__ import annotations

from flask import current_app

from ..auth.actor import Actor
from ..errors import DomainError
from ..extensions import db
from .models import Media
from .processing import ImageRejected, process_image, read_limited
from .storage import LocalStorage, MediaStorage, make_key


def storage() -> MediaStorage:
    ext = current_app.extensions
    if "gongzhi.media" not in ext:
        ext["gongzhi.media"] = LocalStorage(current_app.config["MEDIA_ROOT"])
    return ext["gongzhi.media"]


def upload(user: Actor, stream) -> Media:
    try:
        image = process_image(read_limited(stream))
    except ImageRejected as err:
        raise DomainError(err.detail, status=err.status, key=err.code) from None
    key = make_key(image.sha256, image.extension)
    thumb_key = make_key(image.sha256, "jpg", suffix="-thumb")
    store = storage()
    store.save(key, image.data, image.content_type)
    store.save(thumb_key, image.thumbnail, "image/jpeg")
    media = Media(owner_id=user.id, key=key, thumb_key=thumb_key, content_type=image.content_type,
                  width=image.width, height=image.height, size=len(image.data), sha256=image.sha256)
    db.session.add(media)
    db.session.flush()
    return media
