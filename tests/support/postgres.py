"""A real PostgreSQL on loopback for the store tests: Debian's server, a throw-away cluster in a temporary folder.

`initdb` and `pg_ctl` run as the current user, or as `postgres` (the package's system user, else
`nobody`) when the suite runs as root, which the server refuses to be. Each test gets a database of its own.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.mailserver import free_port

PASSWORD = "team state password 42"
USER = "cmday"


def server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class Postgres:
    """`initdb` + `pg_ctl start` on a free port; `new_database()` gives each test an empty database."""

    def __init__(self) -> None:
        binaries = server_bin()
        assert binaries is not None, "PostgreSQL is not installed: apt-get install postgresql (.ci/run does)"
        self.bin = binaries
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="cmday-pg-"))
        self.data = self.folder / "data"
        self._as: dict = {}
        if os.geteuid() == 0:
            account = _first_user("postgres", "nobody")
            self._as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.numbers = itertools.count(1)

    def _run(self, *command: str) -> None:
        subprocess.run(command, check=True, capture_output=True, cwd=self.folder, **self._as)

    def start(self) -> None:
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if self._as:
            os.chown(password_file, self._as["user"], self._as["group"])
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--pwfile", str(password_file),
                  "--auth", "scram-sha-256", "--locale", "C.UTF-8", "--encoding", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w", "start")

    def url(self, database: str = "postgres", password: bool = False) -> str:
        secret = f":{PASSWORD.replace(' ', '%20')}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """An empty database of its own; returns its URL, without the password (tests pass it through the environment)."""
        import psycopg

        name = f"t{next(self.numbers)}"
        with psycopg.connect(self.url(password=True), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _first_user(*names: str) -> pwd.struct_passwd:
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"none of the users {names} exists")
