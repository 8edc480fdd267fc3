"""The state on a PostgreSQL database a team shares (`state = "postgresql://..."`, psycopg 3: `pip install 'cmday[team]'`).

The SQL is the same as SQLite's (`cmday.store.sql`); what differs is how writers wait for each other:
a transaction that decides whether something may be sent takes an advisory lock on that thing first
(`serialize`), so a second cmday, on this machine or another, waits and then sees the first one's
draft; the unique index `drafts_one_pending` refuses a second pending reply whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cmday.errors import ConfigError, StateError
from cmday.i18n import _
from cmday.secrets import read_secret, remember
from cmday.store.records import Row
from cmday.store.sql import SQLStore

PASSWORD_ENV = "CMDAY_STATE_PASSWORD"
CONNECT_TIMEOUT_S = 10
_LOCK_SEED_TRANSACTION = 0  # `serialize`: held until the transaction ends
_LOCK_SEED_SEND = 1  # `send_lock`: held by the connection for the whole send


def without_password(url: str) -> str:
    """The URL as it may be shown: user, host, port and database, never a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def state_password() -> str | None:
    """The database password: CMDAY_STATE_PASSWORD, else the secrets file `cmday.state`; libpq's own
    PGPASSWORD and ~/.pgpass work too. Never the TOML, which lives in git."""
    return read_secret("cmday", "state", PASSWORD_ENV)


def _placeholders(sql: str) -> str:
    """The shared SQL's `?` as psycopg's `%s` (a literal `%`, as in `id % 20`, doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PostgresWriter:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        self._cursor.execute(_placeholders(sql), tuple(parameters))
        return self._cursor

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._cursor.executemany(_placeholders(sql), [tuple(row) for row in rows])

    def serialize(self, key: str) -> None:
        self._cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (key, _LOCK_SEED_TRANSACTION))

    def ids_given(self, table: str) -> None:
        self._cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
        )


class PostgresStore(SQLStore):
    backend = "postgresql"
    dialect = "postgresql"

    def __init__(self, url: str, password: str | None = None) -> None:
        self.location = without_password(url)
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError:
            raise ConfigError(
                _("the state {url} is a PostgreSQL database, and psycopg is not installed").format(url=self.location),
                hint=_("install the team extra: pip install 'cmday[team]'"),
            ) from None
        self._errors = psycopg.Error
        if urlsplit(url).password is None:
            password = password or state_password()
        remember(password)
        options: dict[str, Any] = {
            "autocommit": True, "row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S, "application_name": "cmday",
        }
        if password:
            options["password"] = password
        try:
            self._db = psycopg.connect(url, **options)
        except psycopg.Error as error:
            raise self._state_error(error) from None
        self._migrate()

    def _state_error(self, error: BaseException) -> StateError:
        reason = " ".join(str(error).split()) or type(error).__name__
        return StateError(
            _("the shared state {url} cannot be used: {reason}").format(url=self.location, reason=reason),
            hint=_("check that the database is reachable and the password is in {env} or the secrets file").format(env=PASSWORD_ENV),
        )

    def _applied_migrations(self) -> set[str]:
        try:
            exists = self._read("SELECT to_regclass('migrations') IS NOT NULL AS found")[0]["found"]
            if not exists:
                with self._transaction() as db:
                    db.serialize("migrations")
                    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            return {row["name"] for row in self._read("SELECT name FROM migrations")}
        except self._errors as error:
            raise self._state_error(error) from None

    @contextmanager
    def _transaction(self) -> Iterator[_PostgresWriter]:
        try:
            with self._db.transaction(), self._db.cursor() as cursor:
                yield _PostgresWriter(cursor)
        except self._errors as error:
            raise self._state_error(error) from None

    def _read(self, sql: str, parameters: Iterable[object] = ()) -> list[Row]:
        try:
            return self._db.execute(_placeholders(sql), tuple(parameters)).fetchall()
        except self._errors as error:
            raise self._state_error(error) from None

    def close(self) -> None:
        self._db.close()

    def after_bulk_load(self) -> None:
        # Until autovacuum gets to it (a minute or more), a table that just received a state has no statistics
        # and the planner guesses: the open queue of a million rows would be read from the project index. Nor has
        # it a visibility map, so every index scan reads the rows too: a million mentions took 2.3x-2.8x ten
        # thousand (benches/scale.py --postgres) until vacuumed, 1.0x-1.2x after. VACUUM runs outside a
        # transaction, as this connection's statements do (autocommit).
        try:
            self._db.execute("VACUUM (ANALYZE) mentions")
        except self._errors as error:
            raise self._state_error(error) from None

    @contextmanager
    def send_lock(self, name: str) -> Iterator[bool]:
        """A session advisory lock: the server drops it when this connection ends, a killed cmday's too."""
        key = (name, _LOCK_SEED_SEND)
        held = self._read("SELECT pg_try_advisory_lock(hashtextextended(?, ?)) AS held", key)[0]["held"]
        try:
            yield bool(held)
        finally:
            if held:
                self._read("SELECT pg_advisory_unlock(hashtextextended(?, ?)) AS released", key)

