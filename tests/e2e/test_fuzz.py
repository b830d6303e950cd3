"""Property-based fuzzing of the whole API (schemathesis, from the OpenAPI document) against
a live gunicorn with production settings, logged in as staff: no answer of 500 or above.
Bounded: at most 2,000 generated cases and 5 minutes."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import requests

from tests.e2e.live import Gunicorn, flask, production_env

pytestmark = pytest.mark.e2e

MAX_CASES = 2000


@pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("mysql"),
                    reason="fuzzed once per run, on the SQLite pass")
@pytest.mark.skipif(shutil.which("schemathesis", path=os.path.dirname(sys.executable)) is None,
                    reason="schemathesis is a test extra")
def test_fuzz_finds_no_server_error(fake_wechat, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    env = production_env(fake_wechat, tmp)
    flask(env, "db", "upgrade", "heads")
    flask(env, "seed-demo")
    fake_wechat.add_login_code("fuzz-code", "fuzz-openid")
    with Gunicorn(env) as server:
        token = requests.post(server.base + "/api/v1/auth/login", json={"code": "fuzz-code"}, timeout=10).json()["token"]
        flask(env, "staff", "grant", "fuzz-openid", "gz-demo-hq-1", "cadre")
        run = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", server.base + "/api/openapi.json",
             "-H", f"Authorization: Bearer {token}", "--checks", "not_a_server_error", "--max-examples", "30",
             "--phases", "examples,fuzzing,stateful", "--workers", "2",
             # Deleting the account or logging out would end the session the rest of the run needs.
             "--exclude-method", "DELETE", "--exclude-path", "/api/v1/auth/logout", "--seed", "20261122", "--no-color"],
            capture_output=True, text=True, timeout=300)
    generated = re.search(r"(\d+) generated", run.stdout)
    cases = int(generated.group(1)) if generated else -1
    print(f"\nfuzz: {cases} cases generated; schemathesis exit {run.returncode}")
    assert 0 < cases <= MAX_CASES, run.stdout[-3000:]
    assert run.returncode == 0, run.stdout[-5000:]
    assert '" 500 ' not in server.output and "Traceback" not in server.output
