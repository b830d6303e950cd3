"""Who may call what: every route classified, every staff endpoint x actor, Open311 keys, tokens.

1. ROUTES classifies every (method, rule) of the app. A route added without a line
   here fails `test_every_route_is_classified`, naming it.
2. STAFF_CASES walks each staff endpoint with anonymous, a resident, staff of every role
   in scope (posts at 花桥社区 gz-demo-hq-1) and out of scope (posts at 民意街道
   gz-demo-my): ids read "moderation-approve-out:cadre". Out-of-scope answers never carry
   the other unit's data; held reports stay hidden (404), never "forbidden" (403).
3. Open311: POST without, with an unknown, with a revoked api_key is the spec's 403;
   reads are public; only the key's SHA-256 is stored anywhere.
4. Every authenticated route (taken from ROUTES, not listed by hand) answers 401 with the
   same envelope to no token, a garbage one, an expired one, one after logout and one of
   a deleted account, while a valid token passes the door.

The role matrix of the nine ticket actions is tests/api/test_ticket_permissions.py; the
admin commands are tests/integration/test_admin_commands.py.

The demo world is built once for the module (a fresh one per test would cost 0.3 s x
several hundred cases). No app context is held while requests run, so each request has
its own database session, as in production; cases that change something (approve, hide,
logout, delete) make their own ticket or user.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Callable

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from server import crypto
from server.auth.models import AuthToken, User
from server.auth.operations import grant_post
from server.cache import forget_all as forget_caches
from server.demo import seed_demo
from server.extensions import db
from server.notifications.models import Notification
from server.open311 import keys as o311
from server.open311.models import ApiKey
from server.privacy.models import PersonalDataAccess
from server.stats import operations as stats
from server.tickets.models import Ticket, TicketEvent
from server.timeutil import utcnow
from server.units.models import Unit
from tests.api.helpers import IN_HQ_1_1, IN_MY_1, jpeg_bytes
from tests.api.test_ticket_permissions import ALLOWED as TICKET_ACTION_MATRIX
from tests.conftest import _empty_tables
from tests.integration.test_stats_fixtures import AS_OF
from tests.state import force_ticket

ROLES = ["grid_worker", "cadre", "unit_head", "deputy", "admin"]
IN_UNIT, OUT_UNIT = "gz-demo-hq-1", "gz-demo-my"
ACTORS = ["anon", "resident"] + [f"in:{r}" for r in ROLES] + [f"out:{r}" for r in ROLES]
MODERATORS = frozenset({"grid_worker", "cadre", "unit_head", "admin"})
ALL_ROLES = frozenset(ROLES)

# --- 1. the route inventory ---------------------------------------------------------------

PUBLIC = "public"            # anyone; a token only adds what that user may see
USER = "user"                # any logged-in user, on their own data
USER_STAFF = "user+staff"    # any logged-in user for their own; staff scopes checked (STAFF_CASES)
STAFF = "staff"              # logged-in staff: role and unit scope checked (STAFF_CASES)
ACTION = "ticket-action"     # logged-in; role x scope in test_ticket_permissions.py
O311 = "open311"             # GeoReport reads: api_key optional (a wrong one is 403)
O311_KEY = "open311-key"     # api_key required
OPS = "ops-allowlist"        # METRICS_ALLOW addresses only; 404 for everyone else
DOMAIN = "domain-staff"      # logged-in; role x scope in the domain's own tests (test_topics.py, test_votes.py)
CONSOLE = "console"          # the office console: a staff member's cookie session (never a bearer token);
                             # roles and scope (404 outside it) in tests/api/test_console.py

ROUTES = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): OPS,
    ("GET", "/static/<path:filename>"): PUBLIC,
    ("GET", "/media/<path:key>"): PUBLIC,  # named by content hash; nginx serves it in production
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/api/docs/static/<path:filename>"): PUBLIC,  # Swagger UI's files
    ("GET", "/api/openapi.json"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): USER,
    ("GET", "/api/v1/me"): USER,
    ("DELETE", "/api/v1/me"): USER,
    ("POST", "/api/v1/me/phone"): USER,
    ("GET", "/api/v1/me/consent"): USER,
    ("POST", "/api/v1/me/consent"): USER,
    ("GET", "/api/v1/me/export"): USER,
    ("GET", "/api/v1/me/subscriptions"): USER,
    ("POST", "/api/v1/me/subscriptions"): USER,
    ("GET", "/api/v1/config/subscriptions"): PUBLIC,
    ("GET", "/api/v1/notifications"): USER,
    ("POST", "/api/v1/notifications/<int:notification_id>/read"): USER,
    ("POST", "/api/v1/notifications/read-all"): USER,
    ("POST", "/api/v1/media"): USER,
    ("GET", "/api/v1/categories"): PUBLIC,
    ("GET", "/api/v1/units"): PUBLIC,
    ("GET", "/api/v1/units/locate"): PUBLIC,
    ("GET", "/api/v1/units/<int:unit_id>"): PUBLIC,
    ("GET", "/api/v1/units/<int:unit_id>/staff"): STAFF,
    ("POST", "/api/v1/tickets"): USER,
    ("GET", "/api/v1/tickets"): USER_STAFF,
    ("GET", "/api/v1/tickets/nearby"): PUBLIC,
    ("GET", "/api/v1/tickets/map"): PUBLIC,
    ("GET", "/api/v1/tickets/<int:ticket_id>"): PUBLIC,  # held: reporter and staff in scope only
    ("GET", "/api/v1/tickets/<int:ticket_id>/events"): PUBLIC,  # internal notes: staff in scope only
    ("POST", "/api/v1/tickets/<int:ticket_id>/support"): USER,
    **{("POST", f"/api/v1/tickets/<int:ticket_id>/{a}"): ACTION for a in (
        "accept", "return", "transfer", "withdraw", "propose", "assign", "progress", "resolve", "rate")},
    ("GET", "/api/v1/moderation/tickets"): STAFF,
    ("POST", "/api/v1/moderation/tickets/<int:ticket_id>/approve"): STAFF,
    ("POST", "/api/v1/moderation/tickets/<int:ticket_id>/hide"): STAFF,
    ("GET", "/api/v1/stats/definitions"): PUBLIC,
    ("GET", "/api/v1/stats/units/<int:unit_id>"): PUBLIC,
    ("GET", "/api/v1/stats/units/<int:unit_id>/ranking"): PUBLIC,
    ("GET", "/api/v1/stats/units/<int:unit_id>/categories"): PUBLIC,
    ("GET", "/api/v1/bulletins"): PUBLIC,
    ("GET", "/api/v1/bulletins/<int:bulletin_id>"): PUBLIC,
    ("GET", "/api/v1/bulletins/<int:bulletin_id>.xlsx"): STAFF,
    ("GET", "/open311/v2/"): O311,
    ("GET", "/open311/v2/discovery.<any(json, xml):fmt>"): O311,
    ("GET", "/open311/discovery.<any(json, xml):fmt>"): O311,
    ("GET", "/open311/v2/services.<any(json, xml):fmt>"): O311,
    ("GET", "/open311/v2/services/<code>.<any(json, xml):fmt>"): O311,
    ("GET", "/open311/v2/requests.<any(json, xml):fmt>"): O311,
    ("GET", "/open311/v2/requests/<request_id>.<any(json, xml):fmt>"): O311,
    ("GET", "/open311/v2/tokens/<token>.<any(json, xml):fmt>"): O311,
    ("POST", "/open311/v2/requests.<any(json, xml):fmt>"): O311_KEY,
    ("POST", "/open311/v2/media.<any(json, xml):fmt>"): O311_KEY,
    **{(m, "/open311/<path:rest>"): O311 for m in ("GET", "POST", "PUT", "PATCH", "DELETE")},  # 404 / 400
    ("GET", "/api/v1/topics"): PUBLIC,  # drafts: the unit's staff only
    ("POST", "/api/v1/topics"): DOMAIN,
    ("GET", "/api/v1/topics/<int:topic_id>"): PUBLIC,  # a draft: 404 but for its unit's staff
    **{("POST", f"/api/v1/topics/<int:topic_id>/{a}"): DOMAIN for a in (
        "solicit", "propose", "deliberate", "put_to_residents", "decide", "publish_decision", "publish_result",
        "close", "withdraw", "reject", "council")},
    ("GET", "/api/v1/topics/<int:topic_id>/opinions"): PUBLIC,  # held ones: the writer and staff only
    ("POST", "/api/v1/topics/<int:topic_id>/opinions"): USER,   # residents of the unit
    ("POST", "/api/v1/opinions/<int:opinion_id>/reply"): DOMAIN,
    ("POST", "/api/v1/opinions/<int:opinion_id>/moderate"): DOMAIN,
    ("POST", "/api/v1/topics/<int:topic_id>/follow"): USER,
    ("DELETE", "/api/v1/topics/<int:topic_id>/follow"): USER,
    ("GET", "/api/v1/me/follows"): USER,
    ("GET", "/api/v1/topics/hotspots"): DOMAIN,
    ("POST", "/api/v1/council/seats"): DOMAIN,
    ("GET", "/api/v1/council"): PUBLIC,
    ("GET", "/api/v1/votes"): PUBLIC,
    ("POST", "/api/v1/votes"): DOMAIN,
    ("GET", "/api/v1/votes/<int:vote_id>"): PUBLIC,  # a draft: staff only; never a voter
    ("GET", "/api/v1/votes/<int:vote_id>/result"): PUBLIC,  # 403 before the close
    ("POST", "/api/v1/votes/<int:vote_id>/cast"): USER,  # the roll decides
    **{("POST", f"/api/v1/votes/<int:vote_id>/{a}"): DOMAIN for a in ("paper", "open", "close", "cancel")},
    ("POST", "/api/v1/roll/claims"): USER,
    ("GET", "/api/v1/roll/mine"): USER,
    ("GET", "/api/v1/roll/claims"): DOMAIN,
    ("POST", "/api/v1/roll/entries/<int:entry_id>/review"): DOMAIN,
    ("POST", "/api/v1/roll/import"): DOMAIN,
    ("POST", "/api/v1/roll/import-file"): DOMAIN,
    # The office console (server/console/), server-rendered pages at /.
    ("GET", "/console/static/<path:filename>"): PUBLIC,  # its CSS, JS and the npm libraries
    ("GET", "/public"): PUBLIC,  # the latest bulletin and every unit's report card
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,  # rate limited; CSRF token bound to the sign-in form's cookie
    ("POST", "/login/dev"): PUBLIC,  # DEV_LOGIN only, else 404
    ("GET", "/login/wecom"): PUBLIC,  # to WeCom's QR page (404 without WeCom settings)
    ("GET", "/login/wecom/callback"): PUBLIC,  # rate limited; the state must match the sign-in cookie
    ("GET", "/"): CONSOLE,
    ("POST", "/logout"): CONSOLE,
    ("GET", "/account/sessions"): CONSOLE,
    ("POST", "/account/sessions/<int:session_id>/revoke"): CONSOLE,
    ("GET", "/account/password"): CONSOLE,
    ("POST", "/account/password"): CONSOLE,  # rate limited as the sign-in
    ("GET", "/admin/sessions"): CONSOLE,  # administrators
    ("POST", "/admin/sessions/<int:session_id>/revoke"): CONSOLE,  # administrators
    ("GET", "/admin/audit"): CONSOLE,  # administrators
    ("GET", "/tickets"): CONSOLE,
    ("GET", "/tickets/<int:ticket_id>"): CONSOLE,
    ("POST", "/tickets/<int:ticket_id>/<any(accept, return, assign, transfer, progress, resolve):action>"): CONSOLE,
    ("GET", "/topics"): CONSOLE,
    ("POST", "/topics"): CONSOLE,
    ("GET", "/topics/<int:topic_id>"): CONSOLE,
    ("POST", "/topics/<int:topic_id>/<any(solicit, propose, deliberate, put_to_residents, decide, publish_decision, "
             "publish_result, close, withdraw, reject):action>"): CONSOLE,
    ("POST", "/topics/<int:topic_id>/council"): CONSOLE,
    ("POST", "/opinions/<int:opinion_id>/reply"): CONSOLE,
    ("GET", "/votes/<int:vote_id>"): CONSOLE,
    ("POST", "/votes/<int:vote_id>/<any(open, close, cancel):action>"): CONSOLE,
    ("POST", "/votes/<int:vote_id>/paper"): CONSOLE,
    ("GET", "/roll"): CONSOLE,
    ("POST", "/roll/<int:entry_id>/review"): CONSOLE,
    # administration (tests/api/test_console_admin.py): scope 404, roles, audit
    ("GET", "/units"): CONSOLE,  # administrators and unit heads
    ("GET", "/units/<int:unit_id>"): CONSOLE,
    ("POST", "/units/import/preview"): CONSOLE,  # administrators
    ("POST", "/units/import/apply"): CONSOLE,
    ("GET", "/categories"): CONSOLE,  # administrators; a top unit's change the limits
    ("POST", "/categories/<int:category_id>/limits"): CONSOLE,
    ("GET", "/posts"): CONSOLE,  # administrators and unit heads
    ("POST", "/posts/grant"): CONSOLE,
    ("POST", "/posts/<int:post_id>/revoke"): CONSOLE,
    ("GET", "/moderation"): CONSOLE,  # moderators
    ("POST", "/moderation/tickets/<int:ticket_id>/<any(approve, hide):action>"): CONSOLE,
    ("POST", "/moderation/opinions/<int:opinion_id>/<any(approve, hide):action>"): CONSOLE,
    ("GET", "/admin/keys"): CONSOLE,  # administrators of a top unit
    ("POST", "/admin/keys"): CONSOLE,
    ("POST", "/admin/keys/<int:key_id>/revoke"): CONSOLE,
    ("GET", "/reports"): CONSOLE,  # administrators and unit heads
    ("POST", "/reports/bulletin"): CONSOLE,  # administrators of a top unit
    ("GET", "/reports/<int:snapshot_id>.xlsx"): CONSOLE,
}
AUTHENTICATED = sorted(k for k, v in ROUTES.items() if v in (USER, USER_STAFF, STAFF, ACTION, DOMAIN))
OPEN = sorted(k for k, v in ROUTES.items() if v in (PUBLIC, O311))
CONSOLE_ROUTES = sorted(k for k, v in ROUTES.items() if v == CONSOLE)


def _app_routes(app) -> dict[tuple[str, str], str]:
    return {(m, rule.rule): rule.endpoint for rule in app.url_map.iter_rules()
            for m in sorted(rule.methods - {"HEAD", "OPTIONS"})}


def test_every_route_is_classified(app):
    routes = _app_routes(app)
    missing = [f"{m} {r} (endpoint {e})" for (m, r), e in sorted(routes.items()) if (m, r) not in ROUTES]
    assert not missing, ("unclassified route(s): " + "; ".join(missing) +
                         ". Add each to ROUTES in tests/api/test_access_matrix.py with who may call it "
                         "(and to STAFF_CASES when staff scope decides)")
    stale = [f"{m} {r}" for m, r in sorted(ROUTES) if (m, r) not in routes]
    assert not stale, f"ROUTES names routes the app no longer has: {stale}"


def test_every_staff_route_has_cases_and_every_action_is_in_the_role_matrix():
    staff_rules = {k for k, v in ROUTES.items() if v in (STAFF, USER_STAFF)}
    covered = {(c.method, c.rule) for c in STAFF_CASES.values()}
    assert staff_rules == covered, f"staff routes without STAFF_CASES: {sorted(staff_rules - covered)}"
    actions = {r.rsplit("/", 1)[1] for (m, r), v in ROUTES.items() if v == ACTION}
    assert actions == set(TICKET_ACTION_MATRIX), "test_ticket_permissions.py must walk every ticket action"


# --- the world, built once --------------------------------------------------------------


def _login(client, name: str, consent: bool = True) -> dict:
    res = client.post("/api/v1/auth/login", json={"code": f"dev:{name}"})
    assert res.status_code == 200, res.json
    headers = {"Authorization": f"Bearer {res.json['token']}"}
    if consent:
        version = client.get("/api/v1/me/consent", headers=headers).json["current_version"]
        assert client.post("/api/v1/me/consent", json={"policy_version": version}, headers=headers).status_code == 201
    return headers


def _token_hash(headers: dict) -> str:
    return hashlib.sha256(headers["Authorization"].split(" ", 1)[1].encode()).hexdigest()


@pytest.fixture(scope="module")
def w(app):
    """The demo district, an actor per (role, in/out of scope), held and public reports on
    both streets, a bulletin, an active and a revoked Open311 key."""
    client = app.test_client()
    with app.app_context():
        _empty_tables()
        forget_caches()  # every process cache: the tables were emptied
        seed_demo()
        db.session.commit()
    world = SimpleNamespace(app=app, client=client, headers={"anon": {}})
    names = {"resident": "am-resident"} | {f"{s}:{r}": f"am-{s}-{r}" for s in ("in", "out") for r in ROLES}
    for who, name in names.items():
        world.headers[who] = _login(client, name)
    world.headers["reporter"] = _login(client, "am-reporter")
    with app.app_context():
        for r in ROLES:
            grant_post(f"dev:am-in-{r}", IN_UNIT, r)
            grant_post(f"dev:am-out-{r}", OUT_UNIT, r)
        reporter = db.session.execute(sa.select(User).where(User.openid == "dev:am-reporter")).scalar_one()
        reporter.phone_enc = crypto.encrypt("13812345678")
        world.reporter_id = reporter.id
        world.unit = {u.code: u.id for u in db.session.execute(sa.select(Unit)).scalars()}
        db.session.commit()

    def report(place, held=False) -> int:
        res = client.post("/api/v1/tickets", headers=world.headers["reporter"],
                          json={"category": "streetlight", "description": "路灯不亮了，晚上很黑", **place})
        assert res.status_code == 201, res.json
        if held:
            with app.app_context():
                force_ticket(res.json["id"], held=True)
                db.session.commit()
        return res.json["id"]

    world.report = report
    world.pub_hq, world.held_hq = report(IN_HQ_1_1), report(IN_HQ_1_1, held=True)
    world.pub_my, world.held_my = report(IN_MY_1), report(IN_MY_1, held=True)
    # approved by an in-scope moderator: its history holds an internal (non-public) note
    world.moderated_hq = report(IN_HQ_1_1, held=True)
    res = client.post(f"/api/v1/moderation/tickets/{world.moderated_hq}/approve", json={"note": "AM-内部审核备注"},
                      headers=world.headers["in:admin"])
    assert res.status_code == 200, res.json
    with app.app_context():
        # escalated for supervision (督办) to each street's own units
        force_ticket(world.pub_hq, supervising_unit_id=world.unit[IN_UNIT])
        force_ticket(world.pub_my, supervising_unit_id=world.unit[OUT_UNIT])
        world.bulletin = stats.bulletin("2026-09..2026-10", now=AS_OF)[0].id
        world.o311_key = o311.create_key("am-active")[1]
        world.o311_revoked = o311.create_key("am-revoked")[1]
        o311.revoke_key("am-revoked")
        db.session.commit()
    # the accept below notifies the reporter: a notification that belongs to them only
    res = client.post(f"/api/v1/tickets/{world.pub_hq}/accept", json={}, headers=world.headers["in:admin"])
    assert res.status_code == 200, res.json
    with app.app_context():
        world.notification = db.session.execute(
            sa.select(Notification.id).where(Notification.user_id == world.reporter_id).limit(1)).scalar_one()

    yield world


def _db(w):
    return w.app.app_context()


def _envelope(res, status: int, key: str | None = None):
    assert res.status_code == status, (res.status_code, res.get_data()[:500])
    body = res.json
    assert set(body) == {"code", "status", "message", "errors"}, body
    assert body["code"] == status and isinstance(body["errors"].get("detail"), str) and body["errors"]["detail"]
    if key:
        assert body["message"] == key, body


# --- 2. staff endpoints x actors ----------------------------------------------------------


def _codes(items) -> set[str]:
    return {i["unit"]["code"] for i in items}


def _ids(items) -> set[int]:
    return {i["id"] for i in items}


def _inside(codes: set[str], prefix: str) -> bool:
    return all(c == prefix or c.startswith(prefix + "-") for c in codes)


def _own(who: str) -> tuple[str, str]:
    """(the actor's own unit prefix, the other street's prefix)."""
    return (IN_UNIT, OUT_UNIT) if who.startswith("in:") else (OUT_UNIT, "gz-demo-hq")


def _check_queue(w, who, res, ticket):
    own, other = _own(who)
    items = res.json["items"]
    assert items and _inside(_codes(items), own), _codes(items)
    assert all(i["held"] for i in items)
    mine, theirs = (w.held_hq, w.held_my) if who.startswith("in:") else (w.held_my, w.held_hq)
    assert mine in _ids(items) and theirs not in _ids(items)


def _check_moderated(w, who, res, ticket, expect_ok, action):
    with _db(w):
        t = db.session.get(Ticket, ticket)
        events = db.session.execute(sa.select(TicketEvent.action).where(TicketEvent.ticket_id == ticket)).scalars().all()
        if expect_ok:
            assert res.json["id"] == ticket
            assert (t.held, t.hidden) == ((False, False) if action == "approve" else (True, True))
            assert action in events
        else:  # refused: nothing changed, nothing recorded
            assert (t.held, t.hidden) == (True, False) and action not in events


def _check_staff_list(w, who, res, ticket):
    items = res.json["items"]
    assert _inside({i["unit"]["code"] for i in items}, IN_UNIT)
    displays = {i["display"] for i in items}
    assert {f"am-in-{r}" for r in ROLES} <= displays and not any(d.startswith("am-out-") for d in displays)


def _check_unit_list(w, who, res, ticket):
    own, _ = _own(who)
    items = res.json["items"]
    assert items and _inside(_codes(items), own), _codes(items)
    mine, theirs = (w.pub_hq, w.pub_my) if who.startswith("in:") else (w.pub_my, w.pub_hq)
    assert mine in _ids(items) and theirs not in _ids(items)


def _check_supervision(w, who, res, ticket):
    mine, theirs = (w.pub_hq, w.pub_my) if who.startswith("in:") else (w.pub_my, w.pub_hq)
    assert _ids(res.json["items"]) == {mine}, (_ids(res.json["items"]), mine, theirs)


def _check_xlsx(w, who, res, ticket):
    assert res.mimetype.endswith("spreadsheetml.sheet") and "attachment" in res.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(res.data))["成绩单"].iter_rows(values_only=True))
    assert {"gz-demo-hq-1", "gz-demo-my-1"} <= {r[0] for r in rows}


@dataclass(frozen=True)
class StaffCase:
    method: str
    rule: str                              # the route of ROUTES this exercises
    url: Callable[[SimpleNamespace, int | None], str]
    roles: frozenset                       # roles that succeed in scope
    resident: tuple[int, str]              # what a logged-in user without a post gets
    wrong_role: tuple[int, str]            # a post in scope, of a role not allowed
    out: tuple[int, str] | str             # "own": 200, only the actor's own units' data;
                                           # "same": 200, the content is public anyway; or (status, key)
    check: Callable
    body: dict | None = None
    fresh_held: bool = False               # a new held report in 花桥社区 per case (it changes)


STAFF_CASES = {
    "moderation-queue": StaffCase(
        "GET", "/api/v1/moderation/tickets", lambda w, t: "/api/v1/moderation/tickets?limit=100",
        MODERATORS, (403, "not_staff"), (403, "not_staff"), "own", _check_queue),
    "moderation-approve": StaffCase(
        "POST", "/api/v1/moderation/tickets/<int:ticket_id>/approve",
        lambda w, t: f"/api/v1/moderation/tickets/{t}/approve", MODERATORS,
        (404, "ticket_not_found"), (403, "forbidden"), (404, "ticket_not_found"),
        lambda w, who, res, t, ok=True: _check_moderated(w, who, res, t, ok, "approve"),
        body={"note": "内容属实"}, fresh_held=True),
    "moderation-hide": StaffCase(
        "POST", "/api/v1/moderation/tickets/<int:ticket_id>/hide",
        lambda w, t: f"/api/v1/moderation/tickets/{t}/hide", MODERATORS,
        (404, "ticket_not_found"), (403, "forbidden"), (404, "ticket_not_found"),
        lambda w, who, res, t, ok=True: _check_moderated(w, who, res, t, ok, "hide"),
        body={"reason": "广告信息"}, fresh_held=True),
    "units-staff": StaffCase(
        "GET", "/api/v1/units/<int:unit_id>/staff", lambda w, t: f"/api/v1/units/{w.unit[IN_UNIT]}/staff",
        ALL_ROLES, (403, "unit_out_of_scope"), (403, "unit_out_of_scope"), (403, "unit_out_of_scope"),
        _check_staff_list),
    "tickets-unit": StaffCase(
        "GET", "/api/v1/tickets", lambda w, t: "/api/v1/tickets?scope=unit&limit=100",
        ALL_ROLES, (403, "not_staff"), (403, "not_staff"), "own", _check_unit_list),
    "tickets-unit-filtered": StaffCase(
        "GET", "/api/v1/tickets", lambda w, t: f"/api/v1/tickets?scope=unit&limit=100&unit={w.unit[IN_UNIT]}",
        ALL_ROLES, (403, "not_staff"), (403, "not_staff"), (403, "unit_out_of_scope"), _check_unit_list),
    "tickets-supervision": StaffCase(
        "GET", "/api/v1/tickets", lambda w, t: "/api/v1/tickets?scope=supervision&limit=100",
        ALL_ROLES, (403, "not_staff"), (403, "not_staff"), "own", _check_supervision),
    "bulletin-xlsx": StaffCase(
        "GET", "/api/v1/bulletins/<int:bulletin_id>.xlsx", lambda w, t: f"/api/v1/bulletins/{w.bulletin}.xlsx",
        frozenset({"admin", "unit_head"}), (403, "forbidden"), (403, "forbidden"), "same", _check_xlsx),
}


def _expected(case: StaffCase, who: str):
    """(status, key) or "ok" for a success the case's check then inspects."""
    if who == "anon":
        return 401, "unauthorized"
    if who == "resident":
        return case.resident
    scope, role = who.split(":")
    if scope == "out" and isinstance(case.out, tuple):
        return case.out
    return "ok" if role in case.roles else case.wrong_role


