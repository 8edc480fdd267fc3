"""The one translation function every user-facing string goes through, the choice of language, and dates and numbers in it."""

from __future__ import annotations

import gettext
import os
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import BinaryIO

SUPPORTED_LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
_LOCALE_DIR = Path(__file__).parent / "locale"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT_LANGUAGE


def _(message: str) -> str:
    """Translate `message` into the active language (English is the source text)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted message that agrees with `count` in the active language (gettext plural forms)."""
    return _translation.ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` in the active language, told apart from the same English word used elsewhere ("open" a link, an "open" mention)."""
    return _translation.pgettext(context, message)


def active_language() -> str:
    return _language


def set_language(language: str) -> None:
    global _translation, _language
    _language = language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    _translation = gettext.translation(
        "cmday", localedir=_catalog_dir(_language), languages=[_language], fallback=True
    )


# A .mo this much older than its .po is stale; the slack covers a wheel install writing both in any order.
_STALE_AFTER_SECONDS = 2.0


def _catalog_dir(language: str) -> Path:
    """The locale folder holding `language`'s compiled catalog.

    The build compiles each .po to a .mo beside it (hatch_build.py). When that .mo is missing or
    older than its .po (a checkout never installed, a .po edited since), the .po is compiled once
    into the user cache instead, so a translation never silently disappears. Never raises.
    """
    po_path = _LOCALE_DIR / language / "LC_MESSAGES" / "cmday.po"
    mo_path = po_path.with_suffix(".mo")
    try:
        if not po_path.is_file():
            return _LOCALE_DIR
        if mo_path.is_file() and mo_path.stat().st_mtime + _STALE_AFTER_SECONDS >= po_path.stat().st_mtime:
            return _LOCALE_DIR
        return _compile_into_cache(po_path, language)
    except Exception:  # a translation problem must never stop a command: English is the fallback
        return _LOCALE_DIR


def _compile_into_cache(po_path: Path, language: str) -> Path:
    import hashlib

    source = po_path.read_bytes()
    folder = _cache_home() / "locale" / hashlib.sha256(source).hexdigest()[:16]
    mo_path = folder / language / "LC_MESSAGES" / "cmday.mo"
    if not mo_path.is_file():
        import io

        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        from cmday.private import private_folder

        catalog = read_po(io.BytesIO(source), locale=language, domain="cmday")
        private_folder(mo_path.parent)  # the cache folder is private: made 0700 as the state's are, never with the umask's mode
        partial = mo_path.with_name(f"cmday.{os.getpid()}.tmp")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        partial.replace(mo_path)  # atomic: a concurrent cmday sees the whole file or none
    return folder


def _cache_home() -> Path:
    from cmday.paths import cache_home  # under CMDAY_HOME in tests: they never write to the user's cache

    return cache_home()


def extract_python(
    fileobj: BinaryIO, keywords: Collection[str], comment_tags: Collection[str], options: dict[str, Any]
) -> list[tuple[int, str, Any, list[str]]]:
    """Babel's Python extractor, plus the `_("...")` calls inside f-strings, which it cannot see before Python 3.12.

    babel.cfg names it, so `pybabel extract` and the catalogue test find `f"## {_('Summary')}"` too.
    """
    import ast
    import io

    from babel.messages.extract import extract_python as babel_extract_python

    source = fileobj.read()
    found = list(babel_extract_python(io.BytesIO(source), keywords, comment_tags, options))
    calls: dict[int, ast.Call] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            calls.update((id(inner), inner) for inner in ast.walk(node) if isinstance(inner, ast.Call))
    for call in sorted(calls.values(), key=lambda c: (c.lineno, c.col_offset)):
        if (
            isinstance(call.func, ast.Name)
            and call.func.id in keywords
            and len(call.args) == 1
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            # A message Babel also found is merged into one catalogue entry: duplicates are harmless.
            found.append((call.lineno, call.func.id, call.args[0].value, []))
    return sorted(found, key=lambda message: message[0])


def language_from_locale(environ: os._Environ[str] | dict[str, str] | None = None) -> str | None:
    """The language the system locale asks for, when it is one cmday speaks."""
    env = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable, "")
        code = value.split(".")[0].split("_")[0].lower()
        if code in SUPPORTED_LANGUAGES:
            return code
        if value:
            return None
    return None


def resolve_language(flag: str | None, workspace_language: str | None) -> str:
    """--lang, else CMDAY_LANG, else the workspace's language, else the locale, else English."""
    for candidate in (flag, os.environ.get("CMDAY_LANG"), workspace_language):
        if candidate:
            return candidate if candidate in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    return language_from_locale() or DEFAULT_LANGUAGE


# --- Locale-aware formatting -------------------------------------------------------------------
# Babel is imported inside each function: it is slow to import and `cmday --help` needs none of it.

_DAY_PATTERNS = {"en": "EEEE d MMMM", "es": "EEEE d 'de' MMMM"}


def _babel_locale(language: str | None) -> str:
    return language if language in SUPPORTED_LANGUAGES else _language


def format_day(day: date, *, language: str | None = None) -> str:
    """A day as people say it: "lunes 23 de noviembre", "Monday 23 November"."""
    from babel.dates import format_date

    locale = _babel_locale(language)
    return format_date(day, _DAY_PATTERNS[locale], locale=locale)


_ENGLISH_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_short_day(day: date, *, language: str | None = None) -> str:
    """A day in a table or a heading: "lun 23 nov", "Mon 23 Nov".

    English, on every dashboard, is CLDR's pattern spelled out (a test keeps it equal to Babel's):
    importing Babel's dates costs ~60 ms, a fifth of `cmday check`'s budget.
    """
    locale = _babel_locale(language)
    if locale == "en":
        return f"{_ENGLISH_DAYS[day.weekday()]} {day.day} {_ENGLISH_MONTHS[day.month - 1]}"
    from babel.dates import format_date

    return format_date(day, "EEE d MMM", locale=locale)


def format_time(moment: datetime | time, *, language: str | None = None) -> str:
    """A time of day on the 24-hour clock, in the moment's own time zone: "09:30"."""
    from babel.dates import format_time as babel_format_time

    return babel_format_time(moment, "HH:mm", locale=_babel_locale(language))


def format_number(number: float, *, language: str | None = None) -> str:
    """A count or amount with the language's separators: "12.840" (es), "12,840" (en)."""
    from babel.numbers import format_decimal

    return format_decimal(number, locale=_babel_locale(language))


def format_percent(ratio: float, *, language: str | None = None) -> str:
    """A ratio (0.87) as a whole percent: "87\u00a0%" (es, with a no-break space), "87%" (en)."""
    from babel.numbers import format_percent as babel_format_percent

    return babel_format_percent(ratio, locale=_babel_locale(language))
