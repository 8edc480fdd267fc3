"""The mentions table: storing a fetched batch with its cursor, reading the inbox, states and counts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from cmday.clock import from_utc_text, to_utc_text
from cmday.mention import STATES, Mention, StoredMention
from cmday.secrets import redact_json
from cmday.store.records import ANY_CURSOR, MENTION_COLUMNS, UNASSIGNED, TrendMention, storable, stored_mention, text_of, time_of


class MentionTables:
    def save_batch(
        self,
        project: str,
        source_id: str,
        platform: str,
        mentions: list[Mention],
        cursor: str | None,
        fetched_at: datetime,
        moving_from: object = ANY_CURSOR,
    ) -> int:
        fetched = to_utc_text(fetched_at)
        added = 0
        with self._transaction() as db:
            for mention in mentions:
                linked_to = None
                if mention.url:
                    row = db.execute(  # `url != ''` lets SQLite use the partial index mentions_by_url, not read the project
                        "SELECT id FROM mentions WHERE project = ? AND url = ? AND url != '' AND source_id != ?"
                        " AND linked_to IS NULL LIMIT 1",
                        (project, storable(mention.url), source_id),
                    ).fetchone()
                    linked_to = row["id"] if row else None
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
                        storable(mention.platform_id),
                        mention.kind,
                        storable(mention.author_handle),
                        storable(mention.author_name),
                        storable(mention.author_url),
                        storable(mention.text),
                        storable(mention.url),
                        to_utc_text(mention.created_at),
                        fetched,
                        mention.language,
                        mention.in_reply_to,
                        storable(json.dumps(redact_json(mention.raw), default=str)) if mention.raw is not None else None,
                        linked_to,
                        mention.category,
                        mention.priority,
                        int(mention.urgent),
                        text_of(mention.sla_due),
                        storable(mention.matched),
                        state,
                        reason,
                        ",".join(mention.flags),
                    ),
                )
                added += inserted.rowcount
            if cursor is None or moving_from is ANY_CURSOR:
                db.execute(
                    "INSERT INTO sources (project, source_id, platform, cursor) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (project, source_id) DO UPDATE SET cursor = COALESCE(excluded.cursor, sources.cursor),"
                    " platform = excluded.platform",
                    (project, source_id, platform, cursor),
                )
            else:  # only from where this fetch left it: a fetch elsewhere that got further keeps its mark
                db.execute(
                    "INSERT INTO sources (project, source_id, platform, cursor) VALUES (?, ?, ?, NULL)"
                    " ON CONFLICT (project, source_id) DO NOTHING",
                    (project, source_id, platform),
                )
                still = "cursor IS NULL" if moving_from is None else "cursor = ?"
                db.execute(
                    f"UPDATE sources SET cursor = ?, platform = ? WHERE project = ? AND source_id = ? AND {still}",
                    (cursor, platform, project, source_id, *(() if moving_from is None else (moving_from,))),
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
        assignee: str | None = None,
    ) -> list[StoredMention]:
        where, parameters = _mention_filter(project, states, now, since, until, platform, fetched_since, assignee)
        sql = (
            f"SELECT {MENTION_COLUMNS} FROM mentions WHERE {' AND '.join(where)}"
            " ORDER BY urgent DESC, priority ASC, created_at ASC, id ASC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [stored_mention(row) for row in self._read(sql, parameters)]

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
        assignee: str | None = None,
    ) -> int:
        where, parameters = _mention_filter(project, states, now, since, until, platform, fetched_since, assignee)
        return self._read(f"SELECT COUNT(*) AS n FROM mentions WHERE {' AND '.join(where)}", parameters)[0]["n"]

    def trend_mentions(self, project: str, since: datetime, until: datetime) -> list[TrendMention]:
        rows = self._read(
            "SELECT created_at, answered_at, sla_due, category, state, platform FROM mentions"
            " WHERE project = ? AND created_at >= ? AND created_at < ? AND state != 'linked'",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [
            TrendMention(from_utc_text(row["created_at"]), time_of(row["answered_at"]), time_of(row["sla_due"]),
                         row["category"], row["state"], row["platform"])
            for row in rows
        ]

    def mention(self, mention_id: int) -> StoredMention | None:
        rows = self._read(f"SELECT {MENTION_COLUMNS} FROM mentions WHERE id = ?", (mention_id,))
        return stored_mention(rows[0]) if rows else None

    def thread_above(self, mention: StoredMention, depth: int = 5) -> list[StoredMention]:
        chain: list[StoredMention] = []
        current = mention
        while current.in_reply_to and len(chain) < depth:
            rows = self._read(
                f"SELECT {MENTION_COLUMNS} FROM mentions WHERE project = ? AND platform_id = ? ORDER BY id LIMIT 1",
                (current.project, current.in_reply_to),
            )
            if not rows:
                break
            current = stored_mention(rows[0])
            chain.append(current)
        return list(reversed(chain))

    def earlier_from_author(self, mention: StoredMention, limit: int = 3) -> tuple[int, list[StoredMention]]:
        if not mention.author_handle:
            return 0, []
        where = "project = ? AND platform = ? AND author_handle = ? AND created_at < ? AND id != ? AND state != 'linked'"
        parameters = (mention.project, mention.platform, mention.author_handle, to_utc_text(mention.created_at), mention.id)
        count = self._read(f"SELECT COUNT(*) AS n FROM mentions WHERE {where}", parameters)[0]["n"]
        if not count:
            return 0, []
        rows = self._read(f"SELECT {MENTION_COLUMNS} FROM mentions WHERE {where} ORDER BY created_at DESC LIMIT {int(limit)}", parameters)
        return count, [stored_mention(row) for row in rows]

    def raw_payload(self, mention_id: int) -> str | None:
        rows = self._read("SELECT raw FROM mentions WHERE id = ?", (mention_id,))
        return rows[0]["raw"] if rows else None

    def set_state(
        self,
        mention_id: int,
        state: str,
        at: datetime,
        reason: str = "",
        snooze_until: datetime | None = None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE mentions SET state = ?, state_at = ?, state_reason = ?, snooze_until = ?,"
                " answered_at = CASE WHEN ? = 'answered' THEN COALESCE(answered_at, ?) ELSE answered_at END"
                " WHERE id = ?",
                (state, to_utc_text(at), reason, text_of(snooze_until), state, to_utc_text(at), mention_id),
            )

    def set_flags(self, mention_id: int, flags: Iterable[str]) -> None:
        with self._transaction() as db:
            db.execute("UPDATE mentions SET flags = ? WHERE id = ?", (",".join(flags), mention_id))

    def answer_many(self, answers: list[tuple[int, datetime]]) -> None:
        with self._transaction() as db:
            db.execute_many(
                "UPDATE mentions SET state = 'answered', state_at = ?, answered_at = ? WHERE id = ?",
                [(to_utc_text(at), to_utc_text(at), mention_id) for mention_id, at in answers],
            )

    def count_by(self, project: str, column: str, since: datetime, until: datetime) -> dict[str, int]:
        if column not in ("platform", "category", "kind"):
            raise ValueError(column)
        rows = self._read(
            f"SELECT {column} AS grouped, COUNT(*) AS n FROM mentions WHERE project = ? AND created_at >= ? AND created_at < ?"
            f" AND linked_to IS NULL GROUP BY {column} ORDER BY COUNT(*) DESC, {column}",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return {row["grouped"]: row["n"] for row in rows}

    def response_minutes(self, project: str, since: datetime, until: datetime) -> list[float]:
        rows = self._read(
            "SELECT created_at, answered_at FROM mentions"
            " WHERE project = ? AND answered_at >= ? AND answered_at < ? AND state = 'answered'",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [
            max((from_utc_text(row["answered_at"]) - from_utc_text(row["created_at"])).total_seconds() / 60, 0.0)
            for row in rows
        ]

    def reclassify(self, changes: list[tuple[int, str, int, bool, datetime | None, str]]) -> None:
        with self._transaction() as db:
            db.execute_many(
                "UPDATE mentions SET category = ?, priority = ?, urgent = ?, sla_due = ?, matched = ? WHERE id = ?",
                [(c, p, int(u), text_of(d), m, i) for i, c, p, u, d, m in changes],
            )

    def categorise_by_hand(self, change: tuple[int, str, int, bool, datetime | None, str], flag: str) -> None:
        mention_id, category, priority, urgent, due, matched = change
        with self._transaction() as db:
            db.execute(
                "UPDATE mentions SET category = ?, priority = ?, urgent = ?, sla_due = ?, matched = ?,"
                " flags = CASE WHEN (',' || flags || ',') LIKE ? THEN flags WHEN flags = '' THEN ? ELSE flags || ',' || ? END"
                " WHERE id = ?",
                (category, priority, int(urgent), text_of(due), matched, f"%,{flag},%", flag, flag, mention_id),
            )


def _mention_filter(project, states, now, since, until, platform, fetched_since, assignee) -> tuple[list[str], list[object]]:
    where = ["project = ?"]
    parameters: list[object] = [project]
    if states is not None:
        # States are written into the SQL, not passed as parameters: a prepared statement's generic plan
        # (PostgreSQL's after five runs) cannot know 'open' is a few hundred rows of a million and would read
        # the whole project; with the words in, it keeps the state index. They come from STATES, never a user.
        if now is not None and "open" in states and "snoozed" not in states:
            # written as one IN over the state index, not an OR that makes SQLite read every row of the project
            clause = f"(state IN ({_state_list(states + ('snoozed',))}) AND (state != 'snoozed' OR snooze_until <= ?))"
            parameters.append(to_utc_text(now))
        else:
            clause = f"state IN ({_state_list(states)})"
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
    if assignee == UNASSIGNED:
        where.append("assignee IS NULL")
    elif assignee is not None:
        where.append("assignee = ?")
        parameters.append(assignee)
    return where, parameters


def _state_list(states: Iterable[str]) -> str:
    unknown = set(states) - set(STATES)
    if unknown:
        raise ValueError(f"not a mention state: {sorted(unknown)}")
    return ", ".join(f"'{state}'" for state in states)
