"""The local state: one SQLite file. This module owns every SQL statement and every migration."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cmday.clock import from_utc_text, to_utc_text
from cmday.errors import StateError
from cmday.i18n import _
from cmday.mention import Mention, StoredMention

BUSY_TIMEOUT_MS = 15_000

MIGRATIONS: list[tuple[str, str]] = [
    (
        "m001_initial",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sources (
            project TEXT NOT NULL,
            source_id TEXT NOT NULL,
            platform TEXT NOT NULL,
            cursor TEXT,
            last_attempt TEXT,
            last_success TEXT,
            last_error TEXT,
            needs_auth INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (project, source_id)
        );
        CREATE TABLE mentions (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL,
            source_id TEXT NOT NULL,
            platform TEXT NOT NULL,
            platform_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            author_handle TEXT NOT NULL DEFAULT '',
            author_name TEXT NOT NULL DEFAULT '',
            author_url TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            language TEXT,
            in_reply_to TEXT,
            raw TEXT,
            linked_to INTEGER REFERENCES mentions(id),
            category TEXT NOT NULL DEFAULT 'mention',
            priority INTEGER NOT NULL DEFAULT 5,
            urgent INTEGER NOT NULL DEFAULT 0,
            sla_due TEXT,
            matched TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'open',
            state_at TEXT,
            state_reason TEXT NOT NULL DEFAULT '',
            snooze_until TEXT,
            answered_at TEXT,
            UNIQUE (project, source_id, platform_id)
        );
        CREATE INDEX mentions_by_state ON mentions (project, state, urgent DESC, created_at);
        CREATE INDEX mentions_by_time ON mentions (project, created_at);
        CREATE INDEX mentions_by_url ON mentions (project, url) WHERE url != '';
        CREATE TABLE checklist_marks (
            project TEXT NOT NULL,
            day TEXT NOT NULL,
            routine TEXT NOT NULL,
            item TEXT NOT NULL,
            status TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            PRIMARY KEY (project, day, routine, item)
        );
        CREATE TABLE routine_runs (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL,
            routine TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX routine_runs_latest ON routine_runs (project, routine, at);
        """,
    ),
]

_MENTION_COLUMNS = (
    "id, project, source_id, platform, platform_id, kind, author_handle, author_name, author_url, text, url,"
    " created_at, fetched_at, language, category, priority, urgent, sla_due, matched, state, state_at,"
    " state_reason, snooze_until, answered_at"
)


@dataclass
class SourceHealth:
    project: str
    source_id: str
    platform: str
    cursor: str | None
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    needs_auth: bool
    mentions: int


@dataclass
class ChecklistMark:
    item: str
    status: str
    note: str
    at: datetime


def _time(text: str | None) -> datetime | None:
    return from_utc_text(text) if text else None


def _text(moment: datetime | None) -> str | None:
    return to_utc_text(moment) if moment is not None else None


