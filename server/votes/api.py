"""Votes and the roll: thin views, one operation or query each."""
from flask import request
from flask_smorest import Blueprint

from ..auth import sessions
from ..errors import DomainError, NotFound
from ..extensions import db
from . import operations, queries, roll_files
from .models import RollEntry, RollStatus, Vote
from .schemas import (
    CancelIn,
    CastIn,
    ClaimIn,
    ImportOut,
    PaperIn,
    ResultOut,
    ReviewIn,
    RollEntryOut,
    RollImport,
    RollList,
    UnitArgs,
    VersionIn,
    VoteCreate,
    VoteList,
    VoteOut,
)

blp = Blueprint("votes", __name__, url_prefix="/api/v1", description="居民投票与住址名册")
BEARER = [{"bearerAuth": []}]


def _entry(entry: RollEntry) -> dict:
    return {"id": entry.id, "unit_id": entry.unit_id, "household": entry.household, "name": entry.name,
            "status": RollStatus(entry.status).value, "version": entry.version}


def _staff_vote(vote_id: int) -> Vote:
    vote = db.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound("投票不存在", key="vote_not_found")
    return vote


@blp.post("/votes")
@sessions.login_required
@blp.arguments(VoteCreate())
@blp.response(201, VoteOut)
@blp.doc(security=BEARER)
def create_vote(body):
    """A draft vote of a unit's residents (options, window, quorum, threshold, by person or household)."""
    actor = sessions.viewer()
    vote = operations.create_vote(actor, body["unit_id"], body["title"], body["options"], body["yes_option"],
                                  body["opens_at"], body["closes_at"], body["by_household"], body["quorum_pct"],
                                  body["threshold_pct"])
    return queries.shown(vote, actor)


@blp.get("/votes")
@blp.arguments(UnitArgs(), location="query")
@blp.response(200, VoteList)
def list_votes(args):
    """A unit's open and closed votes, newest first."""
    actor = sessions.viewer()
    return {"items": [queries.shown(v, actor) for v in queries.open_votes(args["unit_id"])]}


@blp.get("/votes/<int:vote_id>")
@blp.response(200, VoteOut)
def get_vote(vote_id):
    """The vote's rules, shown before anyone votes; my own ballot while it is open; the result after."""
    actor = sessions.viewer()
    return queries.shown(queries.get_vote(vote_id, actor), actor)


@blp.get("/votes/<int:vote_id>/result")
@blp.response(200, ResultOut)
def vote_result(vote_id):
    """The frozen tally and turnout: 403 before the close; below 5 ballots only passed or not."""
    return queries.result(queries.get_vote(vote_id, sessions.viewer()))


@blp.post("/votes/<int:vote_id>/cast")
@sessions.login_required
@blp.arguments(CastIn())
@blp.response(200, VoteOut)
@blp.doc(security=BEARER)
def cast(body, vote_id):
    """My secret ballot; casting again before the close replaces it."""
    actor = sessions.viewer()
    vote = operations.cast(vote_id, actor, body["option_id"])
    return queries.shown(vote, actor, cast_option=body["option_id"])


@blp.post("/votes/<int:vote_id>/paper")
@sessions.login_required
@blp.arguments(PaperIn())
@blp.response(204)
@blp.doc(security=BEARER)
def enter_paper(body, vote_id):
    """A paper ballot from the assembly, entered against the roll by the unit's staff."""
    operations.enter_paper(vote_id, sessions.viewer(), body["entry_id"], body["option_id"])


@blp.post("/votes/<int:vote_id>/open")
@sessions.login_required
@blp.arguments(VersionIn())
@blp.response(200, VoteOut)
@blp.doc(security=BEARER)
def open_vote(body, vote_id):
    actor = sessions.viewer()
    return queries.shown(operations.open_vote(queries.get_vote(vote_id, actor), actor, body.get("version")), actor)


@blp.post("/votes/<int:vote_id>/close")
@sessions.login_required
@blp.arguments(VersionIn())
@blp.response(200, VoteOut)
@blp.doc(security=BEARER)
def close_vote(body, vote_id):
    actor = sessions.viewer()
    return queries.shown(operations.close_vote(_staff_vote(vote_id), actor, body.get("version")), actor)


@blp.post("/votes/<int:vote_id>/cancel")
@sessions.login_required
@blp.arguments(CancelIn())
@blp.response(200, VoteOut)
@blp.doc(security=BEARER)
def cancel_vote(body, vote_id):
    actor = sessions.viewer()
    return queries.shown(operations.cancel_vote(queries.get_vote(vote_id, actor), actor, body["reason"],
                                                body.get("version")), actor)


@blp.post("/roll/claims")
@sessions.login_required
@blp.arguments(ClaimIn())
@blp.response(201, RollEntryOut)
@blp.doc(security=BEARER)
def claim_home(body):
    """I live here (a building or grid, my household): a grid worker or cadre confirms it."""
    return _entry(operations.claim_home(sessions.viewer(), body["unit_id"], body["household"], body["name"]))


@blp.get("/roll/mine")
@sessions.login_required
@blp.response(200, RollList)
@blp.doc(security=BEARER)
def my_homes():
    return {"items": [_entry(e) for e in queries.my_homes(sessions.viewer())]}


@blp.get("/roll/claims")
@sessions.login_required
@blp.arguments(UnitArgs(), location="query")
@blp.response(200, RollList)
@blp.doc(security=BEARER)
def pending_claims(args):
    """Homes waiting for confirmation in a unit (its grid workers and cadres)."""
    return {"items": [_entry(e) for e in queries.claims(sessions.viewer(), args["unit_id"])]}


@blp.post("/roll/entries/<int:entry_id>/review")
@sessions.login_required
@blp.arguments(ReviewIn())
@blp.response(200, RollEntryOut)
@blp.doc(security=BEARER)
def review(body, entry_id):
    entry = db.session.get(RollEntry, entry_id)
    if entry is None:
        raise NotFound("住址不存在", key="entry_not_found")
    return _entry(operations.review_home(entry, sessions.viewer(), body["confirm"], body.get("version")))


@blp.post("/roll/import-file")
@sessions.login_required
@blp.arguments(UnitArgs(), location="form")
@blp.response(201, ImportOut)
@blp.doc(security=BEARER, requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["unit_id", "file"],
    "properties": {"unit_id": {"type": "integer"}, "file": {"type": "string", "format": "binary"}}}}}})
def import_roll_file(args):
    """A roll of households as a CSV or xlsx file (first row: 户号, optionally 户主), all or nothing."""
    upload = request.files.get("file")
    if upload is None:
        raise DomainError("请选择名册文件（字段 file）", status=422, key="file_required")
    rows = roll_files.read(upload.read(roll_files.MAX_BYTES + 1), upload.filename or "")
    return {"added": operations.import_households(sessions.viewer(), args["unit_id"], rows)}


@blp.post("/roll/import")
@sessions.login_required
@blp.arguments(RollImport())
@blp.response(201, ImportOut)
@blp.doc(security=BEARER)
def import_roll(body):
    """A roll of households (户代表), all or nothing (an admin's)."""
    return {"added": operations.import_households(sessions.viewer(), body["unit_id"], body["households"])}