STAFF_MATRIX = [(name, who) for name in STAFF_CASES for who in ACTORS]


@pytest.mark.parametrize("name, who", STAFF_MATRIX, ids=[f"{n}-{w}" for n, w in STAFF_MATRIX])
def test_staff_endpoint(w, name, who):
    case = STAFF_CASES[name]
    ticket = w.report(IN_HQ_1_1, held=True) if case.fresh_held else None
    res = w.client.open(case.url(w, ticket), method=case.method, json=case.body, headers=w.headers[who])
    expected = _expected(case, who)
    if expected == "ok":
        assert res.status_code == 200, (res.status_code, res.get_data()[:500])
        case.check(w, who, res, ticket)
    else:
        _envelope(res, *expected)
        text = res.get_data(as_text=True)
        assert "am-reporter" not in text and "138****" not in text  # nothing of the report rides along
        if case.fresh_held:
            case.check(w, who, res, ticket, False)


# --- data the public routes show differently to staff in and out of scope ---------------


@pytest.mark.parametrize("who", ACTORS)
def test_reporter_phone_only_for_staff_in_scope_and_each_view_logged(w, who):
    with _db(w):
        before = db.session.execute(sa.select(sa.func.count()).select_from(PersonalDataAccess)).scalar_one()
    res = w.client.get(f"/api/v1/tickets/{w.pub_hq}", headers=w.headers[who])
    assert res.status_code == 200
    reporter = res.json["reporter"]
    in_scope = who.startswith("in:")
    assert reporter.get("phone_masked") == ("138****5678" if in_scope else None)
    assert "id" not in reporter and "13812345678" not in res.get_data(as_text=True)
    with _db(w):
        after = db.session.execute(sa.select(sa.func.count()).select_from(PersonalDataAccess)).scalar_one()
    assert after - before == (1 if in_scope else 0)


