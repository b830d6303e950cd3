"""Storing an upload: checked and re-encoded by processing, kept behind the storage interface
(a directory, or a bucket with MEDIA_STORAGE=s3); discarding photos no one needs any more."""
from __future__ import annotations

import logging
import mimetypes
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.actor import Actor
from ..errors import DomainError, Invalid
from ..extensions import db
from ..timeutil import utcnow
from .models import Media
from .processing import ImageRejected, process_image, read_limited
from .storage import LocalStorage, MediaStorage, make_key

log = logging.getLogger("gongzhi.media")
_DISCARDED = "gongzhi.media.discarded"  # session.info: keys whose bytes go once the commit lands
UNUSED_BATCH = 500


def bucket(config=None):
    """The S3 store the configuration names (S3_*), whatever MEDIA_STORAGE says: `flask media
    migrate` copies into it before the service is switched over."""
    from .s3 import S3Settings, S3Storage

    return S3Storage(S3Settings.from_config(config if config is not None else current_app.config))


def storage() -> MediaStorage:
    ext = current_app.extensions
    if "gongzhi.media" not in ext:
        if current_app.config.get("MEDIA_STORAGE", "local") == "s3":
            ext["gongzhi.media"] = bucket()
        else:
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
        taken = db.session.connection().execute(
            sa.update(Media.__table__).where(Media.id == item.id, Media.attached_to.is_(None))
            .values(attached_to=subject, event_id=event_id, position=position)).rowcount
        if taken != 1:
            raise _used(item.id)
        for name, value in (("attached_to", subject), ("event_id", event_id), ("position", position)):
            set_committed_value(item, name, value)


def listed(items: Sequence[Media]) -> list[dict]:
    """How a domain keeps its photos in a JSON column: id and the two keys."""
    return [{"id": m.id, "key": m.key, "thumb_key": m.thumb_key} for m in items]


def _used(media_id: int) -> Invalid:
    return Invalid("照片无效或已被使用，请重新上传", key="invalid_media", errors={"media": media_id})


def discard(items: list[Media]) -> int:
    """Delete these photos' rows now and their bytes (photo and thumbnail) once the transaction
    commits, unless another row still names the same bytes (keys are content-addressed: the
    same picture uploaded twice in a month is one file). A rolled-back transaction deletes
    nothing. Returns how many rows went."""
    if not items:
        return 0
    keys = db.session.info.setdefault(_DISCARDED, set())
    for item in items:
        keys.update((item.key, item.thumb_key))
    db.session.execute(sa.delete(Media).where(Media.id.in_([m.id for m in items])),
                       execution_options={"synchronize_session": False})
    for item in items:
        if item in db.session:
            db.session.expunge(item)
    return len(items)


def discard_unused_of(user_id: int) -> int:
    """A departing account's uploads that no report or note took: no one else ever saw them."""
    return discard(list(db.session.execute(sa.select(Media).where(
        Media.owner_id == user_id, Media.attached_to.is_(None))).scalars()))


def sweep(now: datetime | None = None) -> dict:
    """Retention: uploads never taken by a report or a note within MEDIA_UNUSED_HOURS go, a
    batch at a time. The caller commits."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config.get("MEDIA_UNUSED_HOURS", 48))
    stale = db.session.execute(sa.select(Media).where(Media.attached_to.is_(None), Media.created_at < cutoff)
                               .order_by(Media.id).limit(UNUSED_BATCH)).scalars().all()
    return {"unused_photos_deleted": discard(list(stale))}


def _delete_bytes(keys: set[str]) -> None:
    """After the commit: each key that no row names any more, deleted from the store. A failure
    is logged and leaves the bytes (unreachable: no row names them), never fails the request."""
    m = Media.__table__
    with db.engine.connect() as conn:
        named = set(conn.execute(sa.select(m.c.key).where(m.c.key.in_(keys))).scalars())
        named |= set(conn.execute(sa.select(m.c.thumb_key).where(m.c.thumb_key.in_(keys))).scalars())
    store = storage()
    for key in sorted(keys - named):
        try:
            store.delete(key)
        except Exception:  # noqa: BLE001
            log.exception("could not delete photo %s from the store", key)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    keys = session.info.pop(_DISCARDED, None)
    if keys and has_app_context():
        _delete_bytes(keys)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_DISCARDED, None)


def copy_to_bucket(source: LocalStorage, target, on_object=None) -> dict:
    """Copy every photo of a local store into a bucket (`flask media migrate`). Resumable: an
    object already there with the same bytes (size and checksum, media/s3.py `holds`) is
    skipped. Each copied object is checked after the upload the same way; one that does not
    match is counted as failed (and left for the next run to replace). `on_object(key,
    outcome)` hears of each: "copied", "skipped" or "failed"."""
    from .s3 import digests

    counts = {"copied": 0, "skipped": 0, "failed": 0, "bytes_copied": 0}
    for key in sorted(source.keys()):
        try:
            data = source.open(key)
            sha, md5 = digests(data)
            if target.holds(key, len(data), sha, md5):
                outcome = "skipped"
            else:
                content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
                target.save(key, data, content_type)
                outcome = "copied" if target.holds(key, len(data), sha, md5) else "failed"
                if outcome == "copied":
                    counts["bytes_copied"] += len(data)
        except Exception:  # noqa: BLE001  (one object's failure is counted; the rest go on)
            log.exception("could not copy photo %s to the bucket", key)
            outcome = "failed"
        counts[outcome] += 1
        if on_object is not None:
            on_object(key, outcome)
    return counts
