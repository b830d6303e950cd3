"""A separate process that calls a WeChat API needing the access token, N times.

Used by test_access_token.py: two of these run at once against the same database (or
Redis) and the same fake WeChat. Prints one JSON line: {"ok": n, "errors": [...]}.
"""
import json
import sys

from server import create_app
from server.config import Config
from server.errors import DomainError
from server.wechat.service import get_wechat


def main(prefix: str, count: int) -> None:
    app = create_app(Config())
    ok, errors = 0, []
    with app.app_context():
        wechat = get_wechat()
        for i in range(count):
            try:
                wechat.phone_number(f"{prefix}-{i}")
                ok += 1
            except DomainError as err:
                errors.append(err.key)
    print(json.dumps({"ok": ok, "errors": errors}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
