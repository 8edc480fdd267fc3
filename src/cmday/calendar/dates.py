"""Dates and times of the calendar: reading them as people write them, daylight-saving changes, saying them back."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cmday.i18n import _, format_short_day, format_time, ngettext
from cmday.typed import read_written, read_written_clock


def parse_when(value: str) -> datetime:
    """ISO (`2026-11-25T10:00`, with or without offset) or day first (`25/11/2026 10:00`)."""
    return read_written(value)


def parse_clock(value: str) -> time:
    return read_written_clock(value)


def local_time_problem(at: datetime, zone: ZoneInfo) -> str | None:
    """`gap` when a local time does not exist that day (clocks jump forward), `ambiguous` when it happens twice."""
    if at.tzinfo is not None:
        return None
    first, second = at.replace(tzinfo=zone, fold=0), at.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)
    return "gap" if back != at.replace(fold=0) else "ambiguous"


def when_text(moment: datetime) -> str:
    """A moment as the calendar says it: short day and time, in the session's language."""
    return f"{format_short_day(moment.date())} {format_time(moment)}"


def span_text(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return _("{count} min").format(count=minutes)
    if minutes < 48 * 60:
        return _("{count} h").format(count=minutes // 60)
    return ngettext("{count} day", "{count} days", minutes // 1440).format(count=minutes // 1440)


def offset_text(moment: datetime) -> str:
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}" if text else ""


def post_instant(at: datetime, zone: ZoneInfo) -> datetime:
    """A post's instant: a time without an offset is the project's local time (the first one, when it happens twice)."""
    return at.replace(tzinfo=zone) if at.tzinfo is None else at
