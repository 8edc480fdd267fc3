"""UTM-tagged links: building them by the project's naming rules, reading and judging the tags a link has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

from cmday.errors import UsageError
from cmday.i18n import _

if TYPE_CHECKING:
    from cmday.models import Utm

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
REQUIRED_UTM = ("utm_source", "utm_medium", "utm_campaign")


@dataclass
class TaggedLink:
    """A link with its UTM tags, and what the naming rules changed in the values given."""

    url: str
    changes: list[tuple[str, str, str]]  # (tag, as given, as written) where the naming rules changed a value


def utm_value(value: str, rules: Utm) -> str:
    """A tag value as the naming rules want it: lowercase, dashes for spaces."""
    written = value.strip()
    if rules.lowercase:
        written = written.lower()
    if rules.no_spaces:
        written = re.sub(r"\s+", "-", written)
    return written


def build_utm(
    url: str,
    source: str,
    campaign: str,
    medium: str | None = None,
    content: str | None = None,
    term: str | None = None,
    rules: Utm | None = None,
) -> TaggedLink:
    """`url` with UTM tags, keeping its other query parameters as written, and its fragment.

    Tags the URL already has are replaced by the new ones; values follow the naming rules, and a
    campaign outside the allowed list is refused.
    """
    if rules is None:
        from cmday.models import Utm

        rules = Utm()
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            _("{url!r} is not a web address").format(url=url), hint=_("write it whole: https://acme.example/page")
        )
    wanted = {
        "utm_source": source,
        "utm_medium": medium or rules.medium,
        "utm_campaign": campaign,
        "utm_term": term,
        "utm_content": content,
    }
    tags: list[tuple[str, str]] = []
    changes: list[tuple[str, str, str]] = []
    for key in UTM_KEYS:
        given = wanted[key]
        if given is None or not given.strip():
            if key in REQUIRED_UTM:
                raise UsageError(_("{tag} cannot be empty").format(tag=key))
            continue
        written = utm_value(given, rules)
        if written != given:
            changes.append((key, given, written))
        tags.append((key, written))
    campaign_written = dict(tags)["utm_campaign"]
    if rules.campaigns and campaign_written not in [utm_value(c, rules) for c in rules.campaigns]:
        raise UsageError(
            _("campaign {campaign!r} is not among the project's campaigns: {allowed}").format(
                campaign=campaign_written, allowed=", ".join(rules.campaigns)
            ),
            hint=_("use one of them, or add it to [utm] campaigns"),
        )
    setting = {key for key, _value in tags}
    kept = [
        piece for piece in parts.query.split("&")
        if piece and unquote_plus(piece.split("=", 1)[0]).lower() not in setting
    ]
    added = [f"{key}={quote(value, safe='-._~')}" for key, value in tags]
    query = "&".join(kept + added)
    return TaggedLink(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment)), changes)


def own_domain(url: str, rules: Utm) -> bool:
    """Whether the link goes to one of the brand's sites (subdomains included)."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in rules.domains)


def utm_tags(url: str) -> dict[str, str]:
    """The link's `utm_*` tags, names lowercased."""
    return {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k.lower().startswith("utm_")}


def naming_breaks(tags: dict[str, str], rules: Utm) -> list[str]:
    """What in these UTM tags breaks the naming rules, said plainly."""
    said = []
    for key, value in tags.items():
        if rules.lowercase and value != value.lower():
            said.append(_("{tag}={value!r} has capitals").format(tag=key, value=value))
        if rules.no_spaces and re.search(r"\s", value):
            said.append(_("{tag}={value!r} has spaces").format(tag=key, value=value))
    campaign = tags.get("utm_campaign")
    if campaign and rules.campaigns and campaign not in rules.campaigns:
        said.append(_("campaign {value!r} is not among: {allowed}").format(value=campaign, allowed=", ".join(rules.campaigns)))
    return said
