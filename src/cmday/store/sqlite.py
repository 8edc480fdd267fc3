"""The state in one SQLite file: WAL, short IMMEDIATE transactions, a damaged file never written."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cmday.errors import StateError
from cmday.i18n import _
from cmday.private import private_file, private_folder
from cmday.store.records import Row
from cmday.store.sql import SQLStore

BUSY_TIMEOUT_MS = 15_000


class _SQLiteWriter:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, tuple(parameters))

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def serialize(self, key: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already lets one writer at a time into the file."""

    def ids_given(self, table: str) -> None:
        """Nothing to do: SQLite's next row id is always past the largest one."""


class SQLiteStore(SQLStore):
    """An open state file. Writes run in short IMMEDIATE transactions so a second process waits, never corrupts."""

    backend = "sqlite"
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self._damage: StateError | None = None  # once seen, every later write is refused with it
        self._verified = False  # the file passed its integrity check (or was known unchanged) in this process
        self._db = self._connect(self.path)
        self._migrate()

    # -- opening -----------------------------------------------------------------

    def _connect(self, path: Path) -> sqlite3.Connection:
        try:
            private_folder(path.parent)
            # Every DM is in here: SQLite creates the file (and copies its mode to -wal and -shm) 0600 under this umask.
            umask = os.umask(0o077)
            try:
                db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
                db.row_factory = sqlite3.Row
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    db.execute("PRAGMA journal_mode = WAL")
            finally:
                os.umask(umask)
            for own in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                private_file(own)  # a state written by an older cmday, or copied in, is tightened on open
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            return db
        except sqlite3.DatabaseError as error:
            raise self._state_error(error) from None
        except OSError as error:
            raise StateError(
                _("cannot open the state file {path}: {reason}").format(path=path, reason=error.strerror)
            ) from None

    def _state_error(self, error: sqlite3.Error | str) -> StateError:
        reason = str(error)
        if "not a database" in reason or "malformed" in reason or "corrupt" in reason:
            self._damage = StateError(
                _("the state file {path} is damaged ({reason}); cmday has not touched it").format(
                    path=self.path, reason=reason
                ),
                hint=_("move it aside (keep it: it may be recoverable) and run the command again to start afresh"),
            )
            return self._damage
        if "full" in reason:
            return StateError(
                _("the disk holding {path} is full; nothing was written").format(path=self.path),
                hint=_("free some space and run the command again"),
            )
        if "locked" in reason or "busy" in reason:
            return StateError(
                _("the state file {path} is busy: another cmday is writing to it").format(path=self.path),
                hint=_("wait for it to finish and run the command again"),
            )
        return StateError(_("the state file {path} cannot be used: {reason}").format(path=self.path, reason=reason))

    def _applied_migrations(self) -> set[str]:
        try:
            has_table = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
            ).fetchone()
            if not has_table:
                with self._transaction() as db:
                    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            return {row["name"] for row in self._db.execute("SELECT name FROM migrations")}
        except sqlite3.DatabaseError as error:
            raise self._state_error(error) from None

    # -- integrity: a damaged file is never written ----------------------------------------

    def _stamp_path(self) -> Path:
        return self.path.with_name(self.path.name + ".verified")

    def _file_stamp(self) -> str:
        """Size and modification time of the file and its WAL: what changes when anything writes to them."""
        parts = []
        for file in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                info = file.stat()
            except OSError:
                info = None
            # An empty WAL holds nothing: opening the file creates one, which changes nothing written.
            parts.append(f"{info.st_size}:{info.st_mtime_ns}" if info is not None and info.st_size else "-")
        return " ".join(parts)

    def _verify(self) -> None:
        """Before the first write: refuse a damaged file, whichever page the damage is on.

        SQLite only notices damage on the pages a statement reads, so a small update could land in a
        file whose other pages are garbage. `quick_check` reads them all (about 0.7 s for 100,000
        mentions); it is skipped when the file is exactly as the last cmday that checked it left it.
        """
        if self._damage is not None:
            raise self._damage
        if self._verified:
            return
        try:
            unchanged = self._stamp_path().read_text(encoding="ascii") == self._file_stamp()
        except (OSError, UnicodeDecodeError):
            unchanged = False
        if not unchanged:
            try:
                rows = self._db.execute("PRAGMA quick_check(1)").fetchall()
            except sqlite3.DatabaseError as error:
                raise self._state_error(error) from None
            if not rows or rows[0][0] != "ok":
                found = " ".join(str(rows[0][0]).split()) if rows else "no answer"
                raise self._state_error(f"malformed: {found[:160]}")
        self._verified = True

    def _remember_verified(self) -> None:
        """After closing: the file as this process leaves it, so the next one can skip the check."""
        try:
            from cmday.private import create_private_file

            stamp = create_private_file(self._stamp_path())  # beside a private state, private too
            stamp.write_text(self._file_stamp(), encoding="ascii")
        except OSError:
            pass  # the next write checks the whole file again: slower, never wrong

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[_SQLiteWriter]:
        """One write transaction: all of it lands, or none of it. A damaged file refuses every one."""
        self._verify()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self._state_error(error) from None
        try:
            yield _SQLiteWriter(self._db)
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise self._state_error(error) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _read(self, sql: str, parameters: Iterable[object] = ()) -> list[Row]:
        try:
            cursor = self._db.execute(sql, tuple(parameters))
            return cursor.fetchall()
        except sqlite3.Error as error:
            raise self._state_error(error) from None

    def close(self) -> None:
        self._db.close()
        if self._verified and self._damage is None:
            self._remember_verified()

    def after_bulk_load(self) -> None:
        """Nothing: SQLite keeps the state index for the open queue without statistics (benches/scale.py, a million rows)."""

    # -- the send lock -----------------------------------------------------------------

    @contextmanager
    def send_lock(self, name: str) -> Iterator[bool]:
        """An flock on a file beside the state: the operating system drops it when its process ends."""
        folder = self.path.parent / "sending"
        private_folder(folder)
        descriptor = os.open(folder / f"{self.path.stem}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            yield _lock(descriptor)
        finally:
            os.close(descriptor)  # closing releases the lock


def _lock(descriptor: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: msvcrt locks a byte range instead
        import msvcrt

        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
