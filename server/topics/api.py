"""Topics: thin views, one operation or query each; answers presented here."""
from flask import current_app
from flask_smorest import Blueprint

from ..auth import sessions
from ..media import signing
from ..media.storage import url_path
from . import operations, queries, rules
from .models import TopicStatus
from .schemas import (
    ACTION_SCHEMAS,
    FollowList,
    HotspotArgs,
    HotspotList,
    ModerateOpinionIn,
    OpinionIn,
    OpinionOut,
    OpinionPage,
    ReplyIn,
    SeatIn,
    SeatList,
    SeatOut,
    SessionIn,
    SessionOut,
    TopicCreate,
    TopicDetail,
    TopicListArgs,
    TopicOut,
    TopicPage,
)

blp = Blueprint("topics", __name__, url_prefix="/api/v1", description="议题：征求意见、议事、决策、两公开")
BEARER = [{"bearerAuth": []}]


def _topic(topic, actor) -> dict:
    roles = operations.roles_for(actor, topic) if actor is not None else set()
    status = TopicStatus(topic.status)
    return {"id": topic.id, "unit_id": topic.unit_id, "title": topic.title, "body": topic.body, "source": topic.source,
            "ticket_id": topic.ticket_id, "status": status.value, "status_label": rules.LABELS[status],
            "solicit_until": topic.solicit_until, "decision_method": topic.decision_method, "passed": topic.passed,
            "decision": topic.decision, "result": topic.result, "opinions": topic.opinions,
            "allowed_actions": rules.MACHINE.allowed_actions(status, roles, topic), "version": topic.version,
            "created_at": topic.created_at}


def _session(session, names: dict[int, str]) -> dict:
    def name(member_id) -> str:
        return names.get(int(member_id), "成员")

    return {"id": session.id, "motion": session.motion, "members": session.members,
            "present": [name(m) for m in session.present],
            "votes": {name(m): v for m, v in session.votes.items()},
            "rule": f"{session.quorum_num}/{session.quorum_den} 出席，出席者过 {session.majority_num}/{session.majority_den}",
            "passed": session.passed, "minutes": session.minutes, "held_at": session.held_at}


def _photos(listed: list[dict] | None) -> list[dict]:
    """Photos kept as {id, key, thumb_key}, as signed addresses."""
    base = current_app.url_for("media.serve", key="-")[:-1]
    return [{"id": m["id"], "url": base + url_path(m["key"]) + signing.query(m["key"]),
             "thumbnail_url": base + url_path(m["thumb_key"]) + signing.query(m["thumb_key"])}
            for m in listed or ()]


def _opinion(opinion, actor) -> dict:
    return {"id": opinion.id, "body": opinion.body, "mine": actor is not None and opinion.user_id == actor.id,
            "held": opinion.held, "hidden": opinion.hidden, "media": _photos(opinion.media), "reply": opinion.reply,
            "created_at": opinion.created_at}


def _event(event) -> dict:
    data = dict(event.data or {})
    media = _photos(data.pop("media", None))
    return {"action": event.action, "from_status": event.from_status, "to_status": event.to_status,
            "actor_role": event.actor_role, "note": event.note, "data": data, "media": media, "at": event.created_at}


@blp.get("/topics")
@blp.arguments(TopicListArgs(), location="query")
@blp.response(200, TopicPage)
def list_topics(args):
    """A unit's topics (open, voting, decided ...), newest first; anyone reads them."""
    actor = sessions.viewer()
    found = queries.list_topics(actor, **args)
    return {"items": [_topic(t, actor) for t in found["items"]], "next_cursor": found["next_cursor"]}


@blp.post("/topics")
@sessions.login_required
@blp.arguments(TopicCreate())
@blp.response(201, TopicOut)
@blp.doc(security=BEARER)
def create_topic(body):
    """A draft topic, by a deputy, a cadre or a unit's head."""
    actor = sessions.viewer()
    return _topic(operations.create(actor, body["unit_id"], body["title"], body["body"]), actor)


@blp.get("/topics/<int:topic_id>")
@blp.response(200, TopicDetail)
def get_topic(topic_id):
    """A topic with its whole timeline, council sittings (named votes) and votes."""
    actor = sessions.viewer()
    topic = queries.readable(topic_id, actor)
    shown = _topic(topic, actor)
    shown["timeline"] = [_event(e) for e in queries.timeline(topic, actor)]
    shown["sessions"] = [_session(s, names) for s, names in queries.sessions(topic)]
    shown["votes"] = queries.topic_votes(topic)
    shown["following"] = actor is not None and queries.follows_topic(actor, topic)
    return shown


