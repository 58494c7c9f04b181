"""Throwaway servers and processes for the chaos run and the broker tests: a redis-server and a
PostgreSQL cluster (initdb) on free ports in temporary directories, so restarting them
disturbs nothing else on the machine; and child processes that are stopped by their own PID
(each in a process group of its own, so a SIGKILL takes its pool children too)."""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import free_port


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Proc:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None, cwd: str | None = None):
        self.name, self.argv, self.log_path = name, argv, log
        self._log = open(log, "ab")  # noqa: SIM115  (lives as long as the process; closed in stop())
        self.popen = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                      start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int, group: bool = False) -> None:
        if not self.alive():
            return
        try:
            if group:
                os.killpg(self.popen.pid, sig)
            else:
                self.popen.send_signal(sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL of the whole group after `timeout` s."""
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal(signal.SIGKILL, group=True)
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # pool children left behind by the leader
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL the process and its group (a worker's pool children die with it)."""
        self.signal(signal.SIGKILL, group=True)
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass


class RedisServer:
    """redis-server on a free port, data in a temporary directory (RDB snapshot at shutdown and
    append-only file, like a production Redis, so a restart keeps the queues)."""

    def __init__(self, root: Path, persist: bool = True):
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.persist = persist
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if self.persist else ["--appendonly", "no"]
        argv = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--save", "" if not self.persist else "3600 1", *persistence]
        self.proc = Proc("redis", argv, self.dir / "redis.log")
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise FileNotFoundError(f"{name} not found (apt-get install postgresql)")
    return path


class PostgresCluster:
    """A PostgreSQL cluster made with initdb in a temporary directory, on a free port, its socket
    in the same directory. Run as the `postgres` user when we are root (PostgreSQL refuses root)."""

    def __init__(self, root: Path):
        self.dir = root / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)

    def url(self, database: str = "portal") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            # The temporary root is root's and mode 700: let postgres reach its own folder.
            os.chmod(self.dir.parent, 0o711)
        self._run([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--no-sync"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
                       "shared_buffers = 64MB\n")

    def start(self) -> None:
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "postgres.log"), "-w", "-t", "60",
                   "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"])

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def createdb(self, name: str) -> None:
        self._run([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])


def temp_root(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
