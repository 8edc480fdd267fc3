"""A team sharing the state: assignment, internal notes, who is replying now, and the reply log."""

from __future__ import annotations

from datetime import datetime, timedelta

from cmday.clock import from_utc_text, to_utc_text
from cmday.store.records import Note, Replying, SentReply

# A `replying` mark older than this is a cmday that ended without clearing it (killed, a laptop closed):
# it no longer holds anyone off.
REPLYING_FOR = timedelta(minutes=30)


class TeamTables:
    def assign(self, mention_id: int, assignee: str | None, at: datetime) -> bool:
        with self._transaction() as db:
            cursor = db.execute("UPDATE mentions SET assignee = ? WHERE id = ?", (assignee or None, mention_id))
            return cursor.rowcount == 1

    def add_note(self, mention_id: int, author: str, text: str, at: datetime) -> int:
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO notes (mention_id, author, text, at) VALUES (?, ?, ?, ?) RETURNING id",
                (mention_id, author, text, to_utc_text(at)),
            ).fetchone()
        return int(row["id"])

    def notes(self, mention_id: int) -> list[Note]:
        rows = self._read("SELECT id, mention_id, author, text, at FROM notes WHERE mention_id = ? ORDER BY id", (mention_id,))
        return [Note(row["id"], row["mention_id"], row["author"], row["text"], from_utc_text(row["at"])) for row in rows]

    def start_replying(self, mention_id: int, who: str, at: datetime) -> Replying | None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO replying (mention_id, who, since) VALUES (?, ?, ?)"
                " ON CONFLICT (mention_id) DO UPDATE SET who = excluded.who, since = excluded.since"
                " WHERE replying.who = excluded.who OR replying.since < ?",
                (mention_id, who, to_utc_text(at), to_utc_text(at - REPLYING_FOR)),
            )
            row = db.execute("SELECT mention_id, who, since FROM replying WHERE mention_id = ?", (mention_id,)).fetchone()
        if row is None or row["who"] == who:
            return None
        return Replying(row["mention_id"], row["who"], from_utc_text(row["since"]))

    def stop_replying(self, mention_id: int, who: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM replying WHERE mention_id = ? AND who = ?", (mention_id, who))

    def replying(self, mention_id: int, now: datetime) -> Replying | None:
        rows = self._read(
            "SELECT mention_id, who, since FROM replying WHERE mention_id = ? AND since >= ?",
            (mention_id, to_utc_text(now - REPLYING_FOR)),
        )
        return Replying(rows[0]["mention_id"], rows[0]["who"], from_utc_text(rows[0]["since"])) if rows else None

    def reply_log(self, project: str, since: datetime, until: datetime) -> list[SentReply]:
        rows = self._read(
            "SELECT d.mention_id, m.project, m.platform, d.sent_by, d.sent_at, d.template, d.remote_url, m.created_at"
            " FROM drafts d JOIN mentions m ON m.id = d.mention_id"
            " WHERE m.project = ? AND d.status = 'sent' AND d.sent_at >= ? AND d.sent_at < ? ORDER BY d.sent_at, d.id",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [
            SentReply(
                mention_id=row["mention_id"], project=row["project"], platform=row["platform"], sent_by=row["sent_by"],
                sent_at=from_utc_text(row["sent_at"]), template=row["template"], remote_url=row["remote_url"],
                minutes=max((from_utc_text(row["sent_at"]) - from_utc_text(row["created_at"])).total_seconds() / 60, 0.0),
            )
            for row in rows
        ]