class Store:
    """An open state file. Writes run in short IMMEDIATE transactions so a second process waits, never corrupts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = self._connect(path)
        self._migrate()

    # -- opening -----------------------------------------------------------------

    def _connect(self, path: Path) -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            return db
        except sqlite3.DatabaseError as error:
            raise self._state_error(error) from None
        except OSError as error:
            raise StateError(
                _("cannot open the state file {path}: {reason}").format(path=path, reason=error.strerror)
            ) from None

    def _state_error(self, error: sqlite3.Error) -> StateError:
        reason = str(error)
        if "not a database" in reason or "malformed" in reason or "corrupt" in reason:
            return StateError(
                _("the state file {path} is damaged ({reason}); cmday has not touched it").format(
                    path=self.path, reason=reason
                ),
                hint=_("move it aside (keep it: it may be recoverable) and run the command again to start afresh"),
            )
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

    def _migrate(self) -> None:
        known = [name for name, _sql in MIGRATIONS]
        try:
            has_table = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
            ).fetchone()
            if not has_table:
                with self.transaction():
                    self._db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            applied = {row[0] for row in self._db.execute("SELECT name FROM migrations")}
        except sqlite3.DatabaseError as error:
            raise self._state_error(error) from None
        newer = applied - set(known)
        if newer:
            raise StateError(
                _("the state file {path} was written by a newer cmday (it has {names}); it was left as it is").format(
                    path=self.path, names=", ".join(sorted(newer))
                ),
                hint=_("upgrade cmday to use this state"),
            )
        for name, sql in MIGRATIONS:
            if name in applied:
                continue
            with self.transaction() as db:
                if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue  # another process applied it while we waited for the lock
                for statement in sql.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, datetime('now'))", (name,))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or none of it."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self._state_error(error) from None
        try:
            yield self._db
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

    def _read(self, sql: str, parameters: Iterable[object] = ()) -> list[sqlite3.Row]:
        try:
            cursor = self._db.execute(sql, tuple(parameters))
            return cursor.fetchall()
        except sqlite3.Error as error:
            raise self._state_error(error) from None

    def close(self) -> None:
        self._db.close()

    # -- meta ----------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # -- mentions ------------------------------------------------------------------

    def save_batch(
        self,
        project: str,
        source_id: str,
        platform: str,
        mentions: list[Mention],
        cursor: str | None,
        fetched_at: datetime,
    ) -> int:
        """Store mentions and move the source's cursor in one transaction; returns how many were new.

        A mention already stored (same source and platform id) is left as it is; one whose URL
        another source already brought is stored `linked` to it, outside the open queue.
        """
        fetched = to_utc_text(fetched_at)
        added = 0
        with self.transaction() as db:
            for mention in mentions:
                linked_to = None
                if mention.url:
                    row = db.execute(
                        "SELECT id FROM mentions WHERE project = ? AND url = ? AND source_id != ? AND linked_to IS NULL LIMIT 1",
                        (project, mention.url, source_id),
                    ).fetchone()
                    linked_to = row[0] if row else None
                inserted = db.execute(
                    "INSERT INTO mentions (project, source_id, platform, platform_id, kind, author_handle, author_name,"
                    " author_url, text, url, created_at, fetched_at, language, in_reply_to, raw, linked_to, category,"
                    " priority, urgent, sla_due, matched, state)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (project, source_id, platform_id) DO NOTHING",
                    (
                        project,
                        source_id,
                        mention.platform,
                        mention.platform_id,
                        mention.kind,
                        mention.author_handle,
                        mention.author_name,
                        mention.author_url,
                        mention.text,
                        mention.url,
                        to_utc_text(mention.created_at),
                        fetched,
                        mention.language,
                        mention.in_reply_to,
                        json.dumps(mention.raw, ensure_ascii=False, default=str) if mention.raw is not None else None,
                        linked_to,
                        mention.category,
                        mention.priority,
                        int(mention.urgent),
                        _text(mention.sla_due),
                        mention.matched,
                        "linked" if linked_to else "open",
                    ),
                )
                added += inserted.rowcount
            db.execute(
                "INSERT INTO sources (project, source_id, platform, cursor) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (project, source_id) DO UPDATE SET cursor = COALESCE(excluded.cursor, sources.cursor),"
                " platform = excluded.platform",
                (project, source_id, platform, cursor),
            )
        return added

    def mentions(
        self,
        project: str,
        *,
        states: tuple[str, ...] | None = ("open",),
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        platform: str | None = None,
        fetched_since: datetime | None = None,
        limit: int | None = None,
    ) -> list[StoredMention]:
        """Mentions of a project, urgent and highest priority first, then oldest first.

        With `now`, a snoozed mention whose time has come counts as open again.
        """
        where = ["project = ?"]
        parameters: list[object] = [project]
        if states is not None:
            marks = ", ".join("?" for _state in states)
            clause = f"state IN ({marks})"
            parameters.extend(states)
            if now is not None and "open" in states and "snoozed" not in states:
                clause = f"({clause} OR (state = 'snoozed' AND snooze_until <= ?))"
                parameters.append(to_utc_text(now))
            where.append(clause)
        if since is not None:
            where.append("created_at >= ?")
            parameters.append(to_utc_text(since))
        if until is not None:
            where.append("created_at < ?")
            parameters.append(to_utc_text(until))
        if platform is not None:
            where.append("platform = ?")
            parameters.append(platform)
        if fetched_since is not None:
            where.append("fetched_at >= ?")
            parameters.append(to_utc_text(fetched_since))
        sql = (
            f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE {' AND '.join(where)}"
            " ORDER BY urgent DESC, priority ASC, created_at ASC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_stored(row) for row in self._read(sql, parameters)]

    def mention(self, mention_id: int) -> StoredMention | None:
        rows = self._read(f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE id = ?", (mention_id,))
        return _stored(rows[0]) if rows else None

    def raw_payload(self, mention_id: int) -> str | None:
        rows = self._read("SELECT raw FROM mentions WHERE id = ?", (mention_id,))
        return rows[0][0] if rows else None

    def set_state(
        self,
        mention_id: int,
        state: str,
        at: datetime,
        reason: str = "",
        snooze_until: datetime | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE mentions SET state = ?, state_at = ?, state_reason = ?, snooze_until = ?,"
                " answered_at = CASE WHEN ? = 'answered' THEN COALESCE(answered_at, ?) ELSE answered_at END"
                " WHERE id = ?",
                (state, to_utc_text(at), reason, _text(snooze_until), state, to_utc_text(at), mention_id),
            )

    def count_by(self, project: str, column: str, since: datetime, until: datetime) -> dict[str, int]:
        """How many mentions came in between two instants, grouped by platform or category."""
        if column not in ("platform", "category", "kind"):
            raise ValueError(column)
        rows = self._read(
            f"SELECT {column}, COUNT(*) FROM mentions WHERE project = ? AND created_at >= ? AND created_at < ?"
            f" AND linked_to IS NULL GROUP BY {column} ORDER BY COUNT(*) DESC, {column}",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return {row[0]: row[1] for row in rows}

    def response_minutes(self, project: str, since: datetime, until: datetime) -> list[float]:
        """Minutes from arrival to answer, for mentions answered between two instants."""
        rows = self._read(
            "SELECT (julianday(answered_at) - julianday(created_at)) * 1440 FROM mentions"
            " WHERE project = ? AND answered_at >= ? AND answered_at < ? AND state = 'answered'",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [max(float(row[0]), 0.0) for row in rows]

    # -- sources ---------------------------------------------------------------------

    def cursor(self, project: str, source_id: str) -> str | None:
        rows = self._read("SELECT cursor FROM sources WHERE project = ? AND source_id = ?", (project, source_id))
        return rows[0][0] if rows else None

    def record_fetch(
        self,
        project: str,
        source_id: str,
        platform: str,
        at: datetime,
        error: str | None = None,
        needs_auth: bool = False,
    ) -> None:
        """Remember how a fetch of a source ended: success clears the last error, failure keeps the cursor."""
        when = to_utc_text(at)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sources (project, source_id, platform, last_attempt, last_success, last_error, needs_auth)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project, source_id) DO UPDATE SET platform = excluded.platform,"
                " last_attempt = excluded.last_attempt,"
                " last_success = COALESCE(excluded.last_success, sources.last_success),"
                " last_error = excluded.last_error, needs_auth = excluded.needs_auth",
                (project, source_id, platform, when, None if error else when, error, int(needs_auth)),
            )

    def source_health(self, project: str) -> dict[str, SourceHealth]:
        rows = self._read(
            "SELECT s.project, s.source_id, s.platform, s.cursor, s.last_attempt, s.last_success, s.last_error,"
            " s.needs_auth, (SELECT COUNT(*) FROM mentions m WHERE m.project = s.project AND m.source_id = s.source_id)"
            " FROM sources s WHERE s.project = ?",
            (project,),
        )
        return {
            row[1]: SourceHealth(
                project=row[0],
                source_id=row[1],
                platform=row[2],
                cursor=row[3],
                last_attempt=_time(row[4]),
                last_success=_time(row[5]),
                last_error=row[6],
                needs_auth=bool(row[7]),
                mentions=row[8],
            )
            for row in rows
        }

    # -- routine ---------------------------------------------------------------------

    def record_run(self, project: str, routine: str, at: datetime) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO routine_runs (project, routine, at) VALUES (?, ?, ?)", (project, routine, to_utc_text(at)))

    def last_run(self, project: str, routine: str, before: datetime | None = None) -> datetime | None:
        sql = "SELECT MAX(at) FROM routine_runs WHERE project = ? AND routine = ?"
        parameters: list[object] = [project, routine]
        if before is not None:
            sql += " AND at < ?"
            parameters.append(to_utc_text(before))
        rows = self._read(sql, parameters)
        return _time(rows[0][0]) if rows else None

    def checklist_marks(self, project: str, day: str, routine: str) -> dict[str, ChecklistMark]:
        rows = self._read(
            "SELECT item, status, note, at FROM checklist_marks WHERE project = ? AND day = ? AND routine = ?",
            (project, day, routine),
        )
        return {row[0]: ChecklistMark(item=row[0], status=row[1], note=row[2], at=from_utc_text(row[3])) for row in rows}

    def set_checklist_mark(
        self, project: str, day: str, routine: str, item: str, status: str, note: str, at: datetime
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO checklist_marks (project, day, routine, item, status, note, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project, day, routine, item) DO UPDATE SET status = excluded.status,"
                " note = excluded.note, at = excluded.at",
                (project, day, routine, item, status, note, to_utc_text(at)),
            )

    def clear_checklist_mark(self, project: str, day: str, routine: str, item: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM checklist_marks WHERE project = ? AND day = ? AND routine = ? AND item = ?",
                (project, day, routine, item),
            )
        return cursor.rowcount > 0


def _stored(row: sqlite3.Row | tuple) -> StoredMention:
    return StoredMention(
        id=row[0],
        project=row[1],
        source_id=row[2],
        platform=row[3],
        platform_id=row[4],
        kind=row[5],
        author_handle=row[6],
        author_name=row[7],
        author_url=row[8],
        text=row[9],
        url=row[10],
        created_at=from_utc_text(row[11]),
        fetched_at=from_utc_text(row[12]),
        language=row[13],
        category=row[14],
        priority=row[15],
        urgent=bool(row[16]),
        sla_due=_time(row[17]),
        matched=row[18],
        state=row[19],
        state_at=_time(row[20]),
        state_reason=row[21],
        snooze_until=_time(row[22]),
        answered_at=_time(row[23]),
    )