@pytest.mark.parametrize("who", ACTORS)
def test_internal_notes_only_for_staff_in_scope(w, who):
    res = w.client.get(f"/api/v1/tickets/{w.moderated_hq}/events", headers=w.headers[who])
    assert res.status_code == 200
    shows = "AM-内部审核备注" in res.get_data(as_text=True)
    assert shows == who.startswith("in:"), res.json


HELD_PROBES = [(a, who) for a in sorted(TICKET_ACTION_MATRIX) + ["support", "detail", "events"]
               for who in ("anon", "resident", "out:admin", "out:cadre")]


@pytest.mark.parametrize("action, who", HELD_PROBES, ids=[f"held-{a}-{w}" for a, w in HELD_PROBES])
def test_a_held_report_does_not_exist_for_outsiders(w, action, who):
    """Not 403: "forbidden" would tell an outsider a held report with that id exists."""
    body = {"accept": {}, "withdraw": {}, "propose": {}, "support": None,
            "return": {"reason": "out_of_scope"}, "transfer": {"unit_id": w.unit[OUT_UNIT], "reason": "转"},
            "assign": {"assignee_id": 1}, "progress": {"note": "处理中"}, "resolve": {"note": "已处理"},
            "rate": {"rating": "satisfied"}}
    if action == "detail":
        res = w.client.get(f"/api/v1/tickets/{w.held_hq}", headers=w.headers[who])
    elif action == "events":
        res = w.client.get(f"/api/v1/tickets/{w.held_hq}/events", headers=w.headers[who])
    else:
        res = w.client.post(f"/api/v1/tickets/{w.held_hq}/{action}", json=body[action], headers=w.headers[who])
    if who == "anon" and action not in ("detail", "events"):
        _envelope(res, 401, "unauthorized")
    else:
        _envelope(res, 404, "ticket_not_found")
    # and the public lists never show it
    if action == "detail" and who == "anon":
        for url in ("/api/v1/tickets/nearby?lat=30.57&lng=114.27&radius=2000",
                    "/api/v1/tickets/map?min_lat=30.5&min_lng=114.2&max_lat=30.7&max_lng=114.4"):
            found = w.client.get(url)
            assert found.status_code == 200 and w.pub_hq in _ids(found.json["items"])
            assert w.held_hq not in _ids(found.json["items"])


