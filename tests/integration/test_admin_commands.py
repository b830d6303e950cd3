"""The admin commands (`flask staff|units|reports|open311 ...`) through app.test_cli_runner().

Bad input (an unknown user, unit, role or key, a malformed file, a bad period) exits
non-zero with a clear message and leaves every table exactly as it was. A post granted
or revoked, an Open311 key revoked, counts from the very next request of a token issued
before: no new login, no restart.

No app context is held while commands and requests run: each gets its own, with its own
database session, as a separate `flask` process and a gunicorn worker would.
"""
from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from server.cache import forget_all as forget_caches
from server.demo import seed_demo
from server.extensions import db
from server.open311 import keys as o311
from server.units.models import Unit
from tests.api.helpers import IN_HQ_1_1, IN_MY_1
from tests.conftest import _empty_tables
from tests.state import force_ticket

# Every command the app registers, and where it is exercised. A new command fails
# test_every_admin_command_is_listed until it is added here.
COMMANDS = {
    "units import": "BAD_INPUT below; tests/integration/test_units_import.py",
    "staff grant": "BAD_INPUT; test_grant_and_revoke_count_from_the_next_request",
    "staff revoke": "BAD_INPUT; test_grant_and_revoke_count_from_the_next_request",
    "seed-demo": "test_seed_demo_again_duplicates_nothing (no input)",
    "console-user": "BAD_INPUT; tests/api/test_console.py::test_console_user_command_prints_the_provisioning_uri",
    "tickets sweep": "no input; tests/api/test_tickets.py",
    "timers": "--once; tests/e2e/test_timers.py",
    "reports monthly": "BAD_INPUT; tests/api/test_stats.py",
    "reports bulletin": "BAD_INPUT; tests/api/test_stats.py",
    "reports export": "BAD_INPUT; tests/api/test_stats.py",
    "worker": "no input; tests/integration/test_notifications.py, tests/e2e/test_worker_processes.py",
    "open311 keys create": "BAD_INPUT; test_open311_key_revoked_by_the_command_is_refused_next_request",
    "open311 keys list": "test_open311_key_revoked_by_the_command_is_refused_next_request",
    "open311 keys revoke": "BAD_INPUT; test_open311_key_revoked_by_the_command_is_refused_next_request",
    "media migrate": "tests/integration/test_media_s3.py",
}
THIRD_PARTY_GROUPS = ("db", "openapi")  # Flask-Migrate, flask-smorest


