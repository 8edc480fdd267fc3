"""What a CM types, read one way everywhere: numbers in the session's language, dates and times, names with a suggestion."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from cmday.errors import UsageError
from cmday.i18n import _, active_language

# -- numbers ----------------------------------------------------------------------------------------

_LANGUAGE_NAMES = {"en": lambda: _("English"), "es": lambda: _("Spanish")}


def read_number(text: str, language: str | None = None, what: str | None = None) -> Decimal:
    """A number as people write it in `language` (the session's by default).

    Spanish: `12.840` is 12840 and `12,5` is 12.5; English: `12,840` is 12840 and `12.5` is 12.5.
    A decimal separator followed by exactly three digits (`12,840` in Spanish, `12.840` in English)
    could be either reading, so it is refused with both spelled out; so is anything that is not
    written in the language's way (`12.5` in Spanish), with the nearest reading suggested.
    """
    from babel.numbers import NumberFormatError, get_decimal_symbol, get_group_symbol, parse_decimal

    language = language or active_language()
    said = what or repr(text)
    written = text.strip().replace("\u00a0", "").replace("\u202f", "")
    decimal, group = get_decimal_symbol(language), get_group_symbol(language)
    if not re.fullmatch(r"[+-]?[\d.,]+", written) or not re.search(r"\d", written):
        raise UsageError(_("{value} is not a number").format(value=said), hint=_example(language))
    if re.fullmatch(r"[+-]?[1-9]\d{0,2}" + re.escape(decimal) + r"\d{3}", written):
        whole, fraction = written.split(decimal)
        as_decimal = Decimal(f"{whole}.{fraction}").normalize()
        as_thousands = Decimal(whole + fraction)
        raise UsageError(
            _("{value} could be read two ways: {as_decimal} (with decimals) or {plain} (in thousands)").format(
                value=said, as_decimal=_shown(as_decimal, language), plain=str(as_thousands)
            ),
            hint=_("in {language} it would be read as {as_decimal}; to mean {plain}, type {plain} or {grouped}").format(
                language=_LANGUAGE_NAMES[language](),
                as_decimal=_shown(as_decimal, language),
                plain=str(as_thousands),
                grouped=_shown(as_thousands, language),
            ),
        )
    try:
        return parse_decimal(written, locale=language, strict=True)
    except NumberFormatError as error:
        # most often it is the other language's way of writing it: suggest the same number written in this one
        suggestions = []
        for other in _LANGUAGE_NAMES:
            try:
                suggestions.append(_shown(parse_decimal(written, locale=other, strict=True), language))
            except NumberFormatError:
                pass
        offered = getattr(error, "suggestions", None) or []
        suggestions += [s for s in offered if decimal in s] or list(offered)
        hint = (
            _("in {language} the decimal separator is {decimal!r} and {group!r} groups thousands: did you mean {suggestion}?").format(
                language=_LANGUAGE_NAMES[language](), decimal=decimal, group=group, suggestion=suggestions[0]
            )
            if suggestions
            else _example(language)
        )
        raise UsageError(_("{value} is not a number as written in {language}").format(value=said, language=_LANGUAGE_NAMES[language]()), hint=hint) from None


def _shown(number: Decimal, language: str, grouped: bool = True) -> str:
    from babel.numbers import format_decimal

    return format_decimal(number, format="#,##0.###" if grouped else "0.###", locale=language)


def _example(language: str) -> str:
    return _("write it as {thousands} or {decimal}").format(
        thousands=_shown(Decimal(12840), language), decimal=_shown(Decimal("12.5"), language)
    )


# -- dates and times --------------------------------------------------------------------------------

_SPAN = re.compile(r"(\d+)\s*(m|min|h|d|w|sem)", re.IGNORECASE)
# A span as people say it: "in 2h" / "en 2h" / "dentro de 2h" ahead, "2h ago" / "hace 2h" back
_AHEAD = re.compile(r"(?:in|en|dentro de) (.+)")
_BACK = re.compile(r"hace (.+)|(.+?) ago")
_CLOCK = re.compile(r"(\d{1,2})[:.h](\d{2})")
# Day first, as Spanish and most of the world write it; `-` and `.` as in sheets (25-11-2026, 25.11.2026).
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T,]+(.+))?")
_WRITTEN_CLOCK = re.compile(r"(\d{1,2})[:.h](\d{2})(?:[:.](\d{2}))?")  # a sheet's 10:00:00 too
_DAY_WORDS = {
    "today": 0, "hoy": 0,
    "tomorrow": 1, "mañana": 1, "manana": 1,
    "yesterday": -1, "ayer": -1,
}  # fmt: skip


@dataclass
class Moment:
    """An instant read from what was typed, and what to say back when the reading was a choice (`23:00` is tomorrow)."""

    at: datetime
    said_back: str | None = None


def read_moment(text: str, option: str, now: datetime, zone: ZoneInfo, future: bool = False) -> Moment:
    """`_read_moment`, refusing what lies too far away to be meant (`3000000d`, year 1): it could not even be stored."""
    try:
        moment = _read_moment(text, option, now, zone, future)
        moment.at.astimezone(ZoneInfo("UTC"))
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not 1900 <= moment.at.year <= 2999:
        raise _not_a_moment(option, " ".join(text.strip().split()), future, _("too far from today"))
    return moment


def _read_moment(text: str, option: str, now: datetime, zone: ZoneInfo, future: bool = False) -> Moment:
    """A date or time as typed for `option`: ISO (`2026-11-25`, `2026-11-25T10:00`), `25/11/2026`,
    `25/11/2026 10:00`, `10:00`, a span (`90m`, `2h`, `3d`, `1w`; `in 2h` / `en 2h` ahead, `2h ago` / `hace 2h`
    back) or `tomorrow 9:00` / `mañana 9:00`.

    Times without an offset are in `zone`. A span counts back from now, or forward when `future`
    (`--until`, `--at`); a bare time is today's, or the next one (`future`) / the last one (else),
    said back when that moves it to another day.
    """
    typed = " ".join(text.strip().split())
    folded = typed.lower()
    local_now = now.astimezone(zone)
    span_said, direction = folded, None
    if said := _AHEAD.fullmatch(folded):
        span_said, direction = said[1], True
    elif said := _BACK.fullmatch(folded):
        span_said, direction = said[1] or said[2], False
    span = _SPAN.fullmatch(span_said)
    if span and direction in (None, future):  # "in 2h" for --since is no moment it could mean
        amount, unit = int(span[1]), span[2].lower()
        delta = {"m": timedelta(minutes=amount), "min": timedelta(minutes=amount), "h": timedelta(hours=amount),
                 "d": timedelta(days=amount), "w": timedelta(weeks=amount), "sem": timedelta(weeks=amount)}[unit]
        return Moment(now + delta if future else now - delta)
    words = folded.split(" ", 1)
    if words[0] in _DAY_WORDS:
        day = local_now.date() + timedelta(days=_DAY_WORDS[words[0]])
        if len(words) == 1 and future:  # "tomorrow" alone: at what time? midnight is never what was meant
            raise _not_a_moment(option, typed, future, _("say the time too, such as tomorrow 9:00"))
        clock = _read_clock(words[1], option, typed, future) if len(words) > 1 else time(0)
        return Moment(_local(day, clock, zone))
    if _CLOCK.fullmatch(folded):
        clock = _read_clock(folded, option, typed, future)
        at = _local(local_now.date(), clock, zone)
        if future and at <= now:
            at = _local(local_now.date() + timedelta(days=1), clock, zone)
            return Moment(at, _("{option} {value}: that time has passed today, so tomorrow {day} at {time}").format(
                option=option, value=typed, day=at.date().isoformat(), time=f"{clock:%H:%M}"))
        if not future and at > now:
            at = _local(local_now.date() - timedelta(days=1), clock, zone)
            return Moment(at, _("{option} {value}: that time has not come yet today, so yesterday {day} at {time}").format(
                option=option, value=typed, day=at.date().isoformat(), time=f"{clock:%H:%M}"))
        return Moment(at)
    found = _DMY.fullmatch(typed)
    if found and found[4] and not _WRITTEN_CLOCK.fullmatch(found[4].strip().lower()):
        raise _not_a_moment(option, typed, future)
    try:
        moment = read_written(typed)
    except ValueError:
        why = _("there is no such day (day/month/year)") if found else None
        raise _not_a_moment(option, typed, future, why) from None
    if moment.tzinfo is None:
        return Moment(_local(moment.date(), moment.time(), zone))
    return Moment(moment)


def read_written(text: str) -> datetime:
    """A date and time as a person or a sheet writes it, without a zone unless it says one: ISO
    (`2026-11-25T10:00`, `2026-11-25 10:00:00+01:00`) or day first (`25/11/2026`, `25/11/26 10:00`,
    `25-11-2026 10:00:00`). One reader for calendar cells, import rows and the command line.
    Raises ValueError with a message that says what was expected."""
    typed = " ".join(str(text).strip().split())
    found = _DMY.fullmatch(typed)
    if found:
        year = int(found[3]) + (2000 if len(found[3]) == 2 else 0)
        try:
            day = date(year, int(found[2]), int(found[1]))
        except ValueError:
            raise ValueError(_("{value!r} is not a date (day/month/year)").format(value=typed)) from None
        return datetime.combine(day, read_written_clock(found[4])) if found[4] else datetime.combine(day, time(0))
    try:
        return datetime.fromisoformat(typed)
    except ValueError:
        raise ValueError(_("{value!r} is not a date and time: write 2026-11-25T10:00 or 25/11/2026 10:00").format(value=typed)) from None


def is_day_first(text: str) -> bool:
    """Whether a written date puts the day first (25/11/2026), as the sheet it came from will be written back."""
    return bool(_DMY.fullmatch(" ".join(str(text).strip().split())))


def read_written_clock(text: str) -> time:
    """A time of day as written: `10:00`, `10.00`, `10h00`, `10:00:00`."""
    found = _WRITTEN_CLOCK.fullmatch(text.strip().lower())
    try:
        if found:
            return time(int(found[1]), int(found[2]), int(found[3] or 0))
    except ValueError:
        pass
    raise ValueError(_("{value!r} is not a time of day such as 10:00").format(value=text.strip()))


def read_day(text: str, option: str, today: date) -> date:
    """A day as typed for `option`: `2026-11-20`, `20/11/2026`, `today`/`hoy`, `yesterday`/`ayer`, `3d` (that many days ago)."""
    typed = " ".join(text.strip().split())
    folded = typed.lower()
    if folded in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[folded])
    span = re.fullmatch(r"(\d{1,6})\s*d", folded)
    if span:
        try:
            return today - timedelta(days=int(span[1]))
        except OverflowError:
            pass
    found = _DMY.fullmatch(typed)
    try:
        if found and not found[4]:
            return date(int(found[3]) + (2000 if len(found[3]) == 2 else 0), int(found[2]), int(found[1]))
        return date.fromisoformat(typed)
    except ValueError:
        raise UsageError(
            _("{option} {value!r} is not a day").format(option=option, value=typed),
            hint=_("write it as 2026-11-20, 20/11/2026, today or yesterday"),
        ) from None


def _read_clock(text: str, option: str, typed: str, future: bool) -> time:
    found = _CLOCK.fullmatch(text.strip().lower())
    if not found:
        raise _not_a_moment(option, typed, future)
    try:
        return time(int(found[1]), int(found[2]))
    except ValueError:
        why = _("{clock} is not a time of day (00:00 to 23:59)").format(clock=text.strip())
        raise _not_a_moment(option, typed, future, why) from None


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def _not_a_moment(option: str, typed: str, future: bool, why: str | None = None) -> UsageError:
    """The error for what `option` cannot read, with examples that point the way it looks (`--since` back, `--until` ahead)."""
    message = _("{option} {value!r} is not a date or time").format(option=option, value=typed)
    if why:
        message += f" ({why})"
    if future:
        return UsageError(message, hint=_("write it as 2026-11-25, 2026-11-25T10:00, 25/11/2026 10:00, 10:00, 2h, 3d or tomorrow 9:00"))
    return UsageError(message, hint=_("write it as 2026-11-25, 2026-11-25T10:00, 25/11/2026 10:00, 10:00, 2h, 3d or yesterday 18:00"))


# -- names from a known list ------------------------------------------------------------------------


def nearest(word: str, known: Iterable[str]) -> str | None:
    """The known name closest to a typo (`instagam` -> `instagram`), if any is close enough."""
    close = difflib.get_close_matches(word.lower(), sorted(set(known)), n=1, cutoff=0.6)
    return close[0] if close else None


def choose(word: str, known: Iterable[str], unknown: str, where: str) -> str:
    """`word` when it is one of `known`, else an error listing them with the nearest suggested.

    `unknown` is the translated message (`{where}: unknown platform {value!r}; known: {known}`),
    `where` the option or cell it came from.
    """
    names = sorted(set(known))
    if word in names:
        return word
    if word.lower() in names:
        return word.lower()
    suggestion = nearest(word, names)
    message = unknown.format(where=where, value=word, known=", ".join(names) or _("none"))
    hint = _("did you mean {suggestion!r}?").format(suggestion=suggestion) if suggestion else None
    raise UsageError(message, hint=hint)


# The networks cmday knows by name: those it reads or publishes on, and those whose exports it imports.
SHIPPED_PLATFORMS = ("mastodon", "bluesky", "rss", "instagram", "facebook", "tiktok", "linkedin", "x", "threads", "youtube", "pinterest")


def known_platforms(projects: Iterable[object]) -> list[str]:
    """The shipped platforms plus each project's own: its sources' platforms and networks and `calendar.platforms`."""
    known = set(SHIPPED_PLATFORMS)
    for project in projects:
        for source in getattr(project, "sources", []):
            known.add(source.platform)
            if getattr(source, "network", ""):
                known.add(source.network.lower())
        known.update(getattr(getattr(project, "calendar", None), "platforms", None) or [])
    return sorted(known - {"file"})


def choose_platform(word: str, projects: Iterable[object], where: str) -> str:
    """A platform name as typed, or an error naming the known ones with the nearest suggested."""
    return choose(word.strip().lower(), known_platforms(projects), _("{where}: unknown platform {value!r}; known: {known}"), where)