def _action_view(action: str, schema):
    @blp.post(f"/topics/<int:topic_id>/{action}", endpoint=f"topic_{action}")
    @sessions.login_required
    @blp.arguments(schema())
    @blp.response(200, TopicOut)
    @blp.doc(security=BEARER, summary=action, description=operations.ACTIONS[action].__doc__)
    def view(body, topic_id):
        actor = sessions.viewer()
        return _topic(operations.act(topic_id, action, actor, body), actor)

    view.__name__ = f"topic_{action}"
    return view


for _action, _schema in ACTION_SCHEMAS.items():
    _action_view(_action, _schema)


@blp.get("/topics/<int:topic_id>/opinions")
@blp.response(200, OpinionPage)
def list_opinions(topic_id):
    """Residents' opinions on the topic (a held one only to its writer and the unit's staff)."""
    actor = sessions.viewer()
    found = queries.opinions(queries.readable(topic_id, actor), actor)
    return {"items": [_opinion(o, actor) for o in found["items"]], "next_cursor": found["next_cursor"]}


@blp.post("/topics/<int:topic_id>/opinions")
@sessions.login_required
@blp.arguments(OpinionIn())
@blp.response(201, OpinionOut)
@blp.doc(security=BEARER)
def add_opinion(body, topic_id):
    """A resident of the unit gives an opinion while opinions are solicited."""
    actor = sessions.viewer()
    return _opinion(operations.add_opinion(queries.readable(topic_id, actor), actor, body["body"], body["media"]), actor)


@blp.post("/opinions/<int:opinion_id>/reply")
@sessions.login_required
@blp.arguments(ReplyIn())
@blp.response(200, OpinionOut)
@blp.doc(security=BEARER)
def reply_opinion(body, opinion_id):
    actor = sessions.viewer()
    return _opinion(operations.reply_opinion(queries.readable_opinion(opinion_id, actor), actor, body["reply"]), actor)


@blp.post("/opinions/<int:opinion_id>/moderate")
@sessions.login_required
@blp.arguments(ModerateOpinionIn())
@blp.response(200, OpinionOut)
@blp.doc(security=BEARER)
def moderate_opinion(body, opinion_id):
    """A held opinion approved (public, counted) or refused with a reason, by a moderator of the unit."""
    actor = sessions.viewer()
    opinion = queries.readable_opinion(opinion_id, actor)
    return _opinion(operations.moderate_opinion(opinion, actor, body["approve"], body["reason"]), actor)


@blp.post("/topics/<int:topic_id>/council")
@sessions.login_required
@blp.arguments(SessionIn())
@blp.response(201, SessionOut)
@blp.doc(security=BEARER)
def record_session(body, topic_id):
    """A council sitting on the topic: who was present, each member's named vote on the motion."""
    actor = sessions.viewer()
    topic = queries.readable(topic_id, actor)
    session = operations.record_session(topic, actor, body["motion"], body["present"],
                                        {int(k): v for k, v in body["votes"].items()}, body["minutes"],
                                        body.get("version"), body["media"])
    names = {m.id: m.name for m in queries.council(topic.unit_id)}
    return _session(session, names)


@blp.get("/council")
@blp.arguments(HotspotArgs(), location="query")
@blp.response(200, SeatList)
def list_council(args):
    """A unit's council members (their names are public, as their votes are)."""
    return {"items": [{"id": m.id, "unit_id": m.unit_id, "name": m.name} for m in queries.council(args["unit_id"])]}


@blp.post("/council/seats")
@sessions.login_required
@blp.arguments(SeatIn())
@blp.response(201, SeatOut)
@blp.doc(security=BEARER)
def add_seat(body):
    """A seat on a unit's council (by its head or an admin)."""
    seat = operations.seat(sessions.viewer(), body["unit_id"], body["user_id"], body["name"])
    return {"id": seat.id, "unit_id": seat.unit_id, "name": seat.name}


@blp.post("/topics/<int:topic_id>/follow")
@sessions.login_required
@blp.response(204)
@blp.doc(security=BEARER)
def follow_topic(topic_id):
    actor = sessions.viewer()
    operations.follow(actor, topic_id=queries.readable(topic_id, actor).id)


@blp.delete("/topics/<int:topic_id>/follow")
@sessions.login_required
@blp.response(204)
@blp.doc(security=BEARER)
def unfollow_topic(topic_id):
    operations.unfollow(sessions.viewer(), topic_id=topic_id)


@blp.get("/me/follows")
@sessions.login_required
@blp.response(200, FollowList)
@blp.doc(security=BEARER)
def my_follows():
    """What I follow and where each stands (a deputy's page)."""
    return {"items": queries.follows(sessions.viewer())}


@blp.get("/topics/hotspots")
@sessions.login_required
@blp.arguments(HotspotArgs(), location="query")
@blp.response(200, HotspotList)
@blp.doc(security=BEARER)
def hotspots(args):
    """Places where the same problem keeps being reported: suggested topics, with their tickets."""
    return {"items": queries.hotspots(sessions.viewer(), args["unit_id"], current_app.config["HOTSPOT_THRESHOLDS"])}
