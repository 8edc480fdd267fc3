"""The local state: one SQLite file. This module owns every SQL statement and every migration."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from cmday.clock import from_utc_text, to_utc_text
from cmday.errors import StateError
from cmday.i18n import _
from cmday.mention import Mention, StoredMention
from cmday.private import private_file, private_folder
from cmday.secrets import redact, redact_json

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
    (
        "m002_replies_escalations_publications_kpis",
        """
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions(id),
            text TEXT NOT NULL,
            template TEXT NOT NULL DEFAULT '',
            idempotency_key TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'draft',
            created_at TEXT NOT NULL,
            sent_at TEXT,
            remote_id TEXT,
            remote_url TEXT,
            error TEXT
        );
        CREATE INDEX drafts_by_mention ON drafts (mention_id, created_at);
        CREATE TABLE escalations (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions(id),
            target TEXT NOT NULL,
            channel TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX escalations_by_time ON escalations (at);
        CREATE TABLE publications (
            project TEXT NOT NULL,
            post_key TEXT NOT NULL,
            status TEXT NOT NULL,
            at TEXT NOT NULL,
            remote_id TEXT,
            url TEXT,
            error TEXT,
            PRIMARY KEY (project, post_key)
        );
        CREATE TABLE kpi_values (
            project TEXT NOT NULL,
            key TEXT NOT NULL,
            day TEXT NOT NULL,
            origin TEXT NOT NULL,
            value REAL NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (project, key, day, origin)
        );
        """,
    ),
    (
        # One pending send per mention, held by the state file itself: a draft `sending` (maybe on the
        # platform already) or `failed` blocks a second one, whatever process asks. A state written before
        # this could hold several; the oldest stays pending (its start covers the others' replies when
        # cmday looks at the platform), the later ones are set aside as `superseded`.
        "m003_one_pending_send",
        """
        ALTER TABLE drafts ADD COLUMN started_at TEXT;
        UPDATE drafts SET started_at = COALESCE(sent_at, created_at) WHERE status IN ('sending', 'failed', 'sent');
        UPDATE drafts SET status = 'superseded' WHERE status IN ('sending', 'failed') AND id > (
            SELECT MIN(d.id) FROM drafts d WHERE d.mention_id = drafts.mention_id AND d.status IN ('sending', 'failed'));
        CREATE UNIQUE INDEX drafts_one_pending ON drafts (mention_id) WHERE status IN ('sending', 'failed');
        ALTER TABLE publications ADD COLUMN started_at TEXT;
        UPDATE publications SET started_at = at;
        """,
    ),
    (
        # How a mention came, when it came incomplete or filtered: kept and marked rather than dropped.
        "m004_mention_flags",
        """
        ALTER TABLE mentions ADD COLUMN flags TEXT NOT NULL DEFAULT ''
        """,
    ),
    (
        # What `check --notify` already told someone: a crisis, a late mention or a source to log in again
        # is sent once, however many cron runs see it.
        "m005_notifications",
        """
        CREATE TABLE notifications (
            project TEXT NOT NULL,
            item TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (project, item)
        );
        """,
    ),
]

PENDING = ("sending", "failed")  # a draft or post in these states may be on the platform: ask it before sending again

_MENTION_COLUMNS = (
    "id, project, source_id, platform, platform_id, kind, author_handle, author_name, author_url, text, url,"
    " created_at, fetched_at, language, category, priority, urgent, sla_due, matched, state, state_at,"
    " state_reason, snooze_until, answered_at, in_reply_to, flags"
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
class Draft:
    """A reply written for a mention; its idempotency key makes sure it is sent at most once."""

    id: int
    mention_id: int
    text: str
    template: str
    idempotency_key: str
    status: str  # draft | sending | sent | failed (both pending) | discarded | superseded
    created_at: datetime
    sent_at: datetime | None
    remote_id: str | None
    remote_url: str | None
    error: str | None
    started_at: datetime | None = None  # when its first send began: replies posted since then may be this one

    @property
    def pending(self) -> bool:
        return self.status in PENDING


@dataclass
class ReplyClaim:
    """What the send gate answered: `new` (a draft made and taken), `pending` (an earlier one, taken, to
    check with the platform first) or `answered` (sent since the command began, or answered and not --again)."""

    outcome: str
    draft: Draft | None


@dataclass
class Escalation:
    id: int
    mention_id: int
    target: str
    channel: str
    note: str
    at: datetime
    delivered: bool
    detail: str


@dataclass
class Publication:
    project: str
    post_key: str
    status: str  # sending | published | failed
    at: datetime
    remote_id: str | None
    url: str | None
    error: str | None
    started_at: datetime | None = None


@dataclass
class KpiValue:
    key: str
    day: str
    origin: str  # "manual" (cmday kpi set) or "api" (fetched snapshot)
    value: float
    at: datetime


@dataclass
class ChecklistMark:
    item: str
    status: str
    note: str
    at: datetime


def _storable(text: str) -> str:
    """Network text can hold lone surrogates, which SQLite cannot store: they become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _time(text: str | None) -> datetime | None:
    return from_utc_text(text) if text else None


def _text(moment: datetime | None) -> str | None:
    return to_utc_text(moment) if moment is not None else None


def _secretless(error: str | None) -> str | None:
    """A stored error never holds a secret, whatever the exception behind it said."""
    return redact(error) if error else error


class Store:
    """An open state file. Writes run in short IMMEDIATE transactions so a second process waits, never corrupts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._damage: StateError | None = None  # once seen, every later write is refused with it
        self._verified = False  # the file passed its integrity check (or was known unchanged) in this process
        self._db = self._connect(path)
        self._migrate()

    # -- opening -----------------------------------------------------------------

    def _connect(self, path: Path) -> sqlite3.Connection:
        try:
            private_folder(path.parent)
            # Every DM is in here: SQLite creates the file (and copies its mode to -wal and -shm) 0600 under this umask.
            umask = os.umask(0o077)
            try:
                db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
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
            self._stamp_path().write_text(self._file_stamp(), encoding="ascii")
        except OSError:
            pass  # the next write checks the whole file again: slower, never wrong

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or none of it. A damaged file refuses every one."""
        self._verify()
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
        if self._verified and self._damage is None:
            self._remember_verified()

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
                    row = db.execute(  # `url != ''` lets SQLite use the partial index mentions_by_url, not read the project
                        "SELECT id FROM mentions WHERE project = ? AND url = ? AND url != '' AND source_id != ?"
                        " AND linked_to IS NULL LIMIT 1",
                        (project, mention.url, source_id),
                    ).fetchone()
                    linked_to = row[0] if row else None
                state, reason = ("linked" if linked_to else "open"), ""
                if not linked_to and "hidden" in mention.flags:
                    from cmday.hiding import hidden_reason, set_aside_when_hidden  # hidden already: waits for no answer

                    if set_aside_when_hidden(state, mention.urgent):
                        state, reason = "ignored", hidden_reason(mention.platform)
                inserted = db.execute(
                    "INSERT INTO mentions (project, source_id, platform, platform_id, kind, author_handle, author_name,"
                    " author_url, text, url, created_at, fetched_at, language, in_reply_to, raw, linked_to, category,"
                    " priority, urgent, sla_due, matched, state, state_reason, flags)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (project, source_id, platform_id) DO NOTHING",
                    (
                        project,
                        source_id,
                        mention.platform,
                        _storable(mention.platform_id),
                        mention.kind,
                        _storable(mention.author_handle),
                        _storable(mention.author_name),
                        _storable(mention.author_url),
                        _storable(mention.text),
                        _storable(mention.url),
                        to_utc_text(mention.created_at),
                        fetched,
                        mention.language,
                        mention.in_reply_to,
                        json.dumps(redact_json(mention.raw), default=str) if mention.raw is not None else None,
                        linked_to,
                        mention.category,
                        mention.priority,
                        int(mention.urgent),
                        _text(mention.sla_due),
                        _storable(mention.matched),
                        state,
                        reason,
                        ",".join(mention.flags),
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
        where, parameters = self._mention_filter(project, states, now, since, until, platform, fetched_since)
        sql = (
            f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE {' AND '.join(where)}"
            " ORDER BY urgent DESC, priority ASC, created_at ASC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_stored(row) for row in self._read(sql, parameters)]

    def count_mentions(
        self,
        project: str,
        *,
        states: tuple[str, ...] | None = ("open",),
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        platform: str | None = None,
        fetched_since: datetime | None = None,
    ) -> int:
        """How many mentions `mentions` would list with the same filters, without reading them."""
        where, parameters = self._mention_filter(project, states, now, since, until, platform, fetched_since)
        return self._read(f"SELECT COUNT(*) FROM mentions WHERE {' AND '.join(where)}", parameters)[0][0]

    @staticmethod
    def _mention_filter(project, states, now, since, until, platform, fetched_since) -> tuple[list[str], list[object]]:
        where = ["project = ?"]
        parameters: list[object] = [project]
        if states is not None:
            if now is not None and "open" in states and "snoozed" not in states:
                # written as one IN over the state index, not an OR that makes SQLite read every row of the project
                marks = ", ".join("?" for _state in states + ("snoozed",))
                clause = f"(state IN ({marks}) AND (state != 'snoozed' OR snooze_until <= ?))"
                parameters.extend(states + ("snoozed",))
                parameters.append(to_utc_text(now))
            else:
                marks = ", ".join("?" for _state in states)
                clause = f"state IN ({marks})"
                parameters.extend(states)
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
        return where, parameters

    def trend_mentions(self, project: str, since: datetime, until: datetime) -> list[TrendMention]:
        """Only what a trend counts of each mention created in [since, until), linked ones left out: no text, no sorting."""
        rows = self._read(
            "SELECT created_at, answered_at, sla_due, category, state, platform FROM mentions"
            " WHERE project = ? AND created_at >= ? AND created_at < ? AND state != 'linked'",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [
            TrendMention(from_utc_text(row[0]), from_utc_text(row[1]) if row[1] else None, from_utc_text(row[2]) if row[2] else None,
                         row[3], row[4], row[5])
            for row in rows
        ]

    def mention(self, mention_id: int) -> StoredMention | None:
        rows = self._read(f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE id = ?", (mention_id,))
        return _stored(rows[0]) if rows else None

    def thread_above(self, mention: StoredMention, depth: int = 5) -> list[StoredMention]:
        """The mentions this one answers, as far as they are stored, oldest first."""
        chain: list[StoredMention] = []
        current = mention
        while current.in_reply_to and len(chain) < depth:
            rows = self._read(
                f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE project = ? AND platform_id = ? LIMIT 1",
                (current.project, current.in_reply_to),
            )
            if not rows:
                break
            current = _stored(rows[0])
            chain.append(current)
        return list(reversed(chain))

    def earlier_from_author(self, mention: StoredMention, limit: int = 3) -> tuple[int, list[StoredMention]]:
        """The author's mentions in this project and platform before this one: how many, and the latest `limit`, newest first."""
        if not mention.author_handle:
            return 0, []
        where = "project = ? AND platform = ? AND author_handle = ? AND created_at < ? AND id != ? AND state != 'linked'"
        parameters = (mention.project, mention.platform, mention.author_handle, to_utc_text(mention.created_at), mention.id)
        count = self._read(f"SELECT COUNT(*) FROM mentions WHERE {where}", parameters)[0][0]
        rows = self._read(f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE {where} ORDER BY created_at DESC LIMIT {int(limit)}", parameters) if count else []
        return count, [_stored(row) for row in rows]

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

    def set_flags(self, mention_id: int, flags: Iterable[str]) -> None:
        """Replace what is known of how a mention stands on its platform (cmday.mention.FLAGS), e.g. hidden there."""
        with self.transaction() as db:
            db.execute("UPDATE mentions SET flags = ? WHERE id = ?", (",".join(flags), mention_id))

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
                (project, source_id, platform, when, None if error else when, _secretless(error), int(needs_auth)),
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

    # -- interactions over time (indicators, reports, re-triage) ---------------------

    def reclassify(self, changes: list[tuple[int, str, int, bool, datetime | None, str]]) -> None:
        """New (category, priority, urgent, sla_due, matched) for mentions, by id; one transaction."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE mentions SET category = ?, priority = ?, urgent = ?, sla_due = ?, matched = ? WHERE id = ?",
                [(c, p, int(u), _text(d), m, i) for i, c, p, u, d, m in changes],
            )

    def categorise_by_hand(self, change: tuple[int, str, int, bool, datetime | None, str], flag: str) -> None:
        """The CM's category for one mention, stored as `reclassify` does and flagged in the same transaction."""
        mention_id, category, priority, urgent, due, matched = change
        with self.transaction() as db:
            db.execute(
                "UPDATE mentions SET category = ?, priority = ?, urgent = ?, sla_due = ?, matched = ?,"
                " flags = CASE WHEN (',' || flags || ',') LIKE ? THEN flags WHEN flags = '' THEN ? ELSE flags || ',' || ? END"
                " WHERE id = ?",
                (category, priority, int(urgent), _text(due), matched, f"%,{flag},%", flag, flag, mention_id),
            )

    def answered_between(self, project: str, since: datetime, until: datetime) -> list[StoredMention]:
        """Mentions answered in a period (for response-time indicators)."""
        rows = self._read(
            f"SELECT {_MENTION_COLUMNS} FROM mentions WHERE project = ? AND answered_at >= ? AND answered_at < ?"
            " ORDER BY answered_at",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [_stored(row) for row in rows]

    # -- reply drafts ------------------------------------------------------------------

    def create_draft(self, mention_id: int, text: str, template: str, idempotency_key: str, at: datetime) -> Draft:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO drafts (mention_id, text, template, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)",
                (mention_id, text, template, idempotency_key, to_utc_text(at)),
            )
            draft_id = cursor.lastrowid
        found = self.draft(draft_id)
        assert found is not None
        return found

    def draft(self, draft_id: int) -> Draft | None:
        rows = self._read(f"SELECT {_DRAFT_COLUMNS} FROM drafts WHERE id = ?", (draft_id,))
        return _draft(rows[0]) if rows else None

    def drafts_for(self, mention_id: int) -> list[Draft]:
        rows = self._read(f"SELECT {_DRAFT_COLUMNS} FROM drafts WHERE mention_id = ? ORDER BY id", (mention_id,))
        return [_draft(row) for row in rows]

    def pending_draft(self, mention_id: int) -> Draft | None:
        rows = self._read(
            f"SELECT {_DRAFT_COLUMNS} FROM drafts WHERE mention_id = ? AND status IN ('sending', 'failed')", (mention_id,)
        )
        return _draft(rows[0]) if rows else None

    def claim_reply(
        self, mention_id: int, text: str, template: str, idempotency_key: str, at: datetime, since: datetime,
        again: bool = False,
    ) -> ReplyClaim:
        """The never-twice gate for replies, in one write transaction: a new draft taken for sending, unless
        one is pending (then that one is taken, key and all) or the mention got an answer meanwhile.

        `since` is when the command began: a reply sent after it, by another cmday, is never followed by a
        second one even with `again`. The partial unique index `drafts_one_pending` holds the rule too.
        """
        when = to_utc_text(at)
        with self.transaction() as db:
            row = db.execute(
                f"SELECT {_DRAFT_COLUMNS} FROM drafts WHERE mention_id = ? AND status IN ('sending', 'failed')", (mention_id,)
            ).fetchone()
            if row is not None:
                return ReplyClaim("pending", _draft(row))
            answered = db.execute(
                "SELECT 1 FROM drafts WHERE mention_id = ? AND status = 'sent' AND sent_at > ?"
                " UNION ALL SELECT 1 FROM mentions WHERE id = ? AND state = 'answered' AND ? = 0",
                (mention_id, to_utc_text(since), mention_id, int(again)),
            ).fetchone()
            if answered:
                return ReplyClaim("answered", None)
            cursor = db.execute(
                "INSERT INTO drafts (mention_id, text, template, idempotency_key, created_at, status, started_at)"
                " VALUES (?, ?, ?, ?, ?, 'sending', ?)",
                (mention_id, text, template, idempotency_key, when, when),
            )
            draft_id = cursor.lastrowid
        found = self.draft(draft_id)
        assert found is not None
        return ReplyClaim("new", found)

    def start_sending(self, draft_id: int, at: datetime) -> None:
        """A pending draft about to go (again) to the platform; `started_at` keeps the first attempt's time."""
        with self.transaction() as db:
            db.execute(
                "UPDATE drafts SET status = 'sending', sent_at = ?, started_at = COALESCE(started_at, ?)"
                " WHERE id = ? AND status IN ('sending', 'failed')",
                (to_utc_text(at), to_utc_text(at), draft_id),
            )

    def set_aside_draft(self, draft_id: int, at: datetime, reason: str) -> None:
        """A pending draft the platform does not hold, dropped by the CM (`reply --discard`): no longer pending."""
        with self.transaction() as db:
            db.execute(
                "UPDATE drafts SET status = 'discarded', sent_at = ?, error = ? WHERE id = ? AND status IN ('sending', 'failed')",
                (to_utc_text(at), reason, draft_id),
            )

    def finish_draft(
        self,
        draft_id: int,
        status: str,
        at: datetime,
        remote_id: str | None = None,
        remote_url: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record how a send ended; a sent draft also marks its mention answered, in the same transaction."""
        when = to_utc_text(at)
        with self.transaction() as db:
            db.execute(
                "UPDATE drafts SET status = ?, sent_at = ?, remote_id = ?, remote_url = ?, error = ? WHERE id = ?",
                (status, when, remote_id, remote_url, _secretless(error), draft_id),
            )
            if status == "sent":
                db.execute(
                    "UPDATE mentions SET state = 'answered', state_at = ?, answered_at = COALESCE(answered_at, ?)"
                    " WHERE id = (SELECT mention_id FROM drafts WHERE id = ?)",
                    (when, when, draft_id),
                )

    # -- escalations -------------------------------------------------------------------

    def add_escalation(
        self, mention_id: int, target: str, channel: str, note: str, at: datetime, delivered: bool, detail: str
    ) -> int:
        """Record an escalation and put its mention in the escalated state, together."""
        when = to_utc_text(at)
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO escalations (mention_id, target, channel, note, at, delivered, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (mention_id, target, channel, note, when, int(delivered), detail),
            )
            db.execute(
                "UPDATE mentions SET state = 'escalated', state_at = ?, state_reason = ? WHERE id = ?",
                (when, note or target, mention_id),
            )
        return int(cursor.lastrowid)

    def claim_notification(self, project: str, item: str, at: datetime) -> bool:
        """True for the one run that may send this item; any later or concurrent run gets False."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO notifications (project, item, at) VALUES (?, ?, ?)", (project, item, _text(at))
            )
            return cursor.rowcount == 1

    def forget_notification(self, project: str, item: str) -> None:
        """The item may be sent again: its delivery failed, or it ended (a source that works again)."""
        with self.transaction() as db:
            db.execute("DELETE FROM notifications WHERE project = ? AND item = ?", (project, item))

    def notified(self, project: str) -> set[str]:
        return {row[0] for row in self._read("SELECT item FROM notifications WHERE project = ?", (project,))}

    def escalations(self, project: str, since: datetime, until: datetime) -> list[Escalation]:
        rows = self._read(
            "SELECT e.id, e.mention_id, e.target, e.channel, e.note, e.at, e.delivered, e.detail FROM escalations e"
            " JOIN mentions m ON m.id = e.mention_id WHERE m.project = ? AND e.at >= ? AND e.at < ? ORDER BY e.at",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [Escalation(r[0], r[1], r[2], r[3], r[4], from_utc_text(r[5]), bool(r[6]), r[7]) for r in rows]

    # -- publications ------------------------------------------------------------------

    def publication(self, project: str, post_key: str) -> Publication | None:
        rows = self._read(
            "SELECT project, post_key, status, at, remote_id, url, error, started_at FROM publications"
            " WHERE project = ? AND post_key = ?",
            (project, post_key),
        )
        if not rows:
            return None
        row = rows[0]
        return Publication(row[0], row[1], row[2], from_utc_text(row[3]), row[4], row[5], row[6], _time(row[7]))

    def publications(self, project: str) -> list[Publication]:
        rows = self._read(
            "SELECT project, post_key, status, at, remote_id, url, error, started_at FROM publications"
            " WHERE project = ? ORDER BY at",
            (project,),
        )
        return [Publication(r[0], r[1], r[2], from_utc_text(r[3]), r[4], r[5], r[6], _time(r[7])) for r in rows]

    def claim_publication(self, project: str, post_key: str, at: datetime) -> bool:
        """Mark a post as being published unless it already is or was (`claim_post` also takes an interrupted one)."""
        return self.claim_post(project, post_key, at, interrupted_too=False) != "refused"

    def claim_post(self, project: str, post_key: str, at: datetime, interrupted_too: bool = True) -> str:
        """The never-twice gate for posts, in one write transaction: `new`, `pending` (an earlier attempt, failed
        or interrupted, to check with the platform first) or `refused` (published, or being published).

        `interrupted_too` takes a post left `sending`: only for a caller holding the send lock (cmday.sending),
        which proves no other cmday is sending it now.
        """
        when = to_utc_text(at)
        taken = ("failed", "sending") if interrupted_too else ("failed",)
        with self.transaction() as db:
            row = db.execute(
                "SELECT status FROM publications WHERE project = ? AND post_key = ?", (project, post_key)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO publications (project, post_key, status, at, started_at) VALUES (?, ?, 'sending', ?, ?)",
                    (project, post_key, when, when),
                )
                return "new"
            if row[0] not in taken:
                return "refused"
            db.execute(
                "UPDATE publications SET status = 'sending', at = ?, error = NULL, started_at = COALESCE(started_at, at)"
                " WHERE project = ? AND post_key = ?",
                (when, project, post_key),
            )
            return "pending"

    def finish_publication(
        self, project: str, post_key: str, status: str, at: datetime, remote_id: str | None = None,
        url: str | None = None, error: str | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE publications SET status = ?, at = ?, remote_id = ?, url = ?, error = ? WHERE project = ? AND post_key = ?",
                (status, to_utc_text(at), remote_id, url, _secretless(error), project, post_key),
            )

    # -- indicators entered by hand or fetched as snapshots -------------------------------

    def set_kpi(self, project: str, key: str, day: str, value: float, origin: str, at: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO kpi_values (project, key, day, origin, value, at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project, key, day, origin) DO UPDATE SET value = excluded.value, at = excluded.at",
                (project, key, day, origin, value, to_utc_text(at)),
            )

    def kpi_values(self, project: str, key: str | None = None, since_day: str | None = None, until_day: str | None = None) -> list[KpiValue]:
        """Dated values, oldest first; `until_day` is exclusive. Hand-entered values win over fetched ones per day."""
        where, parameters = ["project = ?"], [project]
        if key is not None:
            where.append("key = ?")
            parameters.append(key)
        if since_day is not None:
            where.append("day >= ?")
            parameters.append(since_day)
        if until_day is not None:
            where.append("day < ?")
            parameters.append(until_day)
        rows = self._read(
            f"SELECT key, day, origin, value, at FROM kpi_values WHERE {' AND '.join(where)}"
            " ORDER BY key, day, CASE origin WHEN 'manual' THEN 0 ELSE 1 END",
            parameters,
        )
        chosen: dict[tuple[str, str], KpiValue] = {}
        for row in rows:
            chosen.setdefault((row[0], row[1]), KpiValue(row[0], row[1], row[2], row[3], from_utc_text(row[4])))
        return list(chosen.values())

    def clear_checklist_mark(self, project: str, day: str, routine: str, item: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM checklist_marks WHERE project = ? AND day = ? AND routine = ? AND item = ?",
                (project, day, routine, item),
            )
        return cursor.rowcount > 0


class TrendMention(NamedTuple):
    """The fields of a mention that a trend of earlier periods needs (see `Store.trend_mentions`)."""

    created_at: datetime
    answered_at: datetime | None
    sla_due: datetime | None
    category: str
    state: str
    platform: str


_DRAFT_COLUMNS = (
    "id, mention_id, text, template, idempotency_key, status, created_at, sent_at, remote_id, remote_url, error,"
    " started_at"
)


def _draft(row: tuple) -> Draft:
    return Draft(row[0], row[1], row[2], row[3], row[4], row[5], from_utc_text(row[6]), _time(row[7]), row[8], row[9], row[10],
                 _time(row[11]))


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
        in_reply_to=row[24],
        flags=tuple(flag for flag in (row[25] or "").split(",") if flag),
    )
