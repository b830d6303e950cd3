"""Configuration, read from the environment.

`Config` is what `make run` and production use; `TestConfig` is for the test suite.
A production config (`APP_ENV=production`) refuses to start with a default secret or
with dev login on: see `Config.validate`.
"""
import json
import os

DEFAULT_SECRET = "dev-secret-change-me"
SWAGGER_UI_STATIC = "/api/docs/static"  # where the service serves Swagger UI's own files


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the service must not start."""


class Config:
    def __init__(self) -> None:
        env = os.environ
        self.APP_ENV = env.get("APP_ENV", "development")
        self.SECRET_KEY = env.get("SECRET_KEY", DEFAULT_SECRET)
        # Fernet keys for personal data at rest, newest first (comma separated);
        # derived from SECRET_KEY when unset (development only).
        self.FIELD_ENCRYPTION_KEYS = env.get("FIELD_ENCRYPTION_KEYS", "")
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL", "")  # filled in create_app
        # A read replica for lag-tolerant reads (server/replica.py, deploy/README.md); empty: none.
        self.DATABASE_REPLICA_URL = env.get("DATABASE_REPLICA_URL", "")
        self.REPLICA_MAX_LAG_SECONDS = float(env.get("REPLICA_MAX_LAG_SECONDS", "5"))
        self.REPLICA_CHECK_SECONDS = float(env.get("REPLICA_CHECK_SECONDS", "2"))
        self.REPLICA_CONNECT_TIMEOUT = float(env.get("REPLICA_CONNECT_TIMEOUT", "2"))
        self.REDIS_URL = env.get("REDIS_URL", "")
        self.DEV_LOGIN = _flag("DEV_LOGIN")
        self.WECHAT_APP_ID = env.get("WECHAT_APP_ID", "")
        self.WECHAT_APP_SECRET = env.get("WECHAT_APP_SECRET", "")
        self.WECHAT_API_BASE = env.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
        self.WECHAT_TIMEOUT = float(env.get("WECHAT_TIMEOUT", "5"))
        self.TOKEN_TTL_HOURS = int(env.get("TOKEN_TTL_HOURS", str(24 * 7)))
        # With REDIS_URL: how long a process may keep a signed-in user between requests, at
        # most (each request still asks Redis whether they changed; 0 turns the cache off).
        self.VIEWER_CACHE_SECONDS = float(env.get("VIEWER_CACHE_SECONDS", "60"))
        self.MEDIA_ROOT = env.get("MEDIA_ROOT", "")  # filled in create_app
        # Where photos live: "local" (MEDIA_ROOT) or "s3" (a private bucket, read through
        # presigned addresses valid MEDIA_URL_SECONDS; deploy/README.md).
        self.MEDIA_STORAGE = env.get("MEDIA_STORAGE", "local").strip().lower() or "local"
        self.MEDIA_URL_SECONDS = int(env.get("MEDIA_URL_SECONDS", "600"))
        self.S3_ENDPOINT_URL = env.get("S3_ENDPOINT_URL", "")
        self.S3_PUBLIC_ENDPOINT_URL = env.get("S3_PUBLIC_ENDPOINT_URL", "")
        self.S3_BUCKET = env.get("S3_BUCKET", "")
        self.S3_REGION = env.get("S3_REGION", "")
        self.S3_ACCESS_KEY_ID = env.get("S3_ACCESS_KEY_ID", "")
        self.S3_SECRET_ACCESS_KEY = env.get("S3_SECRET_ACCESS_KEY", "")
        self.S3_PREFIX = env.get("S3_PREFIX", "")
        self.S3_ADDRESSING_STYLE = env.get("S3_ADDRESSING_STYLE", "auto")
        # Uploads never taken by a report or a note are deleted after this many hours.
        self.MEDIA_UNUSED_HOURS = int(env.get("MEDIA_UNUSED_HOURS", "48"))
        self.RATING_WINDOW_DAYS = int(env.get("RATING_WINDOW_DAYS", "7"))
        # PIPL: the privacy policy version a user must have agreed to before reporting, and
        # how long a closed ticket keeps the link to its reporter.
        self.PRIVACY_POLICY_VERSION = env.get("PRIVACY_POLICY_VERSION", "2026-11")
        self.PERSONAL_DATA_RETENTION_DAYS = int(env.get("PERSONAL_DATA_RETENTION_DAYS", "365"))
        # How long a process routes with its unit boundaries before asking whether another
        # process changed them (this process's own changes apply at once).
        self.UNIT_LOCATOR_TTL_SECONDS = float(env.get("UNIT_LOCATOR_TTL_SECONDS", "5"))
        # Notifications. Subscribe templates: JSON {"ticket_accepted": "<template id>", ...};
        # long-term templates (government services) need no per-user subscription count.
        self.WECHAT_SUBSCRIBE_TEMPLATES = env.get("WECHAT_SUBSCRIBE_TEMPLATES", "{}")
        self.WECHAT_LONG_TERM_TEMPLATES = env.get("WECHAT_LONG_TERM_TEMPLATES", "")
        self.WECHAT_MINIPROGRAM_STATE = env.get("WECHAT_MINIPROGRAM_STATE", "formal")
        self.WECOM_CORP_ID = env.get("WECOM_CORP_ID", "")
        self.WECOM_SECRET = env.get("WECOM_SECRET", "")
        self.WECOM_AGENT_ID = env.get("WECOM_AGENT_ID", "")
        self.WECOM_API_BASE = env.get("WECOM_API_BASE", "https://qyapi.weixin.qq.com")
        # The console's "企业微信扫码登录": WeCom's QR page for the app WECOM_AGENT_ID, which
        # sends the member back to /login/wecom/callback (set that domain as the app's
        # trusted sign-in domain in WeCom's admin).
        self.WECOM_LOGIN_URL = env.get("WECOM_LOGIN_URL", "https://login.work.weixin.qq.com/wwlogin/sso/login")
        self.WECOM_PER_MINUTE = int(env.get("WECOM_PER_MINUTE", "25"))  # WeCom drops past 30
        self.WECOM_PER_HOUR = int(env.get("WECOM_PER_HOUR", "900"))     # and past 1,000
        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
        self.NOTIFY_BATCH = int(env.get("NOTIFY_BATCH", "50"))
        self.NOTIFY_LEASE_SECONDS = int(env.get("NOTIFY_LEASE_SECONDS", "120"))
        self.NOTIFY_MAX_ATTEMPTS = int(env.get("NOTIFY_MAX_ATTEMPTS", "15"))
        self.NOTIFY_RETRY_BASE_SECONDS = float(env.get("NOTIFY_RETRY_BASE_SECONDS", "5"))
        self.NOTIFY_RETRY_MAX_SECONDS = float(env.get("NOTIFY_RETRY_MAX_SECONDS", "3600"))
        self.SWEEP_INTERVAL_SECONDS = int(env.get("SWEEP_INTERVAL_SECONDS", "60"))
        # Open311 GeoReport v2
        self.OPEN311_RATE_LIMIT = env.get("OPEN311_RATE_LIMIT", "60")  # per key: "60/hour" ...; a number: per minute
        self.OPEN311_JURISDICTION_ID = env.get("OPEN311_JURISDICTION_ID", "")
        self.OPEN311_CONTACT = env.get("OPEN311_CONTACT", "")
        self.OPEN311_KEY_SERVICE = env.get("OPEN311_KEY_SERVICE", "")
        # Operations (deploy/README.md): logs, metrics, proxies, media through nginx, rate limits.
        self.LOG_FORMAT = env.get("LOG_FORMAT", "json" if self.APP_ENV == "production" else "text")
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        self.METRICS_ALLOW = env.get("METRICS_ALLOW", "127.0.0.1,::1")  # addresses/networks, or *
        self.PROXY_FIX_HOPS = int(env.get("PROXY_FIX_HOPS", "0"))  # proxies in front that set X-Forwarded-For
        self.MEDIA_ACCEL_REDIRECT_PREFIX = env.get("MEDIA_ACCEL_REDIRECT_PREFIX", "")  # e.g. /_media/
        self.RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", "1")
        # Hot spots (topics/queries.py): reports of one category within about 100 m, this many
        # or more in 90 days, by category code; JSON, e.g. {"streetlight": 3, "noise": 5}.
        self.HOTSPOT_THRESHOLDS = json.loads(env.get("HOTSPOT_THRESHOLDS") or "{}")
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI") or self.REDIS_URL or "memory://"
        self.RATELIMIT_KEY_PREFIX = env.get("RATELIMIT_KEY_PREFIX", "gongzhi")
        self.RATELIMIT_STRATEGY = env.get("RATELIMIT_STRATEGY", "moving-window")  # no burst at a window's edge
        self.RATELIMIT_LOGIN = env.get("RATELIMIT_LOGIN", "10/minute")          # per address
        self.RATELIMIT_REPORT = env.get("RATELIMIT_REPORT", "20/hour")          # per user
        self.RATELIMIT_UPLOAD = env.get("RATELIMIT_UPLOAD", "60/hour")          # per user
        self.RATELIMIT_OPEN311_POST = env.get("RATELIMIT_OPEN311_POST", "120/minute")  # per address
        # The office console (docs/CONSOLE.md): a session lapses after this many idle minutes
        # and after this many hours in all; sign-in attempts per address; map tiles (an
        # {z}/{x}/{y} URL template; none: the unit boundaries alone); the cookie's Secure flag
        # ("auto": set unless debugging, testing or developing over plain http).
        self.CONSOLE_IDLE_MINUTES = float(env.get("CONSOLE_IDLE_MINUTES", "30"))
        self.CONSOLE_SESSION_HOURS = float(env.get("CONSOLE_SESSION_HOURS", "12"))
        self.RATELIMIT_CONSOLE_LOGIN = env.get("RATELIMIT_CONSOLE_LOGIN", "10/minute;50/hour")          # per address
        self.RATELIMIT_CONSOLE_LOGIN_USER = env.get("RATELIMIT_CONSOLE_LOGIN_USER", "30/hour")     # per username
        self.CONSOLE_TILES_URL = env.get("CONSOLE_TILES_URL", "")
        self.CONSOLE_TILES_ATTRIBUTION = env.get("CONSOLE_TILES_ATTRIBUTION", "")
        self.CONSOLE_COOKIE_SECURE = env.get("CONSOLE_COOKIE_SECURE", "auto")
        self.MAX_CONTENT_LENGTH = 11 * 1024 * 1024
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 3600}
        self.JSON_AS_ASCII = False

        # flask-smorest / OpenAPI
        self.API_TITLE = "Gongzhi 共治 API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        # Swagger UI's files come from the service itself (SWAGGER_UI_STATIC, from the
        # flask-swagger-ui package): intranets reach no CDN. No call to Swagger's online validator.
        self.OPENAPI_SWAGGER_UI_URL = env.get("OPENAPI_SWAGGER_UI_URL", SWAGGER_UI_STATIC + "/")
        self.OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    def validate(self) -> None:
        if self.MEDIA_STORAGE not in ("local", "s3"):
            raise ConfigError(f"MEDIA_STORAGE must be local or s3, not {self.MEDIA_STORAGE!r}")
        if self.MEDIA_STORAGE == "s3" and not self.S3_BUCKET:
            raise ConfigError("MEDIA_STORAGE=s3 needs S3_BUCKET")
        if not self.is_production:
            return
        if self.SECRET_KEY == DEFAULT_SECRET or len(self.SECRET_KEY) < 32:
            raise ConfigError("SECRET_KEY must be set to a random value of 32+ characters in production")
        if self.DEV_LOGIN:
            raise ConfigError("DEV_LOGIN must be off in production")
        if not self.FIELD_ENCRYPTION_KEYS:
            raise ConfigError("FIELD_ENCRYPTION_KEYS must be set in production")

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in dir(self) if k.isupper()}


class TestConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.APP_ENV = "test"
        self.SECRET_KEY = "test-secret-key-not-for-production-use"
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
        self.REDIS_URL = ""
        self.DEV_LOGIN = True
        self.LOG_FORMAT = ""  # leave logging to pytest
        # Limits out of the way; tests/api/test_ratelimit*.py lower them where they test them.
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.RATELIMIT_LOGIN = self.RATELIMIT_REPORT = self.RATELIMIT_UPLOAD = "100000/minute"
        self.RATELIMIT_OPEN311_POST = "100000/minute"
        self.RATELIMIT_CONSOLE_LOGIN = self.RATELIMIT_CONSOLE_LOGIN_USER = "100000/minute"
