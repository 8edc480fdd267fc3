"""Conduct checks: what a draft reply or post must respect before it goes out (the protocol's rules)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from cmday.i18n import _
from cmday.protocol import PhraseMatcher, Protocol, fold
from cmday.sources import PLATFORMS, count_words, text_rules

if TYPE_CHECKING:
    from cmday.models import ConductRule, Project

# Characters a post may hold: the registry's for the platforms cmday has sources for (Mastodon's is the
# instance default: the adapter's `text_limit` asks the instance when online), these for those a calendar
# plans by hand.
PLANNED_ONLY_LIMITS = {"x": 280, "tiktok": 2200, "linkedin": 3000}
PLATFORM_LIMITS = {name: p.text.limit for name, p in PLATFORMS.items() if p.text.limit} | PLANNED_ONLY_LIMITS
_LINK = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass
class Finding:
    rule: str
    severity: str  # error | warning
    message: str


def text_limit(platform: str) -> int | None:
    return PLATFORM_LIMITS.get(platform)


def taboo_hits(text: str, project: Project) -> list[str]:
    """The project's taboo topics a text touches, matched as whole words without case or accents."""
    folded = fold(text)
    return [topic for topic in project.knowledge.taboo_topics if PhraseMatcher([topic]).search(folded)]


def lint(
    text: str,
    *,
    protocol: Protocol,
    project: Project,
    language: str,
    kind: str = "reply",
    category: str | None = None,
    platform: str | None = None,
    limit: int | None = None,
    author: str = "",
    replies_to_author_today: int = 0,
    media: Sequence[str] = (),
    media_alt: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every rule of the protocol that applies to this draft, in the project's language; errors first.

    `media` are the draft's files and `media_alt` their alt text by path, as a calendar post holds them.
    """
    findings: list[Finding] = []
    folded = fold(text)
    missing_alt = [path for path in media if not (media_alt or {}).get(path, "").strip()]
    alt_rule = alt_text_rule(protocol, language, kind)
    if missing_alt and alt_rule is not None:
        findings.append(Finding(alt_rule.id, alt_rule.severity, alt_rule.message.format(file=", ".join(missing_alt))))
    for rule in protocol.rules_for(language):
        if rule.applies_to not in ("any", kind) or rule.check == "alt_text":
            continue
        if rule.when and category not in rule.when:
            continue
        message = _check(rule, text, folded, project, platform, limit, author, replies_to_author_today)
        if message is not None:
            findings.append(Finding(rule.id, rule.severity, message))
    return sorted(findings, key=lambda f: f.severity != "error")


def alt_text_rule(protocol: Protocol, language: str, kind: str = "post") -> ConductRule | None:
    """The rule that judges a file without alt text: the strictest `alt_text` rule, so a project's error beats the default warning."""
    rules = [r for r in protocol.rules_for(language) if r.check == "alt_text" and r.applies_to in ("any", kind)]
    return min(rules, key=lambda r: r.severity != "error", default=None)


def _check(
    rule: ConductRule, text: str, folded: str, project: Project, platform: str | None, limit: int | None,
    author: str, replies_today: int,
) -> str | None:
    if rule.check == "require_words":
        matcher = PhraseMatcher(rule.words)
        return rule.message if matcher and not matcher.search(folded) else None
    if rule.check == "forbid_words":
        found = PhraseMatcher(rule.words).search(folded)
        return f"{rule.message} ({found})" if found else None
    if rule.check == "shouting":
        letters = [c for c in text if c.isalpha()]
        capitals = sum(1 for c in letters if c.isupper())
        shouting = len(letters) >= 12 and capitals / len(letters) > 0.6
        return rule.message if shouting or re.search(r"[!¡]{3,}", text) else None
    if rule.check == "taboo":
        hits = taboo_hits(text, project)
        return rule.message.format(topic=", ".join(hits)) if hits else None
    if rule.check == "length":
        if platform is None:
            return None
        over = text_rules(platform).overrun(text, limit or text_limit(platform))
        if over is None:
            return None
        length, allowed, unit = over
        if unit == "bytes":  # "7500 bytes of 3000 bytes": the count the platform refuses is not the one it is known for
            return rule.message.format(platform=platform, length=count_words(length, unit), limit=count_words(allowed, unit))
        return rule.message.format(platform=platform, length=length, limit=allowed)
    if rule.check == "utm":
        domains = [d.lower() for d in getattr(getattr(project, "utm", None), "domains", [])]
        for link in _LINK.findall(text):
            host = (urlsplit(link).hostname or "").lower()
            own = any(host == d or host.endswith("." + d) for d in domains)
            if own and not any(key.startswith("utm_") for key in parse_qs(urlsplit(link).query)):
                return rule.message.format(link=link)
        return None
    if rule.check == "saturation":
        return rule.message.format(count=replies_today, author=author) if replies_today >= rule.max_per_day else None
    raise ValueError(rule.check)


def placeholder_findings(text: str, known: list[str]) -> list[Finding]:
    """Placeholders left in a draft: a known one is filled when replying (a warning), any other has no value (an error)."""
    import string

    try:
        names = sorted({name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name})
    except ValueError:
        return [Finding("placeholder", "error", _("a brace opens no placeholder; a literal brace is written twice: {{ or }}"))]
    findings = []
    unknown = [n for n in names if n not in known]
    filled = [n for n in names if n in known]
    if unknown:
        findings.append(Finding("placeholder", "error", _("no value for {placeholders}: it would be sent as written").format(
            placeholders=", ".join("{" + n + "}" for n in unknown))))
    if filled:
        findings.append(Finding("placeholder", "warning", _("unfilled {placeholders}: filled in when it is sent as a reply").format(
            placeholders=", ".join("{" + n + "}" for n in filled))))
    return findings
