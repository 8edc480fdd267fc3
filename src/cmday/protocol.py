"""The response protocol as data: categories with the words that recognise them, priorities and SLAs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from cmday.settings import file_model
from cmday.shipped import shipped_dir
from cmday.workspace import parse_file

if TYPE_CHECKING:  # the file models: a protocol is built from the files' records (cmday.settings), without them
    from cmday.models import CategoryRule, ConductRule, CrisisRule, EscalationRules, Template

_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lowercase without accents, so `Intoxicación` and `intoxicacion` read the same."""
    if text.isascii():
        return text.casefold()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


@dataclass
class Category:
    name: str
    rule: CategoryRule
    origins: dict[str, Path] = field(default_factory=dict)  # pattern -> the protocol file that brought it

    @cached_property
    def matcher(self) -> PhraseMatcher:
        """Built on first use: views that only read the state never pay for it."""
        return PhraseMatcher(self.rule.words, self.rule.patterns)

    def where(self, pattern: str) -> str:
        """`protocols/acme.toml: categories.complaint.patterns`: where a CM finds the pattern to fix it."""
        origin = self.origins.get(pattern)
        return f"{origin}: categories.{self.name}.patterns" if origin else f"categories.{self.name}.patterns"


@dataclass
class Protocol:
    crisis: CrisisRule
    categories: list[Category]
    templates: dict[str, Template] = field(default_factory=dict)
    conduct: list[ConductRule] = field(default_factory=list)
    escalation: EscalationRules = field(default_factory=lambda: file_model("EscalationRules")())
    values: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)

    @cached_property
    def longest_phrase(self) -> int:
        return max((c.matcher.longest for c in self.categories), default=1)

    def templates_for(self, category: str, language: str) -> dict[str, Template]:
        """Templates that fit a category, in the language asked for (or written for any language)."""
        return {
            name: t for name, t in self.templates.items() if t.category == category and t.language in (None, language)
        }

    def rules_for(self, language: str) -> list[ConductRule]:
        """One rule per id: the one in this language wins over one for any language."""
        chosen: dict[str, ConductRule] = {}
        for rule in self.conduct:
            if rule.language == language or (rule.language is None and rule.id not in chosen):
                chosen[rule.id] = rule
        return list(chosen.values())


_TOKEN = re.compile(r"\w+")
# On ASCII, \w is a letter, a digit or _: every other byte becomes a space and split cuts there (bytes.translate
# is a table lookup per byte; str.translate with a dict, twice as slow; the pattern, four times).
_ASCII_NOT_WORD = bytes(32 if code < 128 and not (chr(code).isalnum() or chr(code) == "_") else code for code in range(256))


def words_of(folded: str) -> list[str]:
    r"""The text's words, as `\w+` finds them; most mentions are ASCII, and those are cut without the pattern."""
    if folded.isascii():
        return folded.encode("ascii").translate(_ASCII_NOT_WORD).decode("ascii").split()
    return _TOKEN.findall(folded)


def phrase_key(text: str) -> str:
    """A word or phrase as matching sees it: folded words joined by single spaces (`Doesn't  WORK` -> `doesn t work`)."""
    return " ".join(words_of(fold(text)))


PATTERN_SECONDS = 0.1  # what one pattern may take on one mention before it is given up on


class PhraseMatcher:
    """Whole words and phrases, without case or accents, plus optional regular expressions.

    The text is cut into words once and its runs of up to N words are looked up in a set, so
    hundreds of rules cost about as much as one (a regex alternation would try each in turn).

    Patterns run with the `regex` engine's time limit per match: a pattern that backtracks without
    end on some text is stopped after PATTERN_SECONDS, named in `timed_out`, and left out of every
    later search by this matcher, so one mention never holds up the others.
    """

    def __init__(self, words: list[str], patterns: list[str] | tuple[str, ...] = ()) -> None:
        self.phrases = frozenset(key for key in map(phrase_key, words) if key)
        self.longest = max((key.count(" ") + 1 for key in self.phrases), default=0)
        self.patterns = list(dict.fromkeys(patterns))
        self.timed_out: list[str] = []
        self.pattern = self._compile(self.patterns)

    @staticmethod
    def _compile(patterns: list[str]):
        if not patterns:
            return None
        import regex

        return regex.compile("|".join(f"(?:{p})" for p in patterns), regex.V0)

    def __bool__(self) -> bool:
        return bool(self.phrases) or self.pattern is not None

    def _pattern_match(self, folded: str) -> str | None:
        try:
            match = self.pattern.search(folded, timeout=PATTERN_SECONDS)
            return match.group(0) if match else None
        except TimeoutError:
            pass
        # One of them is too slow on this text: find which, keep the others.
        import regex

        found: list[tuple[int, str]] = []
        for pattern in list(self.patterns):
            try:
                match = regex.compile(pattern, regex.V0).search(folded, timeout=PATTERN_SECONDS)
            except TimeoutError:
                self.timed_out.append(pattern)
                self.patterns.remove(pattern)
                continue
            if match:
                found.append((match.start(), match.group(0)))
        self.pattern = self._compile(self.patterns)
        return min(found)[1] if found else None

    def search(self, folded: str, grams: set[str] | None = None) -> str | None:
        """The earliest phrase (or pattern match) in already-folded text, or None.

        `grams` are the text's runs of words (`runs_of_words`), computed once when several
        matchers look at the same text.
        """
        if self.phrases:
            found = self.phrases.intersection(grams if grams is not None else runs_of_words(folded, self.longest))
            if found:
                return min(found, key=lambda phrase: (folded.find(phrase.split(" ")[0]), -len(phrase)))
        if self.pattern is not None:
            return self._pattern_match(folded)
        return None