def test_own_data_only(w):
    """Notifications are their owner's; scope=mine is what I reported or was given, whatever unit I name."""
    outsider = w.headers["in:admin"]  # even staff over the reporter's unit
    _envelope(w.client.post(f"/api/v1/notifications/{w.notification}/read", headers=outsider), 404,
              "notification_not_found")
    assert w.notification not in _ids(w.client.get("/api/v1/notifications", headers=outsider).json["items"])
    res = w.client.get(f"/api/v1/tickets?scope=mine&unit={w.unit[IN_UNIT]}", headers=w.headers["resident"])
    assert res.status_code == 200 and res.json["items"] == []
    mine = w.client.get("/api/v1/tickets?scope=mine&limit=100", headers=w.headers["reporter"]).json["items"]
    assert {w.pub_hq, w.held_hq, w.pub_my} <= _ids(mine)
    export = w.client.get("/api/v1/me/export", headers=w.headers["resident"]).json
    assert export["tickets"] == [] and export["user"]["nickname"] == "am-resident"


# --- public routes really are public; the ops route is not --------------------------------


def _url(rule: str, w) -> str:
    sample = {"ticket_id": w.pub_hq, "unit_id": w.unit[IN_UNIT], "bulletin_id": w.bulletin,
              "notification_id": w.notification, "request_id": w.pub_hq, "code": "streetlight", "token": "x1",
              "key": "00/nothing.jpg", "fmt": "json", "rest": "v2/nothing.json", "filename": "nothing.txt",
              "topic_id": 1, "vote_id": 1, "opinion_id": 1, "entry_id": 1, "session_id": 1, "action": "accept",
              "category_id": 1, "post_id": 1, "key_id": 1, "snapshot_id": w.bulletin}
    rule = re.sub(r"<any\((\w+)[^)]*\):\w+>", lambda m: m.group(1), rule)  # a route's first action
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: str(sample[m.group(1)]), rule)


