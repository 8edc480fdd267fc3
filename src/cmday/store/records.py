"""What the store hands back: plain records, read from rows by column name, the same for every back end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from cmday.clock import from_utc_text, to_utc_text
from cmday.mention import StoredMention
from cmday.secrets import redact

PENDING = ("sending", "failed")  # a draft or post in these states may be on the platform: ask it before sending again

UNASSIGNED = ""  # as `assignee=` of `Store.mentions`: only the mentions nobody has
ANY_CURSOR = object()  # as `moving_from=` of `Store.save_batch`: the cursor moves whatever it was (imports, the demo, tests)
Row = Mapping[str, Any]  # sqlite3.Row and psycopg's dict_row both read by name

# Records are read field by field, never compared or shown whole: no generated __eq__ and __repr__, which every
# command opening the store would pay to define (exec'd code, ~0.15 ms a class).


@dataclass(eq=False, repr=False)
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


@dataclass(eq=False, repr=False)
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
    sent_by: str = ""  # the team member who took it for sending

    @property
    def pending(self) -> bool:
        return self.status in PENDING


@dataclass(eq=False, repr=False)
class ReplyClaim:
    """What the send gate answered: `new` (a draft made and taken), `pending` (an earlier one, taken, to
    check with the platform first) or `answered` (sent since the command began, or answered and not --again)."""

    outcome: str
    draft: Draft | None


@dataclass(eq=False, repr=False)
class Escalation:
    id: int
    mention_id: int
    target: str
    channel: str
    note: str
    at: datetime
    delivered: bool
    detail: str


@dataclass(eq=False, repr=False)
class Publication:
    project: str
    post_key: str
    status: str  # sending | published | failed
    at: datetime
    remote_id: str | None
    url: str | None
    error: str | None
    started_at: datetime | None = None


@dataclass(eq=False, repr=False)
class KpiValue:
    key: str
    day: str
    origin: str  # "manual" (cmday kpi set) or "api" (fetched snapshot)
    value: float
    at: datetime


@dataclass(eq=False, repr=False)
class ChecklistMark:
    item: str
    status: str
    note: str
    at: datetime


@dataclass(eq=False, repr=False)
class Note:
    """An internal note on a mention: shown by `show`, never sent anywhere, never in the client's report."""

    id: int
    mention_id: int
    author: str
    text: str
    at: datetime


@dataclass(eq=False, repr=False)
class Replying:
    """A team member writing an answer to a mention right now (`cmday reply` open on it)."""

    mention_id: int
    who: str
    since: datetime


@dataclass(eq=False, repr=False)
class SentReply:
    """One line of the reply log: who answered which mention, when, with which template."""

    mention_id: int
    project: str
    platform: str
    sent_by: str
    sent_at: datetime
    template: str
    remote_url: str | None
    minutes: float  # from the mention's arrival to this answer


class TrendMention(NamedTuple):
    """The fields of a mention that a trend of earlier periods needs (see `Store.trend_mentions`)."""

    created_at: datetime
    answered_at: datetime | None
    sla_due: datetime | None
    category: str
    state: str
    platform: str


MENTION_COLUMNS = (
    "id, project, source_id, platform, platform_id, kind, author_handle, author_name, author_url, text, url,"
    " created_at, fetched_at, language, category, priority, urgent, sla_due, matched, state, state_at,"
    " state_reason, snooze_until, answered_at, in_reply_to, flags, assignee"
)

DRAFT_COLUMNS = (
    "id, mention_id, text, template, idempotency_key, status, created_at, sent_at, remote_id, remote_url, error,"
    " started_at, sent_by"
)

PUBLICATION_COLUMNS = "project, post_key, status, at, remote_id, url, error, started_at"


def time_of(text: str | None) -> datetime | None:
    return from_utc_text(text) if text else None


def text_of(moment: datetime | None) -> str | None:
    return to_utc_text(moment) if moment is not None else None


def storable(text: str) -> str:
    """Network text can hold lone surrogates, which no database can store: they become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def secretless(error: str | None) -> str | None:
    """A stored error never holds a secret, whatever the exception behind it said."""
    return redact(error) if error else error


def stored_mention(row: Row) -> StoredMention:
    return StoredMention(
        id=row["id"],
        project=row["project"],
        source_id=row["source_id"],
        platform=row["platform"],
        platform_id=row["platform_id"],
        kind=row["kind"],
        author_handle=row["author_handle"],
        author_name=row["author_name"],
        author_url=row["author_url"],
        text=row["text"],
        url=row["url"],
        created_at=from_utc_text(row["created_at"]),
        fetched_at=from_utc_text(row["fetched_at"]),
        language=row["language"],
        category=row["category"],
        priority=row["priority"],
        urgent=bool(row["urgent"]),
        sla_due=time_of(row["sla_due"]),
        matched=row["matched"],
        state=row["state"],
        state_at=time_of(row["state_at"]),
        state_reason=row["state_reason"],
        snooze_until=time_of(row["snooze_until"]),
        answered_at=time_of(row["answered_at"]),
        in_reply_to=row["in_reply_to"],
        flags=tuple(flag for flag in (row["flags"] or "").split(",") if flag),
        assignee=row["assignee"],
    )


def draft_of(row: Row) -> Draft:
    return Draft(
        id=row["id"],
        mention_id=row["mention_id"],
        text=row["text"],
        template=row["template"],
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        created_at=from_utc_text(row["created_at"]),
        sent_at=time_of(row["sent_at"]),
        remote_id=row["remote_id"],
        remote_url=row["remote_url"],
        error=row["error"],
        started_at=time_of(row["started_at"]),
        sent_by=row["sent_by"],
    )


def publication_of(row: Row) -> Publication:
    return Publication(
        project=row["project"],
        post_key=row["post_key"],
        status=row["status"],
        at=from_utc_text(row["at"]),
        remote_id=row["remote_id"],
        url=row["url"],
        error=row["error"],
        started_at=time_of(row["started_at"]),
    )


def escalation_of(row: Row) -> Escalation:
    return Escalation(
        id=row["id"],
        mention_id=row["mention_id"],
        target=row["target"],
        channel=row["channel"],
        note=row["note"],
        at=from_utc_text(row["at"]),
        delivered=bool(row["delivered"]),
        detail=row["detail"],
    )
