"""PIPL operations: consent before the first report, a copy of everything we hold about
a user, deleting the account (reports stay in the public record, anonymised), the log of
staff reads of a reporter's personal data, and erasing the reporter link after retention."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import crypto
from ..auth import viewer_cache
from ..auth.models import AuthToken, User
from ..errors import DomainError, Invalid
from ..extensions import db
from ..media.models import Media
from ..media.operations import storage
from ..notifications.models import Notification, SubscriptionQuota
from ..tickets import lifecycle as lc
from ..tickets.models import Ticket, TicketEvent, TicketRating, TicketSupport
from ..timeutil import isoformat, utcnow
from .models import ConsentRecord, PersonalDataAccess


def current_policy() -> str:
    return current_app.config["PRIVACY_POLICY_VERSION"]


def record_consent(user: User, version: str) -> ConsentRecord:
    if version != current_policy():
        raise Invalid(f"隐私政策已更新，请阅读并同意最新版本（{current_policy()}）", key="policy_outdated")
    row = ConsentRecord(user_id=user.id, policy_version=version, accepted_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def latest_consent(user: User) -> ConsentRecord | None:
    """The user's most recent agreement (to any version of the policy)."""
    return db.session.execute(sa.select(ConsentRecord).where(ConsentRecord.user_id == user.id)
                              .order_by(ConsentRecord.id.desc()).limit(1)).scalar()


_CONSENTED = "gongzhi.consented"


def has_consented(user: User) -> bool:
    """Whether the user agreed to the current policy. An agreement is never withdrawn (an
    account that goes is deleted whole), so a yes is kept per process: a resident's second
    report asks no more. Keyed by the account's creation time too: a database may give a
    deleted account's id to a new one."""
    known = current_app.extensions.setdefault(_CONSENTED, set())
    key = (user.id, user.created_at, current_policy())
    if key in known:
        return True
    found = db.session.execute(sa.select(ConsentRecord.id).where(
        ConsentRecord.user_id == user.id, ConsentRecord.policy_version == key[2]).limit(1)).first() is not None
    if found:
        if len(known) > 100_000:
            known.clear()
        known.add(key)
    return found


def require_consent(user: User) -> None:
    """Residents agree to the current privacy policy before their first report.
    Integration accounts (Open311 keys) act for an organisation and are exempt."""
    if user.openid.startswith("open311:") or has_consented(user):
        return
    raise DomainError("请先阅读并同意《用户隐私保护指引》", status=403, key="consent_required",
                      errors={"policy_version": current_policy()})


_access, _tickets = PersonalDataAccess.__table__, Ticket.__table__
# One row per ticket whose reporter (someone else) a staff member was shown, copied from the
# tickets by the database: a page of twenty is one INSERT with twenty ids to send.
_LOG_ACCESS = _access.insert().from_select(
    ["staff_id", "subject_id", "ticket_id", "fields", "accessed_at"],
    sa.select(sa.bindparam("staff_id", type_=sa.Integer), _tickets.c.reporter_id, _tickets.c.id,
              sa.bindparam("fields", type_=sa.String), sa.bindparam("now", type_=_access.c.accessed_at.type))
    .where(_tickets.c.id.in_(sa.bindparam("ids", expanding=True)), _tickets.c.reporter_id.is_not(None),
           _tickets.c.reporter_id != sa.bindparam("staff_id", type_=sa.Integer)),
)


def log_access(staff, tickets: list, fields: str = "phone_masked") -> None:
    """A row per ticket whose reporter's personal data a staff member was shown (their own
    reports aside), in one statement."""
    ids = [t.id for t in tickets if t.reporter_id and t.reporter_id != staff.id]
    if ids:
        db.session.connection().execute(_LOG_ACCESS, {"staff_id": staff.id, "fields": fields, "now": utcnow(), "ids": ids})


def _photo(item: Media) -> dict:
    try:
        data = base64.b64encode(storage().open(item.key)).decode()
    except (OSError, ValueError):
        data = None
    return {"id": item.id, "content_type": item.content_type, "created_at": isoformat(item.created_at), "base64": data}


