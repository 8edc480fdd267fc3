"""The named migrations, oldest first: one schema for every back end, written once.

Each runs with its record in `migrations` in one transaction, on every open, so a state of any age
comes up to date (tests run them on a blank database and from the first one). They are written in
the SQL both SQLite and PostgreSQL read; `for_postgres` only swaps the few type names that differ.
"""

from __future__ import annotations

import re

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
    (
        # A team sharing one state: who has each mention, who is writing an answer now, internal notes
        # that are never sent, and who sent each reply.
        "m006_team",
        """
        ALTER TABLE mentions ADD COLUMN assignee TEXT;
        CREATE INDEX mentions_by_assignee ON mentions (project, assignee, state);
        ALTER TABLE drafts ADD COLUMN sent_by TEXT NOT NULL DEFAULT '';
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions(id),
            author TEXT NOT NULL,
            text TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX notes_by_mention ON notes (mention_id, id);
        CREATE TABLE replying (
            mention_id INTEGER NOT NULL PRIMARY KEY REFERENCES mentions(id),
            who TEXT NOT NULL,
            since TEXT NOT NULL
        );
        """,
    ),
]


_POSTGRES_TYPES = [
    # SQLite's INTEGER PRIMARY KEY is its row id; PostgreSQL numbers rows with an identity that also
    # accepts the ids a `state copy` brings along.
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
]


def statements(sql: str, dialect: str = "sqlite") -> list[str]:
    """A migration's statements, one by one, in the back end's own words."""
    if dialect == "postgresql":
        for pattern, replacement in _POSTGRES_TYPES:
            sql = pattern.sub(replacement, sql)
    return [statement.strip() for statement in sql.split(";") if statement.strip()]
