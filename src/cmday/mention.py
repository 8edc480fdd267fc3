"""A mention: anything that came in, as adapters hand it over and as the inbox keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = ("mention", "reply", "quote", "dm", "search", "alert", "import", "email")
STATES = ("open", "answered", "escalated", "snoozed", "ignored", "linked")
# `linked`: the same post already came in by another route (a notification and a search hit).
FLAGS = ("no-date", "no-author", "filtered", "hidden")
# no-date: the platform sent no readable time (the time it was fetched stands in); no-author: no readable
# author; filtered: the platform's own filter held it back (Mastodon's notification policy for strangers);
# hidden: the brand hid it on the platform (Instagram, Facebook): shown as hidden, never dropped.
INCOMPLETE = ("no-date", "no-author")


@dataclass
class Mention:
    """One incoming item, normalised from a platform's own shape. Adapters build these."""

    platform: str
    platform_id: str
    kind: str
    text: str
    created_at: datetime
    author_handle: str = ""
    author_name: str = ""
    author_url: str = ""
    url: str = ""
    language: str | None = None
    in_reply_to: str | None = None
    raw: dict[str, Any] | None = None
    # What the inbox should know about how it came: see FLAGS.
    flags: list[str] = field(default_factory=list)
    # Filled by triage before the mention is stored.
    category: str = "mention"
    priority: int = 5
    urgent: bool = False
    sla_due: datetime | None = None
    matched: str = ""


@dataclass
class StoredMention:
    """A mention in the inbox, with its life as an interaction."""

    id: int
    project: str
    source_id: str
    platform: str
    platform_id: str
    kind: str
    author_handle: str
    author_name: str
    author_url: str
    text: str
    url: str
    created_at: datetime
    fetched_at: datetime
    language: str | None
    category: str
    priority: int
    urgent: bool
    sla_due: datetime | None
    matched: str
    state: str
    state_at: datetime | None
    state_reason: str
    snooze_until: datetime | None
    answered_at: datetime | None
    in_reply_to: str | None = None
    flags: tuple[str, ...] = ()
    assignee: str | None = None  # the team member's handle, in a team sharing the state

    def age_minutes(self, now: datetime) -> int:
        return max(int((now - self.created_at).total_seconds() // 60), 0)

    def past_sla(self, now: datetime) -> bool:
        return self.sla_due is not None and now > self.sla_due and self.state == "open"
