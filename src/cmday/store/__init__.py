"""The state: `Store`, the interface the rest of cmday uses, and the records it hands back.

`Store(path)` opens the SQLite file (`cmday.store.sqlite`), `Store("postgresql://...")` a shared
database (`cmday.store.postgres`); the SQL they share lives in `cmday.store.sql`, one module per
table group, and the schema in `cmday.store.migrations`. No other module holds SQL.
"""

from cmday.store.interface import Store, is_database_url
from cmday.store.migrations import MIGRATIONS
from cmday.store.records import (
    PENDING,
    UNASSIGNED,
    ChecklistMark,
    Draft,
    Escalation,
    KpiValue,
    Note,
    Publication,
    ReplyClaim,
    Replying,
    SentReply,
    SourceHealth,
    TrendMention,
)

__all__ = [
    "MIGRATIONS",
    "PENDING",
    "UNASSIGNED",
    "ChecklistMark",
    "Draft",
    "Escalation",
    "KpiValue",
    "Note",
    "Publication",
    "Replying",
    "ReplyClaim",
    "SentReply",
    "SourceHealth",
    "Store",
    "TrendMention",
    "is_database_url",
]
