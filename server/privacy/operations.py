"""PIPL operations: a copy of everything we hold about a user, deleting the account
(reports stay in the public record, anonymised), and the log of staff reads of a
reporter's personal data. Consent is in consent.py; erasing the reporter link after the
retention period is a ticket timer (tickets/timers.py)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from .. import crypto
from ..auth import viewer_cache
from ..auth.models import AuthToken, Role, User
from ..extensions import db
from ..idempotency import IdempotencyKey
from ..media import signing
from ..media.models import Media
from ..media.operations import discard_unused_of
from ..notifications.models import Notification, SubscriptionQuota
from ..tickets import lifecycle as lc
from ..tickets import operations as ticket_ops
from ..tickets.models import Ticket, TicketEvent, TicketRating, TicketSupport
from ..timeutil import isoformat, utcnow
from ..topics.models import CouncilMember, Follow, Opinion
from ..votes.models import RollEntry, RollStatus, Voter
from .models import ConsentRecord, PersonalDataAccess

# Every column that refers to a user: the section of the export that holds its rows (None:
# not the user's data to take away, with the reason), and what deleting a resident's account
# does to them (its foreign key: "delete" the rows, or "unlink" them, kept without the
# person). A staff member's account row stays, closed, with their name (delete_account).
# A new table that refers to users is added here; tests/api/test_privacy.py fails until it is.
USER_REFERENCES: dict[tuple[str, str], tuple[str | None, str]] = {
    ("auth_tokens", "user_id"): (None, "delete"),            # credentials, stored hashed
    ("consent_records", "user_id"): ("consents", "delete"),
    ("idempotency_keys", "user_id"): (None, "delete"),       # retry bookkeeping
    ("open311_api_keys", "user_id"): (None, "delete"),       # an integration's account
    ("staff_posts", "user_id"): ("user", "delete"),          # user.posts
    ("subscription_quotas", "user_id"): ("subscriptions", "delete"),
    ("notifications", "user_id"): ("notifications", "delete"),
    ("ticket_supports", "user_id"): ("supports", "delete"),
    ("tickets", "reporter_id"): ("tickets", "unlink"),       # reports stay public, anonymised
    ("tickets", "assignee_id"): (None, "unlink"),            # staff work, not the person's data
    ("unit_responsibles", "user_id"): (None, "unlink"),      # a public post (包联)
    ("personal_data_access", "staff_id"): (None, "unlink"),  # the audit trail stays
    ("personal_data_access", "subject_id"): (None, "unlink"),
    ("ticket_events", "actor_id"): (None, "unlink"),         # the history stays
    ("ticket_ratings", "user_id"): ("ratings", "unlink"),    # the counts stay
    ("media", "owner_id"): ("photos", "unlink"),             # photos of public reports stay
    ("roll_entries", "user_id"): ("homes", "delete"),
    ("roll_entries", "confirmed_by"): (None, "unlink"),      # staff work
    ("votes", "created_by"): (None, "unlink"),
    ("voters", "user_id"): ("votes_taken", "unlink"),        # that they voted, never what; turnout stays
    ("voters", "recorded_by"): (None, "unlink"),             # the clerk of a paper ballot
    ("vote_events", "actor_id"): (None, "unlink"),
    ("topics", "created_by"): (None, "unlink"),
    ("topic_events", "actor_id"): (None, "unlink"),
    ("topic_opinions", "user_id"): ("opinions", "unlink"),   # opinions stay on the record, anonymised
    ("topic_opinions", "replied_by"): (None, "unlink"),
    ("follows", "user_id"): ("follows", "delete"),
    ("council_members", "user_id"): ("council_seats", "delete"),
    ("council_sessions", "recorded_by"): (None, "unlink"),
    ("console_accounts", "user_id"): (None, "delete"),       # credentials, stored hashed / encrypted
    ("console_sessions", "user_id"): (None, "delete"),
    ("console_audit", "actor_id"): (None, "unlink"),         # the audit trail stays
}


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
    """A photo of the user's as the export lists it: its address (signed, so the user can
    fetch even one that is no longer public), not its bytes. Inlining every photo made one
    export of a heavy user cost a worker hundreds of MiB (docs/RELIABILITY.md)."""
    url = url_for("media.serve", key=item.key, _external=True) + signing.query(item.key)
    return {"id": item.id, "content_type": item.content_type, "created_at": isoformat(item.created_at), "url": url}


def export(user: User) -> dict:
    """Everything held about the user (PIPL arts. 44-45); photos by their addresses."""
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
        "homes": [{"unit_id": h.unit_id, "household": h.household or "", "status": RollStatus(h.status).value}
                  for h in rows(RollEntry, RollEntry.id)],
        "votes_taken": [{"vote_id": v.vote_id, "channel": v.channel} for v in rows(Voter, Voter.vote_id)],
        "opinions": [{"topic_id": o.topic_id, "body": o.body, "at": isoformat(o.created_at)}
                     for o in rows(Opinion, Opinion.id)],
        "follows": [{"topic_id": f.topic_id, "ticket_id": f.ticket_id} for f in rows(Follow, Follow.id)],
        "council_seats": [{"unit_id": c.unit_id, "name": c.name} for c in rows(CouncilMember, CouncilMember.id)],
        "photos": [_photo(m) for m in db.session.execute(
            sa.select(Media).where(Media.owner_id == user.id).order_by(Media.id)).scalars()],
    }


def _acted_as_staff(user: User) -> bool:
    """Whether the user's name is part of the public record of the office: they held a post,
    acted on a ticket in a staff role, or read a reporter's personal data."""
    if user.posts:
        return True
    staff_roles = [role.value for role in Role] + [lc.ASSIGNEE]
    acted = db.session.execute(sa.select(TicketEvent.id).where(
        TicketEvent.actor_id == user.id, TicketEvent.actor_role.in_(staff_roles)).limit(1)).first()
    read = db.session.execute(sa.select(PersonalDataAccess.id).where(
        PersonalDataAccess.staff_id == user.id).limit(1)).first()
    return acted is not None or read is not None


def delete_account(user: User) -> None:
    """PIPL art. 47: the account and what only it needs go; reports stay public, anonymised.

    A resident's account row goes, and their history rows keep no link to them. A staff
    member's acts are the office's record (who acted on which ticket, who read whose data):
    their row stays as a closed account with their name alone, unable to sign in (its
    openid replaced), everything else about them erased. Photos they uploaded that no report
    or note took are deleted, bytes and all; those of reports stay with the public record."""
    supported = db.session.execute(sa.select(TicketSupport.ticket_id).where(TicketSupport.user_id == user.id)).scalars().all()
    ticket_ops.anonymise_reports(user.id)
    discard_unused_of(user.id)  # uploads no report took: rows now, bytes (disk or bucket) after the commit
    db.session.execute(sa.update(AuthToken).where(AuthToken.user_id == user.id).values(revoked_at=utcnow()),
                       execution_options={viewer_cache.OPTION: (user.id,)})
    if _acted_as_staff(user):
        user.openid, user.unionid, user.session_key_enc, user.phone_enc = f"deleted:{user.id}", None, None, None
        user.wecom_userid, user.last_login_at = None, None
        user.posts.clear()
        for model in (Notification, SubscriptionQuota, TicketSupport, AuthToken, IdempotencyKey):
            db.session.execute(sa.delete(model).where(model.user_id == user.id))
    else:
        db.session.delete(user)
    db.session.flush()
    ticket_ops.recount_supporters(supported)
    db.session.flush()
