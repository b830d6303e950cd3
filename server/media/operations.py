"""Storing an upload: checked and re-encoded by processing, kept behind the storage interface."""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.actor import Actor
from ..errors import DomainError, Invalid
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


def take(actor: Actor, ids: Sequence[int]) -> list[Media]:
    """The actor's own uploads, not yet attached to anything, in the order given."""
    ids = list(ids)
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise Invalid("照片重复", key="invalid_media")
    found = {m.id: m for m in db.session.execute(sa.select(Media).where(Media.id.in_(ids))).scalars()}
    for media_id in ids:
        item = found.get(media_id)
        if item is None or item.owner_id != actor.id or item.attached_to is not None:
            raise _used(media_id)
    return [found[i] for i in ids]


def attach(items: Sequence[Media], subject: str, event_id: int | None = None) -> None:
    """Mark photos taken by `subject`, in order. Each UPDATE asks that the photo is still free,
    so of two requests racing for one photo only the first gets it; the other is refused."""
    for position, item in enumerate(items):
        taken = db.session.execute(
            sa.update(Media).where(Media.id == item.id, Media.attached_to.is_(None))
            .values(attached_to=subject, event_id=event_id, position=position),
            execution_options={"synchronize_session": False}).rowcount
        if taken != 1:
            raise _used(item.id)
        for name, value in (("attached_to", subject), ("event_id", event_id), ("position", position)):
            set_committed_value(item, name, value)


def listed(items: Sequence[Media]) -> list[dict]:
    """How a domain keeps its photos in a JSON column: id and the two keys."""
    return [{"id": m.id, "key": m.key, "thumb_key": m.thumb_key} for m in items]


def _used(media_id: int) -> Invalid:
    return Invalid("照片无效或已被使用，请重新上传", key="invalid_media", errors={"media": media_id})
