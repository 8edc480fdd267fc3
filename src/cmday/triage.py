"""Triage: give each incoming mention a category, a priority, urgency, a language and an SLA deadline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cmday.mention import Mention, StoredMention
from cmday.models import Project
from cmday.protocol import PhraseMatcher, Protocol, fold, runs_of_words

_STOPWORDS = {
    "es": set("el la los las de del que y en un una por para con no es se lo al como pero mas muy ya me mi te tu su nos gracias hola".split()),
    "en": set("the a an of and to in is it for on with this that you your my we our not but are was be have thanks hi".split()),
}


def detect_language(text: str, folded: str | None = None) -> str | None:
    """English or Spanish by their commonest words; None when the text does not say."""
    words = re.findall(r"[^\W\d_]+", folded if folded is not None else fold(text))
    scores = {language: sum(1 for w in words if w in stop) for language, stop in _STOPWORDS.items()}
    best = max(scores, key=scores.get)
    others = [v for k, v in scores.items() if k != best]
    return best if scores[best] >= 2 and scores[best] > max(others) else None


CATEGORISED_BY_HAND = "categorised"  # the mention's flag once the CM chose its category


@dataclass
class Explanation:
    """Why triage put a mention where it did: `cmday triage --explain`."""

    category: str
    rule: str  # "word", "pattern", "default" or "cm" (chosen by the CM)
    matched: str
    urgent_word: str
    priority: int
    sla_minutes: int
    language: str | None


@dataclass
class Triage:
    protocol: Protocol
    urgent_words: PhraseMatcher
    project_language: str | None = None

    @classmethod
    def for_project(cls, project: Project, protocol: Protocol) -> Triage:
        return cls(protocol=protocol, urgent_words=PhraseMatcher(project.listen.urgent), project_language=project.project.language)

    def explain(self, text: str, kind: str = "mention", category: str | None = None) -> Explanation:
        """Which category the words choose; with `category` (the CM's choice), that one, urgency and priority as it sets them."""
        folded = fold(text)
        grams = runs_of_words(folded, max(self.protocol.longest_phrase, self.urgent_words.longest))
        chosen = self.protocol.category("mention") or self.protocol.categories[-1]
        matched, how = "", "default"
        for candidate in [] if category else self.protocol.categories:
            found = candidate.matcher.search(folded, grams)
            if found:
                chosen, matched = candidate, found
                how = "word" if found in candidate.matcher.phrases else "pattern"
                break
        if category:
            chosen, how = self.protocol.category(category) or chosen, "cm"
        urgent_hit = self.urgent_words.search(folded, grams)
        priority = chosen.rule.priority
        if kind in ("dm", "email") and chosen.name != "spam":
            priority = min(priority, 3)  # a direct message or an email is someone waiting for us
        return Explanation(
            category=chosen.name,
            rule=how,
            matched=matched,
            urgent_word=urgent_hit or "",
            priority=priority,
            sla_minutes=chosen.rule.sla_minutes,
            language=detect_language(text, folded),
        )

    def slow_patterns(self) -> list[str]:
        """Patterns that ran out of time since the last call, each with the file and key it is under."""
        said = []
        for category in self.protocol.categories:
            if "matcher" not in category.__dict__:
                continue  # never built: never ran
            while category.matcher.timed_out:
                pattern = category.matcher.timed_out.pop(0)
                said.append(f"{category.where(pattern)}: {pattern!r}")
        return said

    def apply(self, mention: Mention, category: str | None = None) -> Mention:
        found = self.explain(mention.text, mention.kind, category)
        category = self.protocol.category(found.category)
        mention.category = found.category
        mention.priority = found.priority
        mention.urgent = bool(category and category.rule.urgent) or bool(found.urgent_word)
        mention.matched = found.matched or found.urgent_word
        mention.language = mention.language or found.language or self.project_language
        mention.sla_due = mention.created_at + timedelta(minutes=found.sla_minutes)
        return mention

    def reclassify(self, mentions: list[StoredMention]) -> list[tuple[int, str, int, bool, datetime | None, str]]:
        """New triage for stored mentions (after the protocol changed), as rows for Store.reclassify.

        A category the CM set by hand (`cmday work`'s re-categorise) stays: the words do not overrule a person.
        """
        changes = []
        for stored in mentions:
            if CATEGORISED_BY_HAND in stored.flags:
                continue
            fresh = self.apply(Mention(stored.platform, stored.platform_id, stored.kind, stored.text, stored.created_at))
            if (fresh.category, fresh.priority, fresh.urgent, fresh.sla_due) != (
                stored.category, stored.priority, stored.urgent, stored.sla_due,
            ):
                changes.append((stored.id, fresh.category, fresh.priority, fresh.urgent, fresh.sla_due, fresh.matched))
        return changes

    def chosen_by_hand(self, stored: StoredMention, category: str) -> tuple[int, str, int, bool, datetime | None, str]:
        """The row for Store.categorise_by_hand: the CM's category, with the priority, urgency and deadline it brings."""
        fresh = self.apply(Mention(stored.platform, stored.platform_id, stored.kind, stored.text, stored.created_at), category)
        return (stored.id, fresh.category, fresh.priority, fresh.urgent, fresh.sla_due, fresh.matched)


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
