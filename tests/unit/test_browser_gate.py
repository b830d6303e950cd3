"""The console's browser tests fail loudly, not skip, where Chromium is missing (CI must
install it); SKIP_BROWSER=1 alone skips them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(**env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "SKIP_BROWSER"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/browser", "-k",
                           "libraries and htmx"], cwd=ROOT, env={**environ, **env}, capture_output=True, text=True,
                          timeout=120)


def test_missing_chromium_fails_the_browser_tests():
    result = _run(CONSOLE_CHROMIUM="/nonexistent/chromium")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "/nonexistent/chromium not found: apt-get install chromium fonts-noto-cjk" in result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]


def test_skip_browser_skips_them():
    result = _run(CONSOLE_CHROMIUM="/nonexistent/chromium", SKIP_BROWSER="1")
    assert result.returncode == 0 and "1 skipped" in result.stdout.splitlines()[-1], result.stdout[-2000:]