@pytest.mark.parametrize("method, rule", OPEN, ids=[f"{m} {r}" for m, r in OPEN])
def test_public_route_needs_no_login(w, method, rule):
    url = _url(rule, w)
    if rule == "/api/v1/units/locate":
        url += "?lat=30.57&lng=114.27"
    elif rule in ("/api/v1/tickets/nearby",):
        url += "?lat=30.57&lng=114.27"
    elif rule == "/api/v1/tickets/map":
        url += "?min_lat=30.5&min_lng=114.2&max_lat=30.7&max_lng=114.4"
    res = w.client.open(url, method=method)
    assert res.status_code not in (401, 403) and res.status_code < 500, (res.status_code, res.get_data()[:300])


@pytest.mark.parametrize("method, rule", CONSOLE_ROUTES, ids=[f"{m} {r}" for m, r in CONSOLE_ROUTES])
def test_console_route_needs_a_console_session(w, method, rule):
    """A bearer token opens no console page: reads go to the sign-in page, changes are
    refused (no session, so no CSRF token can match)."""
    res = w.client.open(_url(rule, w), method=method, headers=w.headers["in:admin"])
    if method == "GET":
        assert res.status_code == 303 and res.headers["Location"].startswith("/login"), res.status
    else:
        assert res.status_code == 400 and "csrf_failed" in res.get_data(as_text=True), res.status