def export(user: User) -> dict:
    """Everything held about the user (PIPL arts. 44-45), photos included."""
    tickets = db.session.execute(sa.select(Ticket).where(Ticket.reporter_id == user.id).order_by(Ticket.id)).scalars().all()
    ids = [t.id for t in tickets]
    events = db.session.execute(sa.select(TicketEvent).where(TicketEvent.ticket_id.in_(ids)).order_by(TicketEvent.id)).scalars().all() if ids else []
    rows = lambda model, *order: db.session.execute(  # noqa: E731
        sa.select(model).where(model.user_id == user.id).order_by(*order)).scalars().all()
    return {
        "exported_at": isoformat(utcnow()),
        "user": {"id": user.id, "nickname": user.nickname, "phone": crypto.decrypt(user.phone_enc),
                 "created_at": isoformat(user.created_at), "last_login_at": isoformat(user.last_login_at),
                 "posts": [{"unit": p.unit.name, "role": p.role.value} for p in user.posts]},
        "consents": [{"policy_version": c.policy_version, "accepted_at": isoformat(c.accepted_at)}
                     for c in rows(ConsentRecord, ConsentRecord.id)],
        "tickets": [{
            "id": t.id, "status": lc.Status(t.status).value, "category": t.category.name, "description": t.description,
            "lat": t.lat, "lng": t.lng, "address": t.address, "anonymous": t.anonymous, "created_at": isoformat(t.created_at),
            "events": [{"action": e.action, "to_status": lc.Status(e.to_status).value, "note": e.note if e.public else "",
                        "at": isoformat(e.created_at)} for e in events if e.ticket_id == t.id and e.public],
        } for t in tickets],
        "ratings": [{"ticket_id": r.ticket_id, "rating": r.rating, "comment": r.comment, "at": isoformat(r.created_at)}
                    for r in rows(TicketRating, TicketRating.id)],
        "supports": [{"ticket_id": s.ticket_id, "at": isoformat(s.created_at)} for s in rows(TicketSupport, TicketSupport.id)],
        "notifications": [{"title": n.title, "body": n.body, "at": isoformat(n.created_at)}
                          for n in rows(Notification, Notification.id)],
        "subscriptions": {q.template: q.remaining for q in rows(SubscriptionQuota, SubscriptionQuota.id)},
        "photos": [_photo(m) for m in db.session.execute(
            sa.select(Media).where(Media.owner_id == user.id).order_by(Media.id)).scalars()],
    }


def delete_account(user: User) -> None:
    """PIPL art. 47: the account and what only it needs go; reports stay public, anonymised."""
    supported = db.session.execute(sa.select(TicketSupport.ticket_id).where(TicketSupport.user_id == user.id)).scalars().all()
    db.session.execute(sa.update(Ticket).where(Ticket.reporter_id == user.id).values(anonymous=True),
                       execution_options={"synchronize_session": False})
    db.session.execute(sa.update(AuthToken).where(AuthToken.user_id == user.id).values(revoked_at=utcnow()),
                       execution_options={viewer_cache.OPTION: (user.id,)})
    db.session.delete(user)
    db.session.flush()
    for ticket_id in supported:
        count = db.session.execute(sa.select(sa.func.count()).select_from(TicketSupport)
                                   .where(TicketSupport.ticket_id == ticket_id)).scalar_one()
        db.session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(supporters=count),
                           execution_options={"synchronize_session": False})
    db.session.flush()


def erase_expired(now: datetime | None = None) -> int:
    """Unlink reporters from tickets closed longer ago than the retention period."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["PERSONAL_DATA_RETENTION_DAYS"])
    return db.session.execute(
        sa.update(Ticket).where(Ticket.status.in_(list(lc.FINAL)), Ticket.closed_at < cutoff,
                                Ticket.reporter_id.is_not(None))
        .values(reporter_id=None, anonymous=True, personal_data_erased_at=now),
        execution_options={"synchronize_session": False}).rowcount
