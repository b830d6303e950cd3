"""The mini-program is tested against a committed copy of this server's OpenAPI document.

miniprogram/tests/fixtures/openapi.json is what the mini-program's jest suite checks every
canned server response (and every request it sends) against. When the API changes, this
test fails until the copy is refreshed, and then the mini-program's tests show what no
longer fits. To refresh it:

    UPDATE_OPENAPI_SNAPSHOT=1 .venv/bin/python -m pytest -q tests/api/test_openapi_snapshot.py

then run `cd miniprogram && npm test` and fix the mini-program (or its fixtures) until green.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[2] / "miniprogram" / "tests" / "fixtures" / "openapi.json"
REFRESH = "UPDATE_OPENAPI_SNAPSHOT=1 .venv/bin/python -m pytest -q tests/api/test_openapi_snapshot.py"


def _dump(spec: dict) -> str:
    return json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _diff(old: dict, new: dict, at: str = "") -> list[str]:
    """A short list of where two JSON documents differ (for the failure message)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            here = f"{at}/{key}"
            if key not in old:
                out.append(f"added   {here}")
            elif key not in new:
                out.append(f"removed {here}")
            else:
                out.extend(_diff(old[key], new[key], here))
        return out
    return [] if old == new else [f"changed {at or '/'}"]


def test_the_mini_program_snapshot_matches_the_served_openapi_document(client):
    res = client.get("/api/openapi.json")
    assert res.status_code == 200
    spec = res.json
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(_dump(spec), encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing; create it with: {REFRESH}"
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    differences = _diff(committed, spec)
    assert not differences, (
        "The API changed but the mini-program's copy of it did not:\n  "
        + "\n  ".join(differences[:40])
        + ("\n  ..." if len(differences) > 40 else "")
        + f"\nRefresh it with: {REFRESH}\nthen run `cd miniprogram && npm test` and fix what no longer fits."
    )


def test_the_snapshot_is_kept_in_its_canonical_form():
    """Sorted keys and a fixed indent, so a refresh shows as a readable diff in review."""
    text = SNAPSHOT.read_text(encoding="utf-8")
    assert text == _dump(json.loads(text)), f"re-write it with: {REFRESH}"
