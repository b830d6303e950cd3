"""A throwaway MariaDB server of the test's own: its own data directory, port and socket.

Faults (a crash, a clean shutdown) are injected into this one, never into a shared server.
Small and quick: a tiny buffer pool and redo log, no binary log, no performance schema,
no name resolution. `with PrivateMariaDB() as db:` always kills the server and removes
its directory at the end, even when the test fails; an `atexit` hook does the same if the
test run itself is interrupted.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pymysql

from tests.e2e.live import free_port

# Debian and Ubuntu keep the server in /usr/sbin, often not on a user's PATH.
_SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin",
                           "/usr/local/mysql/scripts"])


def binaries() -> tuple[str | None, str | None]:
    """(mariadbd, mariadb-install-db), None where not installed."""
    server = shutil.which("mariadbd", path=_SEARCH)
    install = shutil.which("mariadb-install-db", path=_SEARCH) or shutil.which("mysql_install_db", path=_SEARCH)
    return server, install


# Shared by the bootstrap and every start: the same data files must be readable by both.
_SMALL = ["--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M", "--skip-name-resolve",
          "--innodb-buffer-pool-dump-at-shutdown=OFF", "--innodb-buffer-pool-load-at-startup=OFF"]


class PrivateMariaDB:
    def __init__(self, database: str | None = "gongzhi", keep_log: str | None = None, server_args: tuple = ()):
        """keep_log: where to copy the server's error log at the end (for a failed run).
        database: created at the start (None: none, e.g. for a replica that receives it).
        server_args: more mariadbd options, e.g. a binary log and a server id for replication
        (with --log-bin the default --skip-log-bin is left out)."""
        self.server_args = tuple(server_args)
        self.server, self.install = binaries()
        self.keep_log = keep_log
        self.errlog = ""
        self.database = database
        self.proc: subprocess.Popen | None = None
        self.tmp: str | None = None
        self.port = 0
        self.starts = 0

    # -- lifetime ----------------------------------------------------------------------

    def __enter__(self) -> "PrivateMariaDB":
        self.tmp = tempfile.mkdtemp(prefix="gongzhi-mariadb-")
        atexit.register(self.cleanup)
        try:
            self.datadir = os.path.join(self.tmp, "data")
            self.socket = os.path.join(self.tmp, "mariadb.sock")
            self.errlog = os.path.join(self.tmp, "error.log")
            self.port = free_port()  # below the ephemeral range: free again after a restart
            install = [self.install, "--no-defaults", f"--datadir={self.datadir}",
                       "--auth-root-authentication-method=normal", "--skip-test-db", *_SMALL]
            if os.geteuid() == 0:
                install.append("--user=root")
            done = subprocess.run(install, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"mariadb-install-db failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")
            self.start()
            if self.database:
                with self.connect() as conn, conn.cursor() as cur:
                    cur.execute(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()
        atexit.unregister(self.cleanup)

    def cleanup(self) -> None:
        self.kill()
        if self.tmp and self.keep_log:
            try:
                shutil.copyfile(self.errlog, self.keep_log)
            except OSError:
                pass
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    # -- the server --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{self.database}"

    def start(self, timeout: float = 60) -> float:
        """Start on the same data directory and port; returns when it accepts connections
        (the moment, time.monotonic())."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        cmd = [self.server, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
               f"--socket={self.socket}", "--bind-address=127.0.0.1", f"--pid-file={self.tmp}/mariadbd.pid",
               f"--log-error={self.errlog}", "--performance-schema=OFF", "--max-connections=200", *_SMALL,
               *self.server_args]
        if not any(arg.startswith("--log-bin") for arg in self.server_args):
            cmd.append("--skip-log-bin")
        if os.geteuid() == 0:
            cmd.append("--user=root")
        # Its own session: a Ctrl-C meant for pytest does not reach it (cleanup kills it).
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                self.connect(connect_timeout=1).close()
                return time.monotonic()
            except pymysql.err.OperationalError:
                time.sleep(0.05)
        raise RuntimeError(f"mariadbd did not accept connections within {timeout} s: {self.log_tail()}")

    def crash(self) -> float:
        """SIGKILL: the server dies mid-flight, as in a crash or an OOM kill."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        return time.monotonic()

    def shutdown(self, timeout: float = 60) -> float:
        """A clean shutdown (SIGTERM, as systemd does); returns once the process is gone."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"mariadbd did not shut down within {timeout} s: {self.log_tail()}") from None
        return time.monotonic()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass

    def connect(self, connect_timeout: float = 5, **kwargs) -> pymysql.Connection:
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="",
                               connect_timeout=connect_timeout, autocommit=True, **kwargs)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            with open(self.errlog, errors="replace") as fh:
                return fh.read()[-chars:]
        except OSError:
            return ""
