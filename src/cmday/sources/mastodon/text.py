"""Text as Mastodon holds it: status HTML read as plain text, and the text a reply or post sends."""

from __future__ import annotations

import re

# --- Status HTML as plain text -------------------------------------------------------------------


def html_to_text(content: str) -> str:
    """A status's HTML as the plain text people read: line breaks kept, links in full, no markup."""
    from cmday.sources.mastodon.markup import html_to_text as plain  # the HTML parser only when a status is read

    return plain(content)


def _acct_of(handle: str, instance_host: str) -> str:
    """`@user@host` as stored back to the acct Mastodon writes: without the domain when it is this instance."""
    acct = handle.lstrip("@")
    user, _at, domain = acct.partition("@")
    return user if domain and domain.casefold() == instance_host.casefold() else acct


def _comparable(text: str) -> str:
    return " ".join(text.split()).casefold()



def addressed(text: str, acct: str, instance_host: str) -> str:
    """The text with `@acct ` in front unless it already mentions that account.

    A local account (`acct` without a domain) may be written `@user` or `@user@instance`; a remote one
    only in full, since `@user` alone would be someone else on this instance.
    """
    user, _at, domain = acct.partition("@")
    if domain:
        pattern = "@" + re.escape(user) + "@" + re.escape(domain)
    else:
        pattern = "@" + re.escape(user) + (f"(?:@{re.escape(instance_host)})?" if instance_host else "")
    if re.search(r"(?<![\w@/])" + pattern + r"(?![\w@]|[.-]\w)", text, re.IGNORECASE):
        return text
    return f"@{acct} {text}"


def with_link(text: str, link: str | None) -> str:
    """The text and the link a paragraph apart, as the calendar counts its length; nothing added when it is there."""
    if not link or link in text:
        return text
    return f"{text}\n\n{link}" if text else link