def test_metrics_only_for_the_allowed_addresses(w):
    assert w.client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    _envelope(w.client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}), 404, "not_found")


# --- 3. Open311 keys ---------------------------------------------------------------------


def _o311_errors(res, status: int) -> list[str]:
    assert res.status_code == status, res.get_data(as_text=True)
    assert all(e["code"] == status for e in res.json)
    return [e["description"] for e in res.json]


def _o311_file(w, api_key, fmt="json"):
    data = {"service_code": "streetlight", "lat": str(IN_HQ_1_1["lat"]), "long": str(IN_HQ_1_1["lng"]),
            "description": "路灯不亮（Open311）"}
    if api_key is not None:
        data["api_key"] = api_key
    return w.client.post(f"/open311/v2/requests.{fmt}", data=data)


def _o311_media(w, api_key):
    data = {"file": (io.BytesIO(jpeg_bytes()), "p.jpg")}
    if api_key is not None:
        data["api_key"] = api_key
    return w.client.post("/open311/v2/media.json", data=data, content_type="multipart/form-data")


KEY_CASES = {"none": (None, "api_key is required"), "unknown": ("o311_" + "x" * 43, "Invalid api_key"),
             "revoked": ("revoked", "Invalid api_key"), "overlong": ("o" * 500, "Invalid api_key")}


