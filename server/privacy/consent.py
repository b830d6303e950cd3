"""Consent: residents agree to the current privacy policy before their first report."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from ..cache import ProcessCache
from ..errors import DomainError, Invalid
from ..extensions import db
from ..timeutil import utcnow
from .models import ConsentRecord


def current_policy() -> str:
    return current_app.config["PRIVACY_POLICY_VERSION"]


def record_consent(user, version: str) -> ConsentRecord:
    if version != current_policy():
        raise Invalid(f"隐私政策已更新，请阅读并同意最新版本（{current_policy()}）", key="policy_outdated")
    row = ConsentRecord(user_id=user.id, policy_version=version, accepted_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def latest_consent(user) -> ConsentRecord | None:
    """The user's most recent agreement (to any version of the policy)."""
    return db.session.execute(sa.select(ConsentRecord).where(ConsentRecord.user_id == user.id)
                              .order_by(ConsentRecord.id.desc()).limit(1)).scalar()


# A yes is never withdrawn (an account that goes is deleted whole), so it is kept per
# process: a resident's second report asks no more. Only yeses are kept.
_consented = ProcessCache("consented", ttl_setting=None, max_entries=100_000)


def has_consented(actor) -> bool:
    """Whether the actor agreed to the current policy. Keyed by the account's creation time
    too: a database may give a deleted account's id to a new one."""
    key = (actor.id, actor.created_at, current_policy())
    if _consented.peek(key):
        return True
    found = db.session.execute(sa.select(ConsentRecord.id).where(
        ConsentRecord.user_id == actor.id, ConsentRecord.policy_version == key[2]).limit(1)).first() is not None
    if found:
        _consented.put(key, True)
    return found


def require_consent(actor) -> None:
    """Residents agree to the current privacy policy before their first report.
    Integration accounts (Open311 keys) act for an organisation and are exempt."""
    if actor.openid.startswith("open311:") or has_consented(actor):
        return
    raise DomainError("请先阅读并同意《用户隐私保护指引》", status=403, key="consent_required",
                      errors={"policy_version": current_policy()})


