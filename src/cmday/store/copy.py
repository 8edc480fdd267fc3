"""`cmday state copy`: one state copied into another (a laptop's SQLite into the team's PostgreSQL) with
nothing lost and nothing doubled, however many times it runs.

Each row is matched by what it is, not by its number: a mention by its source and platform id, a draft
by its idempotency key, a mark or a publication by its primary key, an escalation, note or run by all
it says. A row already there is left as it is (the shared state may have moved on since); a mention
keeps its number when the target has it free, so `cmday show 42` still means the same mention.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cmday.store.sql import SQLStore, Writer

CHUNK = 2_000

# table: (the columns that say which row it is, or None for the primary key; its own id column, if any)
_BY_KEY = {
    "meta": ("key",),
    "sources": ("project", "source_id"),
    "checklist_marks": ("project", "day", "routine", "item"),
    "publications": ("project", "post_key"),
    "kpi_values": ("project", "key", "day", "origin"),
    "notifications": ("project", "item"),
}
_BY_CONTENT = {  # no key of their own: the same row twice is the same event
    "routine_runs": ("project", "routine", "at"),
    "escalations": ("mention_id", "target", "channel", "at", "note"),
    "notes": ("mention_id", "author", "at", "text"),
}


@dataclass
class Copied:
    added: dict[str, int] = field(default_factory=Counter)
    present: dict[str, int] = field(default_factory=Counter)

    @property
    def total_added(self) -> int:
        return sum(self.added.values())

    @property
    def total_present(self) -> int:
        return sum(self.present.values())


def copy_state(source: SQLStore, target: SQLStore) -> Copied:
    copied = Copied()
    for table, key in _BY_KEY.items():
        _copy_rows(source, target, table, copied, lambda db, row, table=table, key=key: _insert_new(db, table, row, key))
    ids = _copy_mentions(source, target, copied)
    _copy_drafts(source, target, ids, copied)
    for table, content in _BY_CONTENT.items():
        def add(db: Writer, row: dict, table: str = table, content: tuple[str, ...] = content) -> bool:
            if "mention_id" in row:
                row["mention_id"] = ids[row["mention_id"]]
            row.pop("id", None)
            return _insert_unless_there(db, table, row, content)

        _copy_rows(source, target, table, copied, add)
    if copied.total_added:
        target.after_bulk_load()
    return copied


def _rows(store: SQLStore, table: str):
    """Every row of a table, in chunks ordered by its own order, so 100,000 mentions never sit in memory at once."""
    if table in ("mentions", "drafts", "escalations", "notes", "routine_runs"):
        last = 0
        while True:
            chunk = store._read(f"SELECT * FROM {table} WHERE id > ? ORDER BY id LIMIT {CHUNK}", (last,))
            if not chunk:
                return
            yield [dict(row) for row in chunk]
            last = chunk[-1]["id"]
    else:
        yield [dict(row) for row in store._read(f"SELECT * FROM {table}")]


def _copy_rows(source: SQLStore, target: SQLStore, table: str, copied: Copied, add) -> None:
    for chunk in _rows(source, table):
        with target._transaction() as db:
            for row in chunk:
                if add(db, row):
                    copied.added[table] += 1
                else:
                    copied.present[table] += 1


def _insert(db: Writer, table: str, row: dict, suffix: str = ""):
    columns = ", ".join(row)
    marks = ", ".join("?" for _column in row)
    return db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks}){suffix}", tuple(row.values()))


def _insert_new(db: Writer, table: str, row: dict, key: tuple[str, ...]) -> bool:
    return _insert(db, table, row, f" ON CONFLICT ({', '.join(key)}) DO NOTHING").rowcount == 1


def _insert_unless_there(db: Writer, table: str, row: dict, content: tuple[str, ...]) -> bool:
    same = " AND ".join(f"{column} = ?" for column in content)
    if db.execute(f"SELECT 1 AS found FROM {table} WHERE {same} LIMIT 1", tuple(row[c] for c in content)).fetchone():
        return False
    _insert(db, table, row)
    return True


def _copy_mentions(source: SQLStore, target: SQLStore, copied: Copied) -> dict[int, int]:
    """Mentions, keeping their numbers where the target has them free; returns source id → target id.

    A chunk costs three queries (which are there, which numbers are taken, one batched insert): a row
    at a time would be three round trips per mention, minutes for a big state on a remote database.
    """
    ids: dict[int, int] = {}
    for chunk in _rows(source, "mentions"):
        marks = ", ".join("?" for _row in chunk)
        with target._transaction() as db:
            there = {
                (row["project"], row["source_id"], row["platform_id"]): row["id"]
                for row in db.execute(
                    f"SELECT id, project, source_id, platform_id FROM mentions WHERE platform_id IN ({marks})",
                    [row["platform_id"] for row in chunk],
                ).fetchall()
            }
            taken = {row["id"] for row in db.execute(f"SELECT id FROM mentions WHERE id IN ({marks})", [row["id"] for row in chunk]).fetchall()}
            keeping: list[dict] = []  # rows that keep their number: inserted together
            for row in chunk:
                old = row["id"]
                found = there.get((row["project"], row["source_id"], row["platform_id"]))
                if found is not None:
                    ids[old] = found
                    copied.present["mentions"] += 1
                    continue
                if row["linked_to"] is not None:
                    row["linked_to"] = ids.get(row["linked_to"])
                copied.added["mentions"] += 1
                if old not in taken:
                    ids[old] = old
                    keeping.append(row)
                    continue
                _insert_many(db, "mentions", keeping)  # the numbers kept so far go first, so the new one comes after them
                keeping = []
                db.ids_given("mentions")
                row.pop("id")
                ids[old] = _insert(db, "mentions", row, " RETURNING id").fetchone()["id"]
                taken.add(ids[old])  # a later row of this chunk may have had that number: it gets a new one too
            _insert_many(db, "mentions", keeping)
            db.ids_given("mentions")
    return ids


def _insert_many(db: Writer, table: str, rows: list[dict]) -> None:
    if rows:
        columns = ", ".join(rows[0])
        marks = ", ".join("?" for _column in rows[0])
        db.execute_many(f"INSERT INTO {table} ({columns}) VALUES ({marks})", [tuple(row.values()) for row in rows])


def _copy_drafts(source: SQLStore, target: SQLStore, ids: dict[int, int], copied: Copied) -> None:
    for chunk in _rows(source, "drafts"):
        with target._transaction() as db:
            for row in chunk:
                row.pop("id")
                row["mention_id"] = ids[row["mention_id"]]
                # by its key; a second pending draft for one mention is refused by drafts_one_pending: kept out
                if _insert(db, "drafts", row, " ON CONFLICT DO NOTHING").rowcount == 1:
                    copied.added["drafts"] += 1
                else:
                    copied.present["drafts"] += 1