def runs_of_words(folded: str, longest: int) -> set[str]:
    """Every run of 1 to `longest` consecutive words of the text, as phrase keys."""
    tokens = words_of(folded)
    runs = set(tokens)
    for size in range(2, longest + 1):
        runs.update(" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1))
    return runs


def load_protocol(extra: Path | None = None, root: Path | None = None) -> Protocol:
    """The shipped default in every language cmday speaks, extended by a project's own file.

    A project's file adds words to a category, replaces its numbers, adds templates, conduct rules,
    escalation contacts and routes, and template values. Shipped files tag their templates and
    rules with the language in their name (`default.es.toml`).
    """
    merged: dict[str, CategoryRule] = {}
    origins: dict[str, dict[str, Path]] = {}
    files = sorted(shipped_dir("protocols").glob("default.*.toml"))
    if extra is not None:
        files.append(extra)
    protocol: Protocol | None = None
    for path in files:
        loaded = parse_file(path, "ProtocolFile", root)
        language = path.stem.split(".")[-1] if path.stem.startswith("default.") else None
        if protocol is None:  # the first shipped file's crisis and escalation, defaults included, are the base
            protocol = Protocol(crisis=loaded.crisis, categories=[], escalation=loaded.escalation.model_copy(
                update={"contacts": {}, "routes": {}}))
        elif "crisis" in loaded.model_fields_set:
            protocol.crisis = loaded.crisis
        for name, rule in loaded.categories.items():
            for pattern in rule.patterns:
                origins.setdefault(name, {}).setdefault(pattern, path)
            if name in merged:
                previous = merged[name]
                given = rule.model_fields_set
                rule = previous.model_copy(
                    update={
                        **{key: getattr(rule, key) for key in ("priority", "sla_minutes", "urgent") if key in given},
                        "words": previous.words + [w for w in rule.words if w not in previous.words],
                        "patterns": previous.patterns + [p for p in rule.patterns if p not in previous.patterns],
                    }
                )
            merged[name] = rule
        for name, template in loaded.templates.items():
            if language and template.language is None:
                template = template.model_copy(update={"language": language})
            protocol.templates[name] = template
        for rule in loaded.conduct:
            if language and rule.language is None:
                rule = rule.model_copy(update={"language": language})
            protocol.conduct = [r for r in protocol.conduct if not (r.id == rule.id and r.language == rule.language)]
            protocol.conduct.append(rule)
        protocol.escalation.contacts.update(loaded.escalation.contacts)
        protocol.escalation.routes.update(loaded.escalation.routes)
        protocol.values.update(loaded.values)
        protocol.files.append(path)
    protocol.categories = [Category(name, rule, origins.get(name, {})) for name, rule in merged.items()]
    if not any(c.name == "mention" for c in protocol.categories):
        protocol.categories.append(Category("mention", file_model("CategoryRule")()))  # rare: the shipped files give it
    unknown = {t.category for t in protocol.templates.values()} - set(merged) - {"mention"}
    if unknown:
        from cmday.errors import ConfigError
        from cmday.i18n import _

        raise ConfigError(
            _("{file}: templates name unknown categories: {names}").format(file=files[-1], names=", ".join(sorted(unknown))),
            hint=_("categories: {names}").format(names=", ".join(merged)),
        )
    return protocol
