"""Deciding together in the console: a unit's topics and hot spots, a topic's page (its
timeline, opinions, council sittings and votes, and the stage forms), a vote's page (open,
close, cancel, paper ballots) and the roll's claims. Every change goes through the topics
and votes operations (as the API's), audited."""
from __future__ import annotations

from flask import current_app, redirect, request, url_for

from .. import directory
from ..auth.models import ROLE_LABELS
from ..errors import Invalid, NotFound
from ..extensions import db
from ..media import signing
from ..media.storage import url_path
from ..tickets.lifecycle import MODERATORS
from ..topics import operations as topic_ops
from ..topics import queries as topic_queries
from ..topics import rules as topic_rules
from ..topics.models import Opinion, Topic, TopicStatus
from ..topics.schemas import ACTION_SCHEMAS
from ..units.scope import staff_roles_in
from ..votes import operations as vote_ops
from ..votes import queries as vote_queries
from ..votes import rules as vote_rules
from ..votes.models import RollEntry, Vote, VoteStatus
from .dashboard import units_in_scope
from .web import (
    actor,
    audited,
    beijing,
    bp,
    home_unit,
    in_scope_or_404,
    load_form,
    page,
    render,
    unit_in_scope,
    uploaded_photos,
)

GROUPS = {"open": "进行中", "voting": "投票中", "decided": "已决定", "ended": "已结束", "draft": "草拟"}
STAGE_LABELS = {"solicit": "征求意见", "propose": "支部提议", "deliberate": "提交议事会", "put_to_residents": "交居民决策",
                "decide": "记录决定", "publish_decision": "公开决定", "publish_result": "公开实施结果", "close": "办结",
                "withdraw": "撤回", "reject": "不予采纳", "create": "提出议题", "council": "议事会表决"}
VOTE_CHOICES = {"yes": "同意", "no": "反对", "abstain": "弃权"}
ROLE_NAMES = {**{role.value: label for role, label in ROLE_LABELS.items()}, "member": "议事会成员", "system": "系统"}
EXITS = ("withdraw", "reject")  # side exits: listed after the stages forward, never unfolded first
DONE = {**{a: f"已{label}" for a, label in STAGE_LABELS.items()}, "solicit": "已开始征求意见", "council": "已记录议事会表决",
        "reply": "已回复"}


def _topic_in_scope(topic_id: int) -> Topic:
    """A topic of a unit the actor is staff of (or above); else 404."""
    return in_scope_or_404(db.session.get(Topic, topic_id), lambda t: directory.unit(t.unit_id))


def _vote_in_scope(vote_id: int) -> Vote:
    return in_scope_or_404(db.session.get(Vote, vote_id), lambda v: directory.unit(v.unit_id))


def _chosen_unit():
    """The unit named by ?unit= (in scope, or 404), else the actor's highest."""
    if request.args.get("unit"):
        return unit_in_scope(request.args.get("unit", type=int))
    return home_unit(actor())


def _topic_state(topic: Topic) -> dict:
    return {"status": TopicStatus(topic.status).value, "passed": topic.passed, "version": topic.version}


def _vote_state(vote: Vote) -> dict:
    return {"status": VoteStatus(vote.status).value, "roll_size": vote.roll_size, "version": vote.version}


def _done(endpoint: str, **values):
    if request.headers.get("HX-Request") == "true":
        return "", 204, {"HX-Redirect": url_for(endpoint, **values)}
    return redirect(url_for(endpoint, **values), 303)


@bp.get("/topics")
@page("议事协商", order=40, roles=topic_rules.STAFF | {topic_rules.GRID})
def topic_list():
    who = actor()
    unit = _chosen_unit()
    group = request.args.get("group", "")
    group = group if group in GROUPS else ""
    try:
        found = topic_queries.list_topics(who, unit.id, group or None, limit=30, cursor=request.args.get("cursor") or None)
    except Invalid:
        raise NotFound() from None
    hotspots = topic_queries.hotspots(who, unit.id, current_app.config["HOTSPOT_THRESHOLDS"]) \
        if staff_roles_in(who, unit) & topic_rules.STAFF else []
    return render("console/topics.html", unit=unit, units=units_in_scope(), group=group, groups=GROUPS,
                  items=found["items"], next_cursor=found["next_cursor"], labels=topic_rules.LABELS,
                  hotspots=hotspots, can_create=bool(staff_roles_in(who, unit) & topic_rules.STAFF))


