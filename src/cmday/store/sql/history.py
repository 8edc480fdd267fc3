"""What happened over time: routine runs and checklist marks, escalations, notifications sent, indicator values, meta."""

from __future__ import annotations

from datetime import datetime

from cmday.clock import from_utc_text, to_utc_text
from cmday.store.records import ChecklistMark, Escalation, KpiValue, escalation_of, text_of, time_of


class HistoryTables:
    # -- meta ----------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- routine ---------------------------------------------------------------------

    def record_run(self, project: str, routine: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO routine_runs (project, routine, at) VALUES (?, ?, ?)", (project, routine, to_utc_text(at)))

    def last_run(self, project: str, routine: str, before: datetime | None = None) -> datetime | None:
        sql = "SELECT MAX(at) AS latest FROM routine_runs WHERE project = ? AND routine = ?"
        parameters: list[object] = [project, routine]
        if before is not None:
            sql += " AND at < ?"
            parameters.append(to_utc_text(before))
        rows = self._read(sql, parameters)
        return time_of(rows[0]["latest"]) if rows else None

    def checklist_marks(self, project: str, day: str, routine: str) -> dict[str, ChecklistMark]:
        rows = self._read(
            "SELECT item, status, note, at FROM checklist_marks WHERE project = ? AND day = ? AND routine = ?",
            (project, day, routine),
        )
        return {
            row["item"]: ChecklistMark(item=row["item"], status=row["status"], note=row["note"], at=from_utc_text(row["at"]))
            for row in rows
        }

    def set_checklist_mark(
        self, project: str, day: str, routine: str, item: str, status: str, note: str, at: datetime
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO checklist_marks (project, day, routine, item, status, note, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project, day, routine, item) DO UPDATE SET status = excluded.status,"
                " note = excluded.note, at = excluded.at",
                (project, day, routine, item, status, note, to_utc_text(at)),
            )

    def clear_checklist_mark(self, project: str, day: str, routine: str, item: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM checklist_marks WHERE project = ? AND day = ? AND routine = ? AND item = ?",
                (project, day, routine, item),
            )
            return cursor.rowcount > 0

    # -- escalations and notifications ----------------------------------------------------

    def add_escalation(
        self, mention_id: int, target: str, channel: str, note: str, at: datetime, delivered: bool, detail: str
    ) -> int:
        when = to_utc_text(at)
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO escalations (mention_id, target, channel, note, at, delivered, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (mention_id, target, channel, note, when, int(delivered), detail),
            ).fetchone()
            db.execute(
                "UPDATE mentions SET state = 'escalated', state_at = ?, state_reason = ? WHERE id = ?",
                (when, note or target, mention_id),
            )
        return int(row["id"])

    def escalations(self, project: str, since: datetime, until: datetime) -> list[Escalation]:
        rows = self._read(
            "SELECT e.id, e.mention_id, e.target, e.channel, e.note, e.at, e.delivered, e.detail FROM escalations e"
            " JOIN mentions m ON m.id = e.mention_id WHERE m.project = ? AND e.at >= ? AND e.at < ? ORDER BY e.at, e.id",
            (project, to_utc_text(since), to_utc_text(until)),
        )
        return [escalation_of(row) for row in rows]

    def claim_notification(self, project: str, item: str, at: datetime) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO notifications (project, item, at) VALUES (?, ?, ?) ON CONFLICT (project, item) DO NOTHING",
                (project, item, text_of(at)),
            )
            return cursor.rowcount == 1

    def forget_notification(self, project: str, item: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM notifications WHERE project = ? AND item = ?", (project, item))

    def notified(self, project: str) -> set[str]:
        return {row["item"] for row in self._read("SELECT item FROM notifications WHERE project = ?", (project,))}

    # -- indicators entered by hand or fetched as snapshots -------------------------------

    def set_kpi(self, project: str, key: str, day: str, value: float, origin: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO kpi_values (project, key, day, origin, value, at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (project, key, day, origin) DO UPDATE SET value = excluded.value, at = excluded.at",
                (project, key, day, origin, value, to_utc_text(at)),
            )

    def kpi_values(
        self, project: str, key: str | None = None, since_day: str | None = None, until_day: str | None = None
    ) -> list[KpiValue]:
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
            chosen.setdefault(
                (row["key"], row["day"]),
                KpiValue(row["key"], row["day"], row["origin"], float(row["value"]), from_utc_text(row["at"])),
            )
        return list(chosen.values())
