"""The response protocol as data: categories with the words that recognise them, priorities and SLAs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field

from cmday.models import Strict
from cmday.shipped import shipped_dir
from cmday.workspace import parse_file


class CategoryRule(Strict):
    priority: Annotated[int, Field(ge=1, le=9)] = 5
    sla_minutes: Annotated[int, Field(gt=0)] = 480
    urgent: bool = False
    words: list[str] = []
    patterns: list[str] = []


class CrisisRule(Strict):
    window_minutes: Annotated[int, Field(gt=0)] = 120
    complaints: Annotated[int, Field(gt=0)] = 5


class ProtocolFile(Strict):
    crisis: CrisisRule = CrisisRule()
    categories: dict[str, CategoryRule] = {}


def fold(text: str) -> str:
    """Lowercase without accents, so `Intoxicación` and `intoxicacion` read the same."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass
class Category:
    name: str
    rule: CategoryRule

    @cached_property
    def matcher(self) -> re.Pattern[str] | None:
        """Compiled on first use: views that only read the state never pay for it."""
        return word_matcher(self.rule.words, self.rule.patterns)


@dataclass
class Protocol:
    crisis: CrisisRule
    categories: list[Category]

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)


def word_matcher(words: list[str], patterns: list[str] = ()) -> re.Pattern[str] | None:
    """One compiled regex for a list of words (whole words, folded) and raw patterns."""
    alternatives = [r"(?<!\w)" + re.escape(fold(w)) + r"(?!\w)" for w in words if w.strip()]
    alternatives += list(patterns)
    return re.compile("|".join(alternatives)) if alternatives else None


def load_protocol(extra: Path | None = None, root: Path | None = None) -> Protocol:
    """The shipped default in every language cmday speaks, extended by a project's own file."""
    merged: dict[str, CategoryRule] = {}
    crisis = CrisisRule()
    files = sorted(shipped_dir("protocols").glob("default.*.toml"))
    if extra is not None:
        files.append(extra)
    for path in files:
        loaded = parse_file(path, ProtocolFile, root)
        if "crisis" in loaded.model_fields_set:
            crisis = loaded.crisis
        for name, rule in loaded.categories.items():
            if name in merged:
                previous = merged[name]
                rule = rule.model_copy(
                    update={
                        "words": previous.words + [w for w in rule.words if w not in previous.words],
                        "patterns": previous.patterns + [p for p in rule.patterns if p not in previous.patterns],
                    }
                )
            merged[name] = rule
    categories = [Category(name, rule) for name, rule in merged.items()]
    if not any(c.name == "mention" for c in categories):
        categories.append(Category("mention", CategoryRule()))
    return Protocol(crisis=crisis, categories=categories)