@bp.post("/topics")
def topic_create():
    who = actor()
    unit = unit_in_scope(request.form.get("unit_id", type=int))
    with audited("topic.create", f"unit:{unit.id}") as asked:
        asked["title"] = request.form.get("title", "")
        topic = topic_ops.create(who, unit.id, request.form.get("title", ""), request.form.get("body", ""))
    return _done("console.topic_page", topic_id=topic.id)


@bp.get("/topics/<int:topic_id>")
def topic_page(topic_id: int):
    who = actor()
    topic = _topic_in_scope(topic_id)
    roles = topic_ops.roles_for(who, topic)
    status = TopicStatus(topic.status)
    events = topic_queries.timeline(topic, who)
    opinions = topic_queries.opinions(topic, who, limit=100)["items"]
    votes = [vote_queries.shown(db.session.get(Vote, v), who) for v in topic_queries.topic_votes(topic)]
    council = topic_queries.council(topic.unit_id)
    can_sit = status == TopicStatus.deliberating and bool(roles & topic_rules.COUNCIL)
    return render("console/topic.html", topic=topic, status_label=topic_rules.LABELS[status], events=events,
                  photos=_photos, opinions=opinions, sessions=topic_queries.sessions(topic), votes=votes,
                  actions=sorted(topic_rules.MACHINE.allowed_actions(status, roles, topic), key=lambda a: a in EXITS),
                  exits=EXITS, stage_labels=STAGE_LABELS,
                  council=council if can_sit else [], vote_choices=VOTE_CHOICES, role_names=ROLE_NAMES,
                  status_names={s.value: label for s, label in topic_rules.LABELS.items()},
                  is_moderator=bool(staff_roles_in(who, directory.unit(topic.unit_id)) & MODERATORS),
                  done=DONE.get(request.args.get("done", ""), ""))


def _photos(listed: list[dict] | None) -> list[dict]:
    """Photos kept as {id, key, thumb_key}, as the service's signed addresses."""
    base = url_for("media.serve", key="-")[:-1]
    return [{"url": base + url_path(m["key"]) + signing.query(m["key"]),
             "thumbnail_url": base + url_path(m["thumb_key"]) + signing.query(m["thumb_key"])} for m in listed or ()]


def _stage_payload(action: str) -> dict:
    form = request.form
    raw: dict = {k: v for k, v in form.items() if k not in ("csrf_token", "photos") and v.strip() != ""
                 and not k.startswith("vote_")}
    if "until" in raw:
        raw["until"] = beijing(raw["until"])
    if action == "decide" and "passed" in raw:
        raw["passed"] = raw["passed"] == "1"
    if action == "put_to_residents" and raw.get("method") == "vote":
        options = [line.strip() for line in form.get("vote_options", "").splitlines() if line.strip()]
        raw["vote"] = {"options": options, "opens_at": beijing(form.get("vote_opens_at", "")),
                       "closes_at": beijing(form.get("vote_closes_at", "")),
                       "by_household": form.get("vote_by_household") == "1",
                       "quorum_pct": form.get("vote_quorum_pct", "50"), "threshold_pct": form.get("vote_threshold_pct", "50")}
    raw["media"] = uploaded_photos()
    return load_form(ACTION_SCHEMAS[action], raw)


@bp.post("/topics/<int:topic_id>/<any(solicit, propose, deliberate, put_to_residents, decide, publish_decision, "
         "publish_result, close, withdraw, reject):action>")
def topic_action(topic_id: int, action: str):
    """One stage, through topics.operations.act (the API's path), audited."""
    who = actor()
    topic = _topic_in_scope(topic_id)
    payload = _stage_payload(action)
    with audited(f"topic.{action}", f"topic:{topic.id}", lambda: _topic_state(topic)) as asked:
        asked.update({k: v for k, v in payload.items() if k not in ("version", "media")})
        topic_ops.act(topic.id, action, who, payload)
    return _done("console.topic_page", topic_id=topic.id, done=action)