@pytest.mark.parametrize("kind", KEY_CASES)
@pytest.mark.parametrize("resource", ["requests", "media"])
def test_open311_post_refuses_a_missing_or_bad_key(w, resource, kind):
    raw, words = KEY_CASES[kind]
    raw = w.o311_revoked if raw == "revoked" else raw
    with _db(w):
        before = db.session.execute(sa.select(sa.func.count()).select_from(Ticket)).scalar_one()
    res = (_o311_file if resource == "requests" else _o311_media)(w, raw)
    assert words in _o311_errors(res, 403)[0]
    with _db(w):
        assert db.session.execute(sa.select(sa.func.count()).select_from(Ticket)).scalar_one() == before


def test_open311_refusal_in_xml(w):
    res = _o311_file(w, w.o311_revoked, fmt="xml")
    assert res.status_code == 403 and b"<errors>" in res.data and b"<code>403</code>" in res.data


def test_open311_valid_key_files_and_uploads(w):
    res = _o311_media(w, w.o311_key)
    assert res.status_code == 201, res.json
    res = _o311_file(w, w.o311_key)
    assert res.status_code == 201, res.json
    tid = int(res.json[0]["service_request_id"])
    with _db(w):
        ticket = db.session.get(Ticket, tid)
        key = db.session.execute(sa.select(ApiKey).where(ApiKey.name == "am-active")).scalar_one()
        assert ticket.reporter_id == key.user_id and ticket.unit.code.startswith(IN_UNIT)


@pytest.mark.parametrize("path", ["discovery.json", "services.json", "services/streetlight.json", "requests.json",
                                  "requests/{pub}.json"])
def test_open311_reads_are_public_but_a_bad_key_is_still_refused(w, path):
    url = "/open311/v2/" + path.format(pub=w.pub_hq)
    assert w.client.get(url).status_code == 200
    if not path.startswith("discovery"):
        assert w.client.get(url, query_string={"api_key": w.o311_key}).status_code == 200
        assert "Invalid api_key" in _o311_errors(w.client.get(url, query_string={"api_key": w.o311_revoked}), 403)[0]


