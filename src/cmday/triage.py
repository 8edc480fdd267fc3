"""Triage: give each incoming mention a category, a priority, urgency and an SLA deadline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cmday.mention import Mention, StoredMention
from cmday.models import Project
from cmday.protocol import Protocol, fold, word_matcher


@dataclass
class Triage:
    protocol: Protocol
    urgent_words: re.Pattern[str] | None

    @classmethod
    def for_project(cls, project: Project, protocol: Protocol) -> Triage:
        return cls(protocol=protocol, urgent_words=word_matcher(project.listen.urgent))

    def apply(self, mention: Mention) -> Mention:
        folded = fold(mention.text)
        chosen = self.protocol.categories[-1]
        matched = ""
        for category in self.protocol.categories:
            found = category.matcher.search(folded) if category.matcher else None
            if found:
                chosen, matched = category, found.group(0)
                break
        mention.category = chosen.name
        mention.priority = chosen.rule.priority
        mention.urgent = chosen.rule.urgent
        mention.matched = matched
        urgent_hit = self.urgent_words.search(folded) if self.urgent_words else None
        if urgent_hit:
            mention.urgent = True
            mention.matched = mention.matched or urgent_hit.group(0)
        if mention.kind == "dm" and chosen.name != "spam":
            mention.priority = min(mention.priority, 3)
        mention.sla_due = mention.created_at + timedelta(minutes=chosen.rule.sla_minutes)
        return mention


@dataclass
class Crisis:
    reason: str  # "words" or "spike"
    mentions: list[StoredMention]


def detect_crisis(protocol: Protocol, open_mentions: list[StoredMention], recent: list[StoredMention], now: datetime) -> Crisis | None:
    """A crisis is open crisis-category mentions, or more complaints inside the window than the protocol allows."""
    flagged = [m for m in open_mentions if m.category == "crisis"]
    if flagged:
        return Crisis("words", flagged)
    window_start = now - timedelta(minutes=protocol.crisis.window_minutes)
    complaints = [m for m in recent if m.category == "complaint" and m.created_at >= window_start]
    if len(complaints) >= protocol.crisis.complaints:
        return Crisis("spike", complaints)
    return None
