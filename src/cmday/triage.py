"""Triage: give each incoming mention a category, a priority, urgency, a language and an SLA deadline."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from cmday.mention import Mention, StoredMention
from cmday.protocol import PhraseMatcher, Protocol, fold, words_of

if TYPE_CHECKING:
    from cmday.models import Project

_STOPWORDS = {
    "es": set("el la los las de del que y en un una por para con no es se lo al como pero mas muy ya me mi te tu su nos gracias hola".split()),
    "en": set("the a an of and to in is it for on with this that you your my we our not but are was be have thanks hi".split()),
}
_ANY_STOPWORD = frozenset().union(*_STOPWORDS.values())

_LETTERS = re.compile(r"[^\W\d_]+")
_DIGIT_OR_UNDERSCORE = re.compile(r"[\d_]")


def detect_language(text: str, folded: str | None = None, tokens: list[str] | None = None) -> str | None:
    """English or Spanish by their commonest words; None when the text does not say.

    `tokens`: the folded text's words (`\\w+`) when the caller has them; its runs of letters are then
    read from them, the same runs as from the whole text (a run of letters never crosses a non-word).
    """
    folded = folded if folded is not None else fold(text)
    if tokens is None:
        words = _LETTERS.findall(folded)
    elif not _DIGIT_OR_UNDERSCORE.search(folded):
        words = tokens  # without digits or _, every word is one run of letters
    else:
        words = [run for token in tokens for run in ((token,) if token.isalpha() else _LETTERS.findall(token))]
    stopwords = list(filter(_ANY_STOPWORD.__contains__, words))
    if len(stopwords) < 2:
        return None  # most mentions: too few of them to say anything
    scores = {language: sum(map(stop.__contains__, stopwords)) for language, stop in _STOPWORDS.items()}
    best = max(scores, key=scores.get)
    others = [v for k, v in scores.items() if k != best]
    return best if scores[best] >= 2 and scores[best] > max(others) else None


CATEGORISED_BY_HAND = "categorised"  # the mention's flag once the CM chose its category


class PhraseIndex:
    """The phrases of several matchers, found in a text in one pass over its words.

    Single words are one set intersection with the text's words; a longer phrase is filed under
    its first word and checked only where that word occurs. So the time grows with the text, not
    with the number of rules. `found(folded)` is the set of phrases that occur in it, the same set
    as the phrases among `runs_of_words`, and serves as the `grams` of `PhraseMatcher.search`.
    """

    def __init__(self, matchers: Iterable[PhraseMatcher]) -> None:
        phrases = {phrase for matcher in matchers for phrase in matcher.phrases}
        self.words = {phrase for phrase in phrases if " " not in phrase}
        self.by_first: dict[str, list[tuple[str, str]]] = {}  # first word -> (" the phrase ", the phrase)
        for phrase in sorted(phrases - self.words):
            self.by_first.setdefault(phrase.split(" ")[0], []).append((f" {phrase} ", phrase))

    def found(self, folded: str, tokens: list[str] | None = None) -> set[str]:
        """`tokens`: the folded text's words, when the caller has already cut it."""
        tokens = words_of(folded) if tokens is None else tokens
        present = set(tokens)
        found = self.words & present
        firsts = self.by_first.keys() & present
        if not firsts:
            return found
        # A phrase is words and single spaces: it occurs in the words joined the same way, space-bounded.
        joined = f" {' '.join(tokens)} "
        for first in firsts:
            for bounded, phrase in self.by_first[first]:
                if bounded in joined:
                    found.add(phrase)
        return found


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

    @cached_property
    def phrases(self) -> PhraseIndex:
        """Every category's words and the urgent words, looked up together once per text."""
        return PhraseIndex([*(category.matcher for category in self.protocol.categories), self.urgent_words])

    @cached_property
    def _by_name(self) -> dict:
        return {category.name: category for category in reversed(self.protocol.categories)}  # the first of a name wins

    def explain(self, text: str, kind: str = "mention", category: str | None = None) -> Explanation:
        """Which category the words choose; with `category` (the CM's choice), that one, urgency and priority as it sets them."""
        folded = fold(text)
        tokens = words_of(folded)  # once, for the words and the language
        grams = self.phrases.found(folded, tokens)
        chosen = self._by_name.get("mention") or self.protocol.categories[-1]
        matched, how = "", "default"
        for candidate in [] if category else self.protocol.categories:
            if candidate.matcher.pattern is None and candidate.matcher.phrases.isdisjoint(grams):
                continue  # nothing it could find: the search would say so, slower
            found = candidate.matcher.search(folded, grams)
            if found:
                chosen, matched = candidate, found
                how = "word" if found in candidate.matcher.phrases else "pattern"
                break
        if category:
            chosen, how = self._by_name.get(category) or chosen, "cm"
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
            language=detect_language(text, folded, tokens),
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
        category = self._by_name.get(found.category)
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