def _leaves(group, prefix=""):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _leaves(cmd, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


def test_every_admin_command_is_listed(app):
    ours = {c for c in _leaves(app.cli) if c.split(" ")[0] not in THIRD_PARTY_GROUPS}
    assert ours == set(COMMANDS), (f"commands not listed in COMMANDS: {sorted(ours - set(COMMANDS))}; "
                                   f"listed but gone: {sorted(set(COMMANDS) - ours)}")


@pytest.fixture
def world(app):
    """The demo district, one Open311 key, a reporter's public ticket; no context left pushed."""
    with app.app_context():
        _empty_tables()
        forget_caches()  # every process cache: the tables were emptied
        seed_demo()
        o311.create_key("existing-app")
        db.session.commit()
    return app


def _snapshot(app) -> dict[str, list[str]]:
    """Every row of every table."""
    with app.app_context():
        return {t.name: sorted(repr(tuple(r)) for r in db.session.execute(t.select()))
                for t in db.metadata.sorted_tables}


def _invoke(app, *args):
    """As `flask ...` runs it: FlaskGroup pushes a fresh app context (so its own session) for
    every command, @with_appcontext or not; the test runner calls app.cli, which does not."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _login(client, name: str) -> dict:
    res = client.post("/api/v1/auth/login", json={"code": f"dev:{name}"})
    assert res.status_code == 200, res.json
    return {"Authorization": f"Bearer {res.json['token']}"}


def _feature(code, parent, kind="community", name="新单位"):
    ring = [[114.26, 30.56], [114.27, 30.56], [114.27, 30.57], [114.26, 30.57], [114.26, 30.56]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"code": code, "name": name, "kind": kind, "parent": parent}}


def _collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


# (arguments, file content for {file} or None, words the message must contain)
BAD_INPUT = {
    "staff-grant-unknown-user": (["staff", "grant", "dev:nobody", "gz-demo-hq-1", "cadre"], None,
                                 ["错误 (user_not_found)", "dev:nobody"]),
    "staff-grant-unknown-unit": (["staff", "grant", "dev:resident", "gz-nowhere", "cadre"], None,
                                 ["错误 (unit_not_found)", "gz-nowhere"]),
    "staff-grant-unknown-role": (["staff", "grant", "dev:resident", "gz-demo-hq-1", "emperor"], None,
                                 ["错误 (invalid_role)", "emperor", "grid_worker"]),
    "staff-grant-missing-role": (["staff", "grant", "dev:resident", "gz-demo-hq-1"], None, ["Missing argument"]),
    "staff-revoke-unknown-user": (["staff", "revoke", "dev:nobody", "gz-demo-hq-1", "cadre"], None,
                                  ["错误 (user_not_found)"]),
    "staff-revoke-unknown-unit": (["staff", "revoke", "dev:cadre", "gz-nowhere", "cadre"], None,
                                  ["错误 (unit_not_found)"]),
    "staff-revoke-unknown-role": (["staff", "revoke", "dev:cadre", "gz-demo-hq-1", "Cadre"], None,
                                  ["错误 (invalid_role)"]),
    "console-user-unknown-user": (["console-user", "dev:nobody", "--username", "x-user", "--password", "long-enough-pw"],
                                  None, ["错误 (user_not_found)", "dev:nobody"]),
    "console-user-short-password": (["console-user", "dev:head", "--username", "x-user", "--password", "short"], None,
                                    ["错误 (weak_password)"]),
    "console-user-username-taken": (["console-user", "dev:cadre", "--username", "street-head", "--password",
                                     "long-enough-pw"], None, ["错误 (username_taken)"]),
    "units-import-missing-file": (["units", "import", "/nonexistent/units.geojson"], None, ["does not exist"]),
    "units-import-malformed-json": (["units", "import", "{file}"], '{"type": "FeatureCollection", "features": [',
                                    ["错误", "JSON"]),
    "units-import-not-geojson": (["units", "import", "{file}"], '{"type": "Feature"}', ["错误", "FeatureCollection"]),
    "units-import-empty": (["units", "import", "{file}"], _collection(), ["错误", "没有任何单位"]),
    "units-import-unknown-parent": (["units", "import", "{file}"], _collection(_feature("gz-new", "gz-nowhere")),
                                    ["错误", "gz-nowhere"]),
    "units-import-one-bad-of-two": (["units", "import", "{file}"], _collection(
        _feature("gz-demo-new-ok", "gz-demo"), _feature("gz-demo-new-bad", "gz-demo", kind="galaxy")),
        ["错误", "gz-demo-new-bad"]),
    "reports-monthly-bad-month": (["reports", "monthly", "--month", "2026-13"], None, ["错误"]),
    "reports-monthly-future": (["reports", "monthly", "--month", "2099-01"], None, ["错误"]),
    "reports-bulletin-bad-months": (["reports", "bulletin", "--months", "abc"], None, ["错误"]),
    "reports-export-unknown": (["reports", "export", "999999"], None, ["错误 (bulletin_not_found)"]),
    "open311-create-empty-name": (["open311", "keys", "create", " "], None, ["error:", "1 to 64"]),
    "open311-create-duplicate": (["open311", "keys", "create", "existing-app"], None, ["error:", "exists already"]),
    "open311-revoke-unknown": (["open311", "keys", "revoke", "no-such-app"], None, ["error:", "no key named"]),
}


@pytest.mark.parametrize("name", BAD_INPUT)
def test_bad_input_exits_non_zero_says_why_and_changes_nothing(world, tmp_path, name):
    args, content, words = BAD_INPUT[name]
    if content is not None:
        path = tmp_path / "units.geojson"
        path.write_text(content, encoding="utf-8")
        args = [str(path) if a == "{file}" else a for a in args]
    before = _snapshot(world)
    result = _invoke(world, *args)
    assert result.exit_code != 0, result.output
    for word in words:
        assert word in result.output, (word, result.output)
    assert "Traceback" not in result.output
    assert _snapshot(world) == before


def test_granting_twice_and_revoking_a_post_not_held_change_nothing(world):
    assert _invoke(world, "staff", "grant", "dev:resident", "gz-demo-my", "cadre").exit_code == 0
    before = _snapshot(world)
    again = _invoke(world, "staff", "grant", "dev:resident", "gz-demo-my", "cadre")
    assert again.exit_code == 0 and "granted cadre of gz-demo-my" in again.output
    assert _snapshot(world) == before
    # a well-formed revoke of a post nobody holds: nothing to do, said so (idempotent for scripts)
    result = _invoke(world, "staff", "revoke", "dev:resident", "gz-demo-my", "admin")
    assert result.exit_code == 0 and "no such post" in result.output
    assert _snapshot(world) == before


def test_seed_demo_again_duplicates_nothing(world):
    """Run on a live database it refreshes (units' updated_at, responsibles rewritten), never adds."""
    before = {name: len(rows) for name, rows in _snapshot(world).items()}
    result = _invoke(world, "seed-demo")
    assert result.exit_code == 0 and json.loads(result.output)["units"] == 15
    assert {name: len(rows) for name, rows in _snapshot(world).items()} == before


def _held_ticket(app, client, headers, place) -> int:
    res = client.post("/api/v1/tickets", headers=headers,
                      json={"category": "streetlight", "description": "路灯不亮了", **place})
    assert res.status_code == 201, res.json
    with app.app_context():
        force_ticket(res.json["id"], held=True)
        db.session.commit()
    return res.json["id"]


def test_grant_and_revoke_count_from_the_next_request(world):
    """The same token, no new login, no restart: the post is read from the database per request."""
    client = world.test_client()
    cadre = _login(client, "cli-cadre")
    with world.app_context():
        hq1 = db.session.execute(sa.select(Unit.id).where(Unit.code == "gz-demo-hq-1")).scalar_one()
        my = db.session.execute(sa.select(Unit.id).where(Unit.code == "gz-demo-my")).scalar_one()
    reporter = _login(client, "resident")
    version = client.get("/api/v1/me/consent", headers=reporter).json["current_version"]
    client.post("/api/v1/me/consent", json={"policy_version": version}, headers=reporter)
    held = _held_ticket(world, client, reporter, IN_HQ_1_1)
    staff_urls = ["/api/v1/moderation/tickets", f"/api/v1/units/{hq1}/staff", "/api/v1/tickets?scope=unit"]

    for url in staff_urls:
        assert client.get(url, headers=cadre).status_code == 403
    assert client.get(f"/api/v1/tickets/{held}", headers=cadre).status_code == 404

    assert _invoke(world, "staff", "grant", "dev:cli-cadre", "gz-demo-hq-1", "cadre").exit_code == 0
    assert _invoke(world, "staff", "grant", "dev:cli-cadre", "gz-demo-my", "grid_worker").exit_code == 0
    for url in staff_urls:
        assert client.get(url, headers=cadre).status_code == 200, url
    assert held in {t["id"] for t in client.get("/api/v1/moderation/tickets", headers=cadre).json["items"]}
    assert client.get(f"/api/v1/tickets/{held}", headers=cadre).status_code == 200

    result = _invoke(world, "staff", "revoke", "dev:cli-cadre", "gz-demo-hq-1", "cadre")
    assert result.exit_code == 0 and "revoked cadre of gz-demo-hq-1" in result.output
    res = client.get(f"/api/v1/units/{hq1}/staff", headers=cadre)
    assert res.status_code == 403 and res.json["message"] == "unit_out_of_scope"
    assert held not in {t["id"] for t in client.get("/api/v1/moderation/tickets", headers=cadre).json["items"]}
    for url in (f"/api/v1/tickets/{held}", f"/api/v1/tickets/{held}/events"):
        assert client.get(url, headers=cadre).json["message"] == "ticket_not_found"
    res = client.post(f"/api/v1/moderation/tickets/{held}/approve", json={}, headers=cadre)
    assert res.status_code == 404 and res.json["message"] == "ticket_not_found"
    units = {t["unit"]["code"] for t in client.get("/api/v1/tickets?scope=unit&limit=100", headers=cadre).json["items"]}
    assert not any(code.startswith("gz-demo-hq") for code in units)
    # the other post still counts; the token itself is untouched
    assert client.get(f"/api/v1/units/{my}/staff", headers=cadre).status_code == 200
    me = client.get("/api/v1/me", headers=cadre)
    assert me.status_code == 200 and [p["role"] for p in me.json["posts"]] == ["grid_worker"]

    assert _invoke(world, "staff", "revoke", "dev:cli-cadre", "gz-demo-my", "grid_worker").exit_code == 0
    for url in staff_urls:
        res = client.get(url, headers=cadre)
        assert res.status_code == 403 and set(res.json) == {"code", "status", "message", "errors"}, url
    assert client.get("/api/v1/me", headers=cadre).json["posts"] == []


def test_open311_key_revoked_by_the_command_is_refused_next_request(world):
    client = world.test_client()
    created = _invoke(world, "open311", "keys", "create", "街道网格App")
    assert created.exit_code == 0, created.output
    raw = created.stdout.strip().splitlines()[-1]
    assert raw.startswith("o311_")
    form = {"api_key": raw, "service_code": "streetlight", "lat": str(IN_MY_1["lat"]), "long": str(IN_MY_1["lng"]),
            "description": "路灯不亮"}
    assert client.post("/open311/v2/requests.json", data=form).status_code == 201
    listed = _invoke(world, "open311", "keys", "list")
    assert "街道网格App\tactive" in listed.stdout and raw not in listed.output
    assert _invoke(world, "open311", "keys", "revoke", "街道网格App").exit_code == 0
    res = client.post("/open311/v2/requests.json", data=form)
    assert res.status_code == 403 and "Invalid api_key" in res.json[0]["description"]
    assert "revoked" in _invoke(world, "open311", "keys", "list").stdout
    again = _invoke(world, "open311", "keys", "revoke", "街道网格App")  # revoking twice: no error, still revoked
    assert again.exit_code == 0
    assert client.post("/open311/v2/requests.json", data=form).status_code == 403
    dump = json.dumps(_snapshot(world), ensure_ascii=False)
    assert raw not in dump and hashlib.sha256(raw.encode()).hexdigest() in dump
