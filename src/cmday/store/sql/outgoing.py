"""What cmday sends: reply drafts and publications, and the never-twice gates that take them for sending."""

from __future__ import annotations

from datetime import datetime

from cmday.clock import to_utc_text
from cmday.store.records import (
    DRAFT_COLUMNS,
    PUBLICATION_COLUMNS,
    Draft,
    Publication,
    ReplyClaim,
    draft_of,
    publication_of,
    secretless,
)


class OutgoingTables:
    # -- reply drafts ------------------------------------------------------------------

    def create_draft(self, mention_id: int, text: str, template: str, idempotency_key: str, at: datetime) -> Draft:
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO drafts (mention_id, text, template, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)"
                f" RETURNING {DRAFT_COLUMNS}",
                (mention_id, text, template, idempotency_key, to_utc_text(at)),
            ).fetchone()
        return draft_of(row)

    def draft(self, draft_id: int) -> Draft | None:
        rows = self._read(f"SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = ?", (draft_id,))
        return draft_of(rows[0]) if rows else None

    def drafts_for(self, mention_id: int) -> list[Draft]:
        rows = self._read(f"SELECT {DRAFT_COLUMNS} FROM drafts WHERE mention_id = ? ORDER BY id", (mention_id,))
        return [draft_of(row) for row in rows]

    def pending_draft(self, mention_id: int) -> Draft | None:
        rows = self._read(
            f"SELECT {DRAFT_COLUMNS} FROM drafts WHERE mention_id = ? AND status IN ('sending', 'failed')", (mention_id,)
        )
        return draft_of(rows[0]) if rows else None

    def claim_reply(
        self, mention_id: int, text: str, template: str, idempotency_key: str, at: datetime, since: datetime,
        again: bool = False, by: str = "",
    ) -> ReplyClaim:
        when = to_utc_text(at)
        with self._transaction() as db:
            db.serialize(f"reply-{mention_id}")  # a second cmday on another machine waits here until this one commits
            row = db.execute(
                f"SELECT {DRAFT_COLUMNS} FROM drafts WHERE mention_id = ? AND status IN ('sending', 'failed')", (mention_id,)
            ).fetchone()
            if row is not None:
                return ReplyClaim("pending", draft_of(row))
            answered = db.execute(
                "SELECT 1 AS found FROM drafts WHERE mention_id = ? AND status = 'sent' AND sent_at > ?"
                " UNION ALL SELECT 1 AS found FROM mentions WHERE id = ? AND state = 'answered' AND ? = 0",
                (mention_id, to_utc_text(since), mention_id, int(again)),
            ).fetchone()
            if answered:
                return ReplyClaim("answered", None)
            row = db.execute(
                "INSERT INTO drafts (mention_id, text, template, idempotency_key, created_at, status, started_at, sent_by)"
                f" VALUES (?, ?, ?, ?, ?, 'sending', ?, ?) RETURNING {DRAFT_COLUMNS}",
                (mention_id, text, template, idempotency_key, when, when, by),
            ).fetchone()
        return ReplyClaim("new", draft_of(row))

    def start_sending(self, draft_id: int, at: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE drafts SET status = 'sending', sent_at = ?, started_at = COALESCE(started_at, ?)"
                " WHERE id = ? AND status IN ('sending', 'failed')",
                (to_utc_text(at), to_utc_text(at), draft_id),
            )

    def set_aside_draft(self, draft_id: int, at: datetime, reason: str) -> None:
        with self._transaction() as db:
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
        when = to_utc_text(at)
        with self._transaction() as db:
            db.execute(
                "UPDATE drafts SET status = ?, sent_at = ?, remote_id = ?, remote_url = ?, error = ? WHERE id = ?",
                (status, when, remote_id, remote_url, secretless(error), draft_id),
            )
            if status == "sent":
                db.execute(
                    "UPDATE mentions SET state = 'answered', state_at = ?, answered_at = COALESCE(answered_at, ?)"
                    " WHERE id = (SELECT mention_id FROM drafts WHERE id = ?)",
                    (when, when, draft_id),
                )

    # -- publications ------------------------------------------------------------------

    def publication(self, project: str, post_key: str) -> Publication | None:
        rows = self._read(
            f"SELECT {PUBLICATION_COLUMNS} FROM publications WHERE project = ? AND post_key = ?", (project, post_key)
        )
        return publication_of(rows[0]) if rows else None

    def publications(self, project: str) -> list[Publication]:
        rows = self._read(
            f"SELECT {PUBLICATION_COLUMNS} FROM publications WHERE project = ? ORDER BY at, post_key", (project,)
        )
        return [publication_of(row) for row in rows]

    def claim_post(self, project: str, post_key: str, at: datetime, interrupted_too: bool = True) -> str:
        when = to_utc_text(at)
        taken = ("failed", "sending") if interrupted_too else ("failed",)
        with self._transaction() as db:
            db.serialize(f"post-{project}-{post_key}")
            row = db.execute(
                "SELECT status FROM publications WHERE project = ? AND post_key = ?", (project, post_key)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO publications (project, post_key, status, at, started_at) VALUES (?, ?, 'sending', ?, ?)",
                    (project, post_key, when, when),
                )
                return "new"
            if row["status"] not in taken:
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
        with self._transaction() as db:
            db.execute(
                "UPDATE publications SET status = ?, at = ?, remote_id = ?, url = ?, error = ? WHERE project = ? AND post_key = ?",
                (status, to_utc_text(at), remote_id, url, secretless(error), project, post_key),
            )
