"""The sources table: each source's cursor and how its last fetch went."""

from __future__ import annotations

from datetime import datetime

from cmday.clock import to_utc_text
from cmday.store.records import SourceHealth, secretless, time_of


class SourceTables:
    def cursor(self, project: str, source_id: str) -> str | None:
        rows = self._read("SELECT cursor FROM sources WHERE project = ? AND source_id = ?", (project, source_id))
        return rows[0]["cursor"] if rows else None

    def record_fetch(
        self,
        project: str,
        source_id: str,
        platform: str,
        at: datetime,
        error: str | None = None,
        needs_auth: bool = False,
    ) -> None:
        when = to_utc_text(at)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sources (project, source_id, platform, last_attempt, last_success, last_error, needs_auth)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project, source_id) DO UPDATE SET platform = excluded.platform,"
                " last_attempt = excluded.last_attempt,"
                " last_success = COALESCE(excluded.last_success, sources.last_success),"
                " last_error = excluded.last_error, needs_auth = excluded.needs_auth",
                (project, source_id, platform, when, None if error else when, secretless(error), int(needs_auth)),
            )

    def source_health(self, project: str) -> dict[str, SourceHealth]:
        rows = self._read(
            "SELECT s.project, s.source_id, s.platform, s.cursor, s.last_attempt, s.last_success, s.last_error,"
            " s.needs_auth, (SELECT COUNT(*) FROM mentions m WHERE m.project = s.project AND m.source_id = s.source_id)"
            " AS mentions FROM sources s WHERE s.project = ?",
            (project,),
        )
        return {
            row["source_id"]: SourceHealth(
                project=row["project"],
                source_id=row["source_id"],
                platform=row["platform"],
                cursor=row["cursor"],
                last_attempt=time_of(row["last_attempt"]),
                last_success=time_of(row["last_success"]),
                last_error=row["last_error"],
                needs_auth=bool(row["needs_auth"]),
                mentions=row["mentions"],
            )
            for row in rows
        }
