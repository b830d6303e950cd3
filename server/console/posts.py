"""Staff posts: the posts at the actor's units; granting one (a user, a role, a unit within
the actor's scope) and revoking one, through auth.operations (nobody grants above their own
post; a unit or post outside the actor's scope is 404)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, request, url_for

from ..auth import operations as auth_ops
from ..auth.models import ROLE_LABELS, Role, StaffPost, User
from ..errors import Invalid
from ..extensions import db
from ..units.models import Unit
from ..units.scope import scope_paths
from .units import units_below
from .web import actor, audited, bp, in_scope_or_404, page, render, unit_in_scope

MANAGERS = tuple(sorted(auth_ops.MANAGERS))


def _posts_in_scope() -> list:
    paths = scope_paths(actor(), roles=MANAGERS)
    if not paths:
        return []
    return db.session.execute(
        sa.select(StaffPost, User, Unit).join(User, User.id == StaffPost.user_id).join(Unit, Unit.id == StaffPost.unit_id)
        .where(sa.or_(*[Unit.path.startswith(p, autoescape=True) for p in paths]))
        .order_by(Unit.path, StaffPost.role, User.id).limit(500)).all()


def _grantable() -> list[tuple[str, str]]:
    """The roles the actor may grant somewhere (the form's choices; the unit decides)."""
    mine = {post.role for post in actor().posts}
    return [(role.value, ROLE_LABELS[role]) for role in Role if any(role in auth_ops.GRANTS.get(m, ()) for m in mine)]


def _state(post: StaffPost | None) -> dict:
    if post is None:
        return {}
    return {"user_id": post.user_id, "unit_id": post.unit_id, "role": post.role.value}


@bp.get("/posts")
@page("岗位", order=50, roles=MANAGERS)
def post_list():
    rows = _posts_in_scope()
    return render("console/posts.html", rows=rows, role_labels=ROLE_LABELS, roles=_grantable(),
                  units=units_below(MANAGERS), me_id=actor().id,
                  may_revoke=lambda post: auth_ops.may_grant(actor(), post.unit, post.role), done=request.args.get("done"))


@bp.post("/posts/grant")
def post_grant():
    unit = unit_in_scope(request.form.get("unit_id", type=int), roles=MANAGERS)
    user_id = request.form.get("user_id", type=int)
    role = request.form.get("role", "")
    if not user_id:
        raise Invalid("请填写用户编号", key="validation_error", errors={"fields": {"user_id": ["必填，须为数字"]}})
    found: dict = {}
    with audited("post.grant", f"user:{user_id}", lambda: _state(found.get("post"))) as asked:
        asked.update(user_id=user_id, unit_id=unit.id, role=role)
        found["post"] = auth_ops.grant_post_by(actor(), user_id, unit, role)
    return redirect(url_for("console.post_list", done="granted"), 303)


@bp.post("/posts/<int:post_id>/revoke")
def post_revoke(post_id: int):
    post = in_scope_or_404(db.session.get(StaffPost, post_id), roles=MANAGERS)
    states = iter([_state(post), {"revoked": True}])  # before, and after (the row is gone)
    with audited("post.revoke", f"post:{post_id}", lambda: next(states)):
        auth_ops.revoke_post_by(actor(), post)
    return redirect(url_for("console.post_list", done="revoked"), 303)
