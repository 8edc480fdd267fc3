"""The SQL both back ends share, one module per table group; a back end only brings its connection and locks."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from cmday.clock import to_utc_text
from cmday.errors import StateError
from cmday.i18n import _
from cmday.store.interface import Store
from cmday.store.migrations import MIGRATIONS, statements
from cmday.store.records import Row
from cmday.store.sql.history import HistoryTables
from cmday.store.sql.mentions import MentionTables
from cmday.store.sql.outgoing import OutgoingTables
from cmday.store.sql.sources import SourceTables
from cmday.store.sql.team import TeamTables


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...


class Writer(Protocol):
    """One open write transaction. SQL is written with `?` placeholders; each back end reads them its way."""

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor: ...

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def serialize(self, key: str) -> None:
        """Hold `key` until the transaction ends: a concurrent one asking for it waits (a no-op where writes are serial)."""

    def ids_given(self, table: str) -> None:
        """Rows were inserted with their own ids: the next id the database gives must come after them."""


class SQLStore(MentionTables, SourceTables, OutgoingTables, HistoryTables, TeamTables, Store):
    dialect = "sqlite"

    @abstractmethod
    def _read(self, sql: str, parameters: Iterable[object] = ()) -> list[Row]: ...

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Writer]: ...

    @abstractmethod
    def _applied_migrations(self) -> set[str]:
        """Names of the migrations this database has, creating their table on a blank one."""

    def _migrate(self) -> None:
        known = [name for name, _sql in MIGRATIONS]
        applied = self._applied_migrations()
        newer = applied - set(known)
        if newer:
            raise StateError(
                _("the state file {path} was written by a newer cmday (it has {names}); it was left as it is").format(
                    path=self.location, names=", ".join(sorted(newer))
                ),
                hint=_("upgrade cmday to use this state"),
            )
        for name, sql in MIGRATIONS:
            if name in applied:
                continue
            with self._transaction() as db:
                db.serialize("migrations")
                if db.execute("SELECT 1 AS found FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue  # another process applied it while we waited for the lock
                for statement in statements(sql, self.dialect):
                    db.execute(statement)
                db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, to_utc_text(datetime.now(UTC))))
