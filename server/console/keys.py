"""Open311 API keys (open311.keys, as `flask open311 keys`): the list, a new key (its secret
shown once, on the answer to the form), revoking one. Keys reach every unit, so only an
administrator of a top unit manages them."""
from __future__ import annotations

from flask import redirect, request, url_for

from ..categories.operations import may_edit as top_admin
from ..errors import Invalid, NotFound
from ..extensions import db
from ..open311 import keys as open311_keys
from ..open311.models import ApiKey
from .web import actor, audited, bp, page, render


def _top_admin_or_404() -> None:
    if not top_admin(actor()):
        raise NotFound()


def _state(key: ApiKey | None) -> dict:
    return {} if key is None else {"name": key.name, "revoked_at": key.revoked_at}


@bp.get("/admin/keys")
@page("开放接口密钥", order=80, roles=("admin",))
def key_list():
    _top_admin_or_404()
    return render("console/keys.html", keys=open311_keys.list_keys(), secret=None, done=request.args.get("done"))


@bp.post("/admin/keys")
def key_issue():
    _top_admin_or_404()
    name = request.form.get("name", "").strip()
    made: dict = {}
    with audited("open311_key.issue", f"open311_key:{name[:64]}", lambda: _state(made.get("key"))):
        try:
            made["key"], made["raw"] = open311_keys.create_key(name)
        except ValueError:
            raise Invalid("名称须为 1 到 64 个字符，且不能与已有密钥重名", key="validation_error",
                          errors={"fields": {"name": ["名称无效或已存在"]}}) from None
    # The secret is on this answer only (no-store, no redirect): only its hash is kept.
    return render("console/keys.html", 201, keys=open311_keys.list_keys(), secret=made["raw"], issued=made["key"],
                  done=None)


@bp.post("/admin/keys/<int:key_id>/revoke")
def key_revoke(key_id: int):
    _top_admin_or_404()
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound()
    with audited("open311_key.revoke", f"open311_key:{key.id}", lambda: _state(key)):
        open311_keys.revoke_key(key.name)
    return redirect(url_for("console.key_list", done="revoked"), 303)
