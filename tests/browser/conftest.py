"""The console in a real browser: Debian's Chromium (/usr/bin/chromium, never a downloaded
build) driven by pytest-playwright against a live gunicorn on 127.0.0.1.

Chromium missing fails the run loudly (CI must install it: .ci/run); SKIP_BROWSER=1 skips
these tests on a machine without it. Screenshots go to test-output/console/ (gitignored).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest
from playwright.sync_api import Page, expect

from server.demo import DEMO_CONSOLE
from tests.e2e.live import Gunicorn, flask

CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")  # Debian's; never a downloaded build
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "console"


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


def _require_chromium() -> None:
    if os.environ.get("SKIP_BROWSER") == "1":
        pytest.skip("SKIP_BROWSER=1: the console's browser tests are skipped")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium fonts-noto-cjk (or set SKIP_BROWSER=1 "
                    "to skip the browser tests on this machine)", pytrace=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    _require_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}, "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai"}


@pytest.fixture(scope="session")
def shots() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def console(tmp_path_factory):
    """The service under gunicorn with the demo district, a year of tickets and their
    monthly report cards; `.base`, `.ids` (the ticket to assign, one out of scope)."""
    _require_chromium()
    tmp = tmp_path_factory.mktemp("console")
    env = dict(
        os.environ,
        APP_ENV="development",
        SECRET_KEY="browser-" + "k" * 40,
        FIELD_ENCRYPTION_KEYS="YnJvd3Nlci1maWVsZC1rZXktZm9yLXRlc3RzLTEyMzQ=",
        DATABASE_URL=os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/console.sqlite3",
        DEV_LOGIN="0",
        REDIS_URL="",
        RATELIMIT_STORAGE_URI="memory://",
        MEDIA_ROOT=str(tmp / "media"),
        FLASK_APP="server.wsgi",
        GUNICORN_WORKERS="2",
        CONSOLE_TILES_URL="",
        LOG_LEVEL="WARNING",
    )
    flask(env, "db", "upgrade", "heads")
    built = subprocess.run([sys.executable, "-m", "tests.browser.history"], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True)
    ids = json.loads(built.stdout.strip().splitlines()[-1])
    with Gunicorn(env) as server:
        yield SimpleNamespace(base=server.base, ids=ids, env=env)


# --- signed in: the demo's console accounts (server/demo.py) ------------------------------

ACCOUNTS = {login: (username, password, secret) for login, username, password, secret in DEMO_CONSOLE}
_last_step: dict[str, int] = {}


def _code(secret: str) -> str:
    """A code the service accepts now and that was not used yet: it takes the codes of the
    time step before, this one and the next, each once and in order."""
    totp = pyotp.TOTP(secret)
    while True:
        now = time.time()
        current = totp.timecode(datetime.fromtimestamp(now, timezone.utc))
        for step in (current - 1, current, current + 1):
            if step > _last_step.get(secret, -1):
                _last_step[secret] = step
                return totp.generate_otp(step)
        time.sleep(1)


def _signed_in_state(browser, base: str, context_args: dict, who: str) -> dict:
    """`who` signed in once (cookies and all), for the pages of the tests that act as them."""
    context = browser.new_context(**context_args)
    sign_in(context.new_page(), base, who)
    state = context.storage_state()
    context.close()
    return state


def _page_of(browser, state: dict, context_args: dict):
    context = browser.new_context(**context_args, storage_state=state)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def head_state(browser, console, browser_context_args):
    return _signed_in_state(browser, console.base, browser_context_args, "head")


@pytest.fixture
def head(browser, head_state, browser_context_args):
    """A page of the signed-in street head (花桥街道主任)."""
    yield from _page_of(browser, head_state, browser_context_args)


def sign_in(page: Page, base: str, who: str = "head") -> None:
    username, password, secret = ACCOUNTS[who]
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_label("动态验证码").fill(_code(secret))
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def no_sideways_scroll(page: Page, width: int = 390) -> None:
    """At a phone's width the page is one column: nothing wider than the screen."""
    page.set_viewport_size({"width": width, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def not_blank(path) -> bool:
    """A screenshot with something drawn: many distinct colours, not one flat fill."""
    from PIL import Image

    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return colours is None or len(colours) > 50


@pytest.fixture(scope="session")
def admin_state(browser, console, browser_context_args):
    return _signed_in_state(browser, console.base, browser_context_args, "admin")


@pytest.fixture
def admin(browser, admin_state, browser_context_args):
    """A page of the signed-in district administrator."""
    yield from _page_of(browser, admin_state, browser_context_args)
