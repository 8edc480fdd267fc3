"""The words people read for the data's own keys (categories, states, routines, contacts); --json keeps the keys."""

from __future__ import annotations

from collections.abc import Callable

from cmday.i18n import _, pgettext
from cmday.textsafe import one_line

# Callables, not strings: each is translated when shown, in the language active then.
CATEGORY_LABELS: dict[str, Callable[[], str]] = {
    "crisis": lambda: _("crisis"),
    "complaint": lambda: _("complaint"),
    "question": lambda: _("question"),
    "request": lambda: _("request"),
    "praise": lambda: _("praise"),
    "mention": lambda: _("mention"),
    "spam": lambda: _("spam"),
}

STATE_LABELS: dict[str, Callable[[], str]] = {
    # a mention's state in the inbox
    "new": lambda: pgettext("mention state", "new"),
    "open": lambda: pgettext("mention state", "open"),
    "answered": lambda: pgettext("mention state", "answered"),
    "escalated": lambda: pgettext("mention state", "escalated"),
    "snoozed": lambda: pgettext("mention state", "snoozed"),
    "ignored": lambda: pgettext("mention state", "ignored"),
    "all": lambda: pgettext("mention state", "all"),
    # a post's status in the calendar
    "idea": lambda: pgettext("post status", "idea"),
    "draft": lambda: pgettext("post status", "draft"),
    "ready": lambda: pgettext("post status", "ready"),
    "scheduled": lambda: pgettext("post status", "scheduled"),
    "published": lambda: pgettext("post status", "published"),
    # where a source's secret comes from
    "missing": lambda: pgettext("secret", "missing"),
}

# an inbox listing's heading: "Café Aroma · open (11)"
STATE_HEADINGS: dict[str, Callable[[], str]] = {
    "open": lambda: pgettext("inbox heading", "open"),
    "answered": lambda: pgettext("inbox heading", "answered"),
    "escalated": lambda: pgettext("inbox heading", "escalated"),
    "snoozed": lambda: pgettext("inbox heading", "snoozed"),
    "ignored": lambda: pgettext("inbox heading", "ignored"),
    "all": lambda: pgettext("inbox heading", "all"),
}

ROUTINE_LABELS: dict[str, Callable[[], str]] = {
    "morning": lambda: _("start of day"),
    "check": lambda: _("check"),
    "close": lambda: _("close"),
}

CONTACT_ROLES: dict[str, Callable[[], str]] = {
    "client": lambda: _("the client"),
    "team": lambda: _("the team"),
}


def _label(labels: dict[str, Callable[[], str]], key: str) -> str:
    label = labels.get(key)
    return label() if label else one_line(key)


def category_label(name: str) -> str:
    """Shipped categories in the user's language; a project's own categories as the protocol names them."""
    return _label(CATEGORY_LABELS, name)


def state_label(name: str) -> str:
    """A mention's state or a post's status in the user's language: "respondida", "lista"."""
    return _label(STATE_LABELS, name)


def state_heading(name: str) -> str:
    """The heading of an inbox listing of one state, in the plural where the language needs it: "abiertas"."""
    return _label(STATE_HEADINGS, name)


def routine_label(name: str) -> str:
    """The routine's three moments in the user's language ("inicio del día"); a workspace's own checklists as named."""
    return _label(ROUTINE_LABELS, name)


def contact_label(key: str, name: str = "") -> str:
    """Whom an escalation goes to, as they read it: the contact's name, else its role ("the client")."""
    return one_line(name) if name.strip() else _label(CONTACT_ROLES, key)