def test_open311_keys_are_stored_hashed_only(w):
    """The plain key is nowhere in the database: not in any column of any table."""
    with _db(w):
        for raw in (w.o311_key, w.o311_revoked):
            for table in db.metadata.sorted_tables:
                for row in db.session.execute(table.select()):
                    assert not any(raw in str(v) for v in row), f"plain api key found in {table.name}"
        hashes = set(db.session.execute(sa.select(ApiKey.key_hash)).scalars())
        assert hashlib.sha256(w.o311_key.encode()).hexdigest() in hashes


# --- 4. tokens: expired, logged out, garbage, deleted account, none ---------------------

BAD_TOKENS = ["anonymous", "garbage", "expired", "logged-out", "deleted"]
TOKEN_MATRIX = [(m, r, kind) for m, r in AUTHENTICATED for kind in BAD_TOKENS + ["valid"]]


def _unusable(w, kind: str) -> dict:
    """Headers with a token of this kind, made for one case: a district admin's that worked
    (the worst to leak), then expired, logged out or of an account deleted since."""
    if kind == "anonymous":
        return {}
    if kind == "garbage":
        return {"Authorization": "Bearer " + secrets.token_urlsafe(32)}
    name = f"am-{kind}-{secrets.token_hex(4)}"
    headers = _login(w.client, name)
    with _db(w):
        grant_post(f"dev:{name}", "gz-demo", "admin")
        db.session.commit()
    assert w.client.get("/api/v1/moderation/tickets", headers=headers).status_code == 200
    if kind == "expired":
        with _db(w):
            db.session.execute(sa.update(AuthToken).where(AuthToken.token_hash == _token_hash(headers))
                               .values(expires_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
    elif kind == "logged-out":
        assert w.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    elif kind == "deleted":
        assert w.client.delete("/api/v1/me", headers=headers).status_code == 204
    return headers


@pytest.mark.parametrize("method, rule, kind", TOKEN_MATRIX, ids=[f"{m} {r} {k}" for m, r, k in TOKEN_MATRIX])
def test_authenticated_route_refuses_unusable_tokens(w, method, rule, kind):
    url = _url(rule, w)
    if kind == "valid":  # the control: a live token passes the door (whatever the route then says)
        headers = _login(w.client, f"am-control-{secrets.token_hex(4)}")
        res = w.client.open(url, method=method, json={}, headers=headers)
        assert res.status_code != 401 and res.status_code < 500, (res.status_code, res.get_data()[:300])
        return
    headers = _unusable(w, kind)
    res = w.client.open(url, method=method, json={}, headers=headers)
    _envelope(res, 401, "unauthorized")
    assert res.json["status"] == "Unauthorized" and set(res.json["errors"]) == {"detail"}
    if kind in ("expired", "logged-out"):  # and the refused token is still refused: nothing revived it
        _envelope(w.client.get("/api/v1/me", headers=headers), 401, "unauthorized")


PUBLIC_PROBES = [(kind, probe) for kind in BAD_TOKENS[1:] for probe in ("held", "phone", "internal-note")]


@pytest.mark.parametrize("kind, probe", PUBLIC_PROBES, ids=[f"{k}-{p}" for k, p in PUBLIC_PROBES])
def test_an_unusable_token_is_refused_on_public_routes_too(w, kind, probe):
    """Public routes take an optional token; a dead one (here a district admin's) is refused
    with 401, not read as anonymous, so the mini-program logs in again (RFC 6750) instead of
    showing a resident "not found" for their own held report. Without a token the same
    routes answer as they do to anyone."""
    headers = _unusable(w, kind)
    url = {"held": f"/api/v1/tickets/{w.held_hq}", "phone": f"/api/v1/tickets/{w.pub_hq}",
           "internal-note": f"/api/v1/tickets/{w.moderated_hq}/events"}[probe]
    _envelope(w.client.get(url, headers=headers), 401, "unauthorized")
    res = w.client.get(url)
    if probe == "held":
        _envelope(res, 404, "ticket_not_found")
    elif probe == "phone":
        assert res.status_code == 200 and "phone_masked" not in res.json["reporter"]
    else:
        assert res.status_code == 200 and "AM-内部审核备注" not in res.get_data(as_text=True)


def test_logout_ends_one_session_and_deleting_the_account_ends_all(w):
    phone_a, phone_b = _login(w.client, "am-two-devices"), _login(w.client, "am-two-devices", consent=False)
    assert w.client.post("/api/v1/auth/logout", headers=phone_a).status_code == 204
    _envelope(w.client.get("/api/v1/me", headers=phone_a), 401, "unauthorized")
    _envelope(w.client.post("/api/v1/auth/logout", headers=phone_a), 401, "unauthorized")  # not twice
    assert w.client.get("/api/v1/me", headers=phone_b).status_code == 200
    phone_c = _login(w.client, "am-two-devices", consent=False)
    assert w.client.delete("/api/v1/me", headers=phone_b).status_code == 204
    for headers in (phone_b, phone_c):
        _envelope(w.client.get("/api/v1/me", headers=headers), 401, "unauthorized")
    with _db(w):
        assert db.session.execute(sa.select(User).where(User.openid == "dev:am-two-devices")).first() is None


def test_a_token_expiring_now_is_refused(w):
    headers = _login(w.client, "am-boundary", consent=False)
    with _db(w):
        db.session.execute(sa.update(AuthToken).where(AuthToken.token_hash == _token_hash(headers))
                           .values(expires_at=utcnow()))
        db.session.commit()
    _envelope(w.client.get("/api/v1/me", headers=headers), 401, "unauthorized")
