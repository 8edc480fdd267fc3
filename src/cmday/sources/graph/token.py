"""The access token's life as Meta tells it (`/debug_token`): when it ends, when its data access ends, what it may do.

What Meta said is kept in the source's cursor (`{"token": {...}}`), so `cmday sources` and the dashboards
say it without the network, and asked at most once a day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from cmday.errors import CmdayError
from cmday.i18n import _, ngettext
from cmday.sources.base import cursor_fields

EXPIRY_WARNING = timedelta(days=7)  # a token ending within a week is said at every fetch, in `sources` and the dashboards
ASK_AGAIN = timedelta(hours=20)  # a morning's fetch asks again; the check every two hours reads the cursor
NEEDED_SCOPES = {
    "instagram": ("instagram_basic", "instagram_manage_comments"),
    "facebook": ("pages_read_engagement", "pages_manage_engagement"),
}


def _moment(value: Any) -> datetime | None:
    """A Unix time from debug_token; 0 means "never" (a Page token while its user keeps the role)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _day(value: date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


async def checked_token(graph: Any, platform: str, kept: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """What Meta says of the token, as kept in the cursor: asked again once ASK_AGAIN has passed.

    A token Meta will not describe (an app that does not let it ask) is not an error for the fetch: the last
    answer kept, or none, stands, and `token_expires` in the source still says when it ends.
    """
    checked = datetime.fromisoformat(kept["checked"]) if isinstance(kept, dict) and isinstance(kept.get("checked"), str) else None
    if checked is not None and now - checked < ASK_AGAIN:
        return kept
    try:
        answer = await graph.call("GET", "/debug_token", {"input_token": graph.token()}, "")
    except CmdayError:
        return kept
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        return kept
    scopes = [s for s in data.get("scopes") or [] if isinstance(s, str)]
    expires, data_access = _moment(data.get("expires_at")), _moment(data.get("data_access_expires_at"))
    return {
        "checked": now.isoformat(),
        "valid": data.get("is_valid") is not False,
        "expires": expires.isoformat() if expires else None,
        "data_access_expires": data_access.isoformat() if data_access else None,
        "missing": [scope for scope in NEEDED_SCOPES.get(platform, ()) if scopes and scope not in scopes],
    }


def token_notes(label: str, configured: date | None, kept: dict[str, Any] | None, now: datetime) -> list[str]:
    """What the CM must do about the token, if anything: days before it ends (the earliest date known), or what it lacks."""
    kept = kept if isinstance(kept, dict) else {}
    ends = [(moment, "token") for moment in (_day(configured), _iso(kept.get("expires"))) if moment]
    ends += [(moment, "data") for moment in [_iso(kept.get("data_access_expires"))] if moment]
    notes = []
    if kept.get("valid") is False:
        notes.append(_("{source}: Meta says its access token no longer works: log in again").format(source=label))
    elif ends:
        moment, what = min(ends)
        notes.extend(note for note in [_ending(label, moment, what, now)] if note)
    missing = [scope for scope in kept.get("missing") or [] if isinstance(scope, str)]
    if missing:
        notes.append(_("{source}: the token lacks the permission {permission}: add it to the Meta app's token and make "
                       "the token again (README: Instagram and Facebook)").format(source=label, permission=", ".join(missing)))
    return notes


def cursor_token(cursor: str | None) -> dict[str, Any] | None:
    kept = cursor_fields(cursor).get("token")
    return kept if isinstance(kept, dict) else None


def source_token_notes(source: Any, cursor: str | None, now: datetime) -> list[str]:
    """For views that read the state (`sources`, the dashboards): the same notes a fetch gives."""
    return token_notes(source.id, getattr(source, "token_expires", None), cursor_token(cursor), now)


def _iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _ending(label: str, moment: datetime, what: str, now: datetime) -> str | None:
    left = moment - now
    if left > EXPIRY_WARNING:
        return None
    day = moment.date().isoformat()
    if left <= timedelta(0):
        if what == "data":
            return _("{source}: Meta stopped giving data to its access token on {day}: log in again").format(source=label, day=day)
        return _("{source}: its access token expired on {day}: log in again").format(source=label, day=day)
    days = left.days
    if what == "data":
        return ngettext(
            "{source}: Meta stops giving data to its access token in {count} day ({day}): log in to the Meta app "
            "again (Graph API Explorer, \"Get User Access Token\") before then",
            "{source}: Meta stops giving data to its access token in {count} days ({day}): log in to the Meta app "
            "again (Graph API Explorer, \"Get User Access Token\") before then",
            days,
        ).format(source=label, count=days, day=day)
    return ngettext(
        "{source}: its access token stops working in {count} day ({day}): make a new one before then "
        "(README: Instagram and Facebook, step 4)",
        "{source}: its access token stops working in {count} days ({day}): make a new one before then "
        "(README: Instagram and Facebook, step 4)",
        days,
    ).format(source=label, count=days, day=day)
