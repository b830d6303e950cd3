"""gunicorn settings: `gunicorn -c deploy/gunicorn.conf.py server.wsgi:app`.

Every value can be overridden from the environment (GUNICORN_*, PORT).

* Workers: 2 x cores + 1 sync workers by default (requests wait on MySQL, not on the CPU).
  Each worker holds nothing another needs: sessions, rate limits, the WeChat token and
  idempotency keys live in MySQL or Redis, so workers and boxes can be added freely.
* Graceful reload: `kill -HUP <master>` (`systemctl reload gongzhi-web`) starts workers
  with the new code and settings and lets the old ones finish their requests (up to
  `graceful_timeout`). The app is not preloaded, so a reload picks up new code.
* One line per request. With LOG_FORMAT=json the app writes its own JSON line for every
  request (method, path without its query, status, duration, request id), gunicorn's other
  lines are JSON too, and gunicorn's access line is off: GUNICORN_ACCESSLOG unset or empty.
  Naming a destination (GUNICORN_ACCESSLOG=-) turns it on, as JSON on stderr, for an app with
  no log of its own (the bench's bare ceiling app). With LOG_FORMAT=text, gunicorn's access
  line (default on, to stdout): the request line without its query string (login codes and
  tokens never reach a log), with the request id.
* Metrics: with PROMETHEUS_MULTIPROC_DIR set, the master empties that directory when it
  starts and tells prometheus_client when a worker dies (see server/ops/metrics.py).
"""
import multiprocessing
import os

_env = os.environ.get

bind = _env("GUNICORN_BIND", f"127.0.0.1:{_env('PORT', '8000')}")
workers = int(_env("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))

# Rate limits count in each process's memory unless Redis is there to share them: with
# several workers in production, a limit of 10 logins a minute would let through 10 per
# worker. Refuse to start that way, unless the operator chose it by naming the memory
# storage (RATELIMIT_STORAGE_URI=memory://) or turned limits off (RATELIMIT_ENABLED=0).
if (_env("APP_ENV") == "production" and workers > 1 and not _env("REDIS_URL") and not _env("RATELIMIT_STORAGE_URI")
        and _env("RATELIMIT_ENABLED", "1") not in ("0", "false", "no")):
    raise SystemExit(f"{workers} workers and no REDIS_URL: rate limits would count per worker. Set REDIS_URL "
                     "(or RATELIMIT_STORAGE_URI=memory:// to accept per-worker counts, or GUNICORN_WORKERS=1).")
worker_class = _env("GUNICORN_WORKER_CLASS", "sync")
threads = int(_env("GUNICORN_THREADS", "1"))
timeout = int(_env("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(_env("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(_env("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (a slow leak never grows old); jitter keeps them from restarting together.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(_env("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# The worker heartbeat on tmpfs: a container's overlay disk may stall it into a false timeout.
worker_tmp_dir = _env("GUNICORN_WORKER_TMP_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)
preload_app = False
_json_logs = _env("LOG_FORMAT", "").strip().lower() == "json"
accesslog = _env("GUNICORN_ACCESSLOG", "" if _json_logs else "-") or None
errorlog = "-"
loglevel = _env("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
# Addresses whose X-Forwarded-Proto gunicorn believes (nginx on the same box).
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "gongzhi-web"

if _json_logs:
    # gunicorn's own lines (boot, worker exits) as JSON objects, like the app's. Its access line
    # only when asked for (above): a logconfig_dict makes gunicorn write one whatever accesslog
    # says, so without a destination its logger gets no handler and stays below INFO.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "server.ops.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"},
                     "none": {"class": "logging.NullHandler"}},
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": ({"level": "INFO", "handlers": ["stderr"], "propagate": False} if accesslog else
                                {"level": "WARNING", "handlers": ["none"], "propagate": False}),
        },
    }


# Imported when the master reads this file (at start and on every reload), never first in
# child_exit: that hook runs in the master's SIGCHLD handler, and when two workers exit at once
# (a reload) the second signal would interrupt the first one's import half-way and the master
# would die of the half-imported module.
if _env("PROMETHEUS_MULTIPROC_DIR"):
    from prometheus_client import multiprocess as _metrics
else:
    _metrics = None


def on_starting(server):
    """Start from empty metric files: counts from a previous run of the master are not ours."""
    path = _env("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))


def child_exit(server, worker):
    if _metrics is not None:
        _metrics.mark_process_dead(worker.pid)