@bp.post("/topics/<int:topic_id>/council")
def topic_council(topic_id: int):
    """A council sitting: who was present and each member's named vote on the motion."""
    who = actor()
    topic = _topic_in_scope(topic_id)
    form = request.form
    present = [int(v) for v in form.getlist("present") if v.isdigit()]
    votes = {m: form.get(f"vote_{m}", "") for m in present if form.get(f"vote_{m}")}
    version = form.get("version", type=int)
    with audited("topic.council", f"topic:{topic.id}", lambda: _topic_state(topic)) as asked:
        asked.update({"motion": form.get("motion", ""), "present": present, "votes": votes})
        topic_ops.record_session(topic, who, form.get("motion", ""), present, votes, form.get("minutes", ""), version)
    return _done("console.topic_page", topic_id=topic.id, done="council")


def _opinion_in_scope(opinion_id: int) -> Opinion:
    opinion = db.session.get(Opinion, opinion_id)
    if opinion is None:
        raise NotFound()
    _topic_in_scope(opinion.topic_id)
    return opinion


@bp.post("/opinions/<int:opinion_id>/reply")
def opinion_reply(opinion_id: int):
    opinion = _opinion_in_scope(opinion_id)
    with audited("opinion.reply", f"opinion:{opinion.id}", lambda: {"reply": opinion.reply}):
        topic_ops.reply_opinion(opinion, actor(), request.form.get("reply", ""))
    return _done("console.topic_page", topic_id=opinion.topic_id, done="reply")


# --- votes -------------------------------------------------------------------------------


@bp.get("/votes/<int:vote_id>")
def vote_page(vote_id: int):
    who = actor()
    vote = _vote_in_scope(vote_id)
    shown = vote_queries.shown(vote, who)
    status = VoteStatus(vote.status)
    roles = staff_roles_in(who, directory.unit(vote.unit_id))
    return render("console/vote.html", v=shown, vote=vote, labels=vote_rules.LABELS,
                  actions=vote_rules.MACHINE.allowed_actions(status, roles, vote),
                  can_enter_paper=status == VoteStatus.open and bool(roles & vote_rules.CLERKS),
                  done=request.args.get("done", ""))


@bp.post("/votes/<int:vote_id>/<any(open, close, cancel):action>")
def vote_action(vote_id: int, action: str):
    who = actor()
    vote = _vote_in_scope(vote_id)
    version = request.form.get("version", type=int)
    with audited(f"vote.{action}", f"vote:{vote.id}", lambda: _vote_state(vote)) as asked:
        if action == "open":
            vote_ops.open_vote(vote, who, version)
        elif action == "close":
            vote_ops.close_vote(vote, who, version)
        else:
            asked["reason"] = request.form.get("reason", "")
            vote_ops.cancel_vote(vote, who, request.form.get("reason", ""), version)
    return _done("console.vote_page", vote_id=vote.id, done=action)


@bp.post("/votes/<int:vote_id>/paper")
def vote_paper(vote_id: int):
    """A paper ballot from the assembly, against the roll (the entry's number)."""
    vote = _vote_in_scope(vote_id)
    entry_id, option_id = request.form.get("entry_id", type=int), request.form.get("option_id", type=int)
    if not entry_id or not option_id:
        raise Invalid("请填写名册编号并选择选项", key="validation_error")
    with audited("vote.paper", f"vote:{vote.id}") as asked:
        asked["entry_id"] = entry_id  # who voted on paper is public to staff; what they chose is not recorded here
        vote_ops.enter_paper(vote.id, actor(), entry_id, option_id)
    return _done("console.vote_page", vote_id=vote.id, done="paper")


# --- the roll ----------------------------------------------------------------------------


@bp.get("/roll")
@page("居民名册", order=45, roles=vote_rules.CLERKS)
def roll_claims():
    who = actor()
    unit = _chosen_unit()
    return render("console/roll.html", unit=unit, units=units_in_scope(),
                  claims=vote_queries.claims(who, unit.id), done=request.args.get("done", ""))


@bp.post("/roll/<int:entry_id>/review")
def roll_review(entry_id: int):
    entry = in_scope_or_404(db.session.get(RollEntry, entry_id), lambda e: directory.unit(e.unit_id))
    confirm = request.form.get("confirm") == "1"
    with audited("roll.review", f"roll_entry:{entry.id}", lambda: {"status": str(entry.status.value)}) as asked:
        asked["confirm"] = confirm
        vote_ops.review_home(entry, actor(), confirm, request.form.get("version", type=int))
    return _done("console.roll_claims", unit=request.form.get("unit", type=int) or entry.unit_id,
                 done="confirmed" if confirm else "rejected")
