"""Spanish: the catalogue is complete and keeps every placeholder, the CLI speaks it, and dates and numbers follow it."""

from __future__ import annotations

import io
import string
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from cmday.i18n import (
    format_day,
    format_number,
    format_percent,
    format_time,
    set_language,
)
from tests.cli_runner import run

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src" / "cmday"
SPANISH_PO = SOURCE / "locale" / "es" / "LC_MESSAGES" / "cmday.po"
UPDATE_HELP = (
    "update the catalogue: .venv/bin/pybabel extract -F babel.cfg -k _ -o src/cmday/locale/cmday.pot "
    "src/cmday --no-location --omit-header && .venv/bin/pybabel update -i src/cmday/locale/cmday.pot "
    "-d src/cmday/locale -D cmday --omit-header --ignore-obsolete, then translate every empty or fuzzy entry in "
    "src/cmday/locale/es/LC_MESSAGES/cmday.po"
)


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """The language is process-wide: leave English for the tests that run next."""
    yield
    set_language("en")


def source_messages() -> dict[str | tuple[str, str], list[str]]:
    """Every msgid in the source, as `pybabel extract -F babel.cfg -k _` finds it, with where it is used.

    A message with a context (`pgettext("mention state", "open")`) is keyed by (msgid, context).
    """
    with (REPO / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_": None}
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        SOURCE, method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((msgid, context) if context else msgid, []).append(f"{filename}:{lineno}")
    return found


def spanish_catalog():
    with SPANISH_PO.open("rb") as po_file:
        return read_po(po_file, locale="es", domain="cmday")


def placeholders(text: str) -> list[tuple[str, str, str | None]] | str:
    """The `{name!conversion:spec}` fields of a format string, in a comparable form."""
    try:
        fields = [
            (name, spec, conversion)
            for _literal, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as error:
        return f"not a valid format string ({error})"
    return sorted(fields, key=repr)


# --- The catalogue ---------------------------------------------------------------------------


def test_the_extraction_finds_the_source_strings() -> None:
    # Guards the test below: an extraction that finds nothing would pass it vacuously.
    messages = source_messages()
    assert len(messages) > 100
    assert "unknown project {slug!r}; known projects: {known}" in messages


def test_the_extraction_sees_translated_strings_inside_f_strings() -> None:
    # Babel alone misses them before Python 3.12; babel.cfg names cmday.i18n.extract_python for that.
    from cmday.i18n import extract_python

    source = b"title = f\"## {_('Summary')} of {name}\"\nplain = _(\"Plain\")\nnested = f\"{x:{_('Width')}}\"\n"
    found = [message for _lineno, _function, message, _comments in extract_python(io.BytesIO(source), DEFAULT_KEYWORDS, [], {})]
    assert sorted(set(found)) == ["Plain", "Summary", "Width"]


def test_every_source_string_has_a_spanish_translation() -> None:
    catalog = spanish_catalog()
    missing = []
    for msgid, places in source_messages().items():
        entry = catalog.get(*msgid) if isinstance(msgid, tuple) else catalog.get(msgid)
        if entry is None:
            problem = "missing"
        elif not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            problem = "empty"
        elif entry.fuzzy:
            problem = "fuzzy"
        else:
            continue
        missing.append(f"  {problem}: {msgid!r}  ({', '.join(places)})")
    assert not missing, f"{len(missing)} strings lack Spanish ({UPDATE_HELP}):\n" + "\n".join(missing)


def test_spanish_translations_keep_the_same_placeholders() -> None:
    wrong = []
    for entry in spanish_catalog():
        if not entry.id or not entry.string:
            continue
        pairs = zip(entry.id, entry.string, strict=False) if isinstance(entry.id, tuple) else [(entry.id, entry.string)]
        for msgid, msgstr in pairs:
            if msgstr and placeholders(msgid) != placeholders(msgstr):
                wrong.append(f"  {msgid!r}\n    -> {msgstr!r}\n    has {placeholders(msgstr)}, needs {placeholders(msgid)}")
    assert not wrong, "translations that change placeholders:\n" + "\n".join(wrong)


def test_the_catalogue_has_no_header_or_locations_to_churn() -> None:
    # Written with --omit-header and --no-location: a diff shows translations, nothing else.
    for path in (SOURCE / "locale" / "cmday.pot", SPANISH_PO):
        text = path.read_text(encoding="utf-8")
        assert '\nmsgid ""\nmsgstr ""\n"' not in "\n" + text, path
        assert "\n#: " not in "\n" + text, path


# --- The CLI in Spanish ----------------------------------------------------------------------


def test_morning_speaks_spanish_with_lang_es() -> None:
    ran = run("morning", "--demo", "--lang", "es")
    assert ran.exit_code == 0, ran.stderr
    for heading in ("Primero, lo urgente", "Desde el último cierre", "Calendario de hoy", "Checklist de inicio del día"):
        assert heading in ran.stdout
    assert "Urgent first" not in ran.stdout


def test_morning_speaks_spanish_with_cmday_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMDAY_LANG", "es")
    ran = run("morning", "--demo")
    assert ran.exit_code == 0, ran.stderr
    assert "Primero, lo urgente" in ran.stdout


def test_morning_stays_english_by_default() -> None:
    ran = run("morning", "--demo")
    assert "Urgent first" in ran.stdout
    assert "Primero, lo urgente" not in ran.stdout


def broken_workspace(root: Path) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text('owner = "Ana"\ntimezone = "Europe/Madrid"\n', encoding="utf-8")
    (root / "projects" / "acme.toml").write_text('[project]\nname = "Acme\nslug = "acme"\n', encoding="utf-8")
    return root


def test_a_broken_project_file_is_reported_in_spanish(tmp_path: Path) -> None:
    ran = run("morning", "--workspace", str(broken_workspace(tmp_path / "ws")), "--lang", "es")
    assert ran.exit_code != 0
    assert "cmday: error: " in ran.stderr
    assert "acme.toml" in ran.stderr
    assert "TOML no válido" in ran.stderr
    assert "invalid TOML" not in ran.stderr


def test_a_broken_project_file_is_reported_in_spanish_with_cmday_lang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMDAY_LANG", "es")
    ran = run("morning", "--workspace", str(broken_workspace(tmp_path / "ws")))
    assert "TOML no válido" in ran.stderr


def test_a_missing_or_stale_compiled_catalog_is_compiled_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cmday_home: Path
) -> None:
    import os

    import cmday.i18n as i18n

    locale = tmp_path / "locale"
    (locale / "es" / "LC_MESSAGES").mkdir(parents=True)
    po_path = locale / "es" / "LC_MESSAGES" / "cmday.po"
    po_path.write_bytes(SPANISH_PO.read_bytes())
    monkeypatch.setattr(i18n, "_LOCALE_DIR", locale)

    set_language("es")  # no .mo at all: a checkout never built
    assert i18n._("Nothing new.") == "Nada nuevo."
    assert list((cmday_home / "cache" / "locale").glob("*/es/LC_MESSAGES/cmday.mo"))

    po_path.with_suffix(".mo").write_bytes(b"")  # a .mo older than its .po is not used
    os.utime(po_path.with_suffix(".mo"), (0, 0))
    set_language("es")
    assert i18n._("Nothing new.") == "Nada nuevo."


def test_help_does_not_import_babel() -> None:
    # Babel is slow to import; the formatting helpers import it when first used.
    code = "import sys; from cmday.cli.app import build_app; build_app(); print(sorted(m for m in sys.modules if m.startswith('babel')))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert shown.stdout.strip() == "[]"


# --- Dates and numbers -----------------------------------------------------------------------


MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "lunes 23 de noviembre"), ("en", "Monday 23 November")],
)
def test_format_day(language: str, expected: str) -> None:
    set_language(language)
    assert format_day(MONDAY) == expected
    assert format_day(datetime(2026, 11, 23, 22, 15)) == expected


def test_format_day_in_spanish_is_lowercase_like_spanish() -> None:
    assert format_day(date(2026, 11, 29), language="es") == "domingo 29 de noviembre"
    assert format_day(date(2027, 1, 1), language="es") == "viernes 1 de enero"


@pytest.mark.parametrize("language", ["es", "en"])
def test_format_time_is_the_24_hour_clock_in_the_moments_own_zone(language: str) -> None:
    set_language(language)
    madrid_winter = timezone(timedelta(hours=1))
    assert format_time(datetime(2026, 11, 23, 9, 30, tzinfo=madrid_winter)) == "09:30"
    assert format_time(datetime(2026, 11, 23, 21, 5)) == "21:05"


@pytest.mark.parametrize(
    ("language", "big", "decimal"),
    [("es", "12.840", "3,5"), ("en", "12,840", "3.5")],
)
def test_format_number(language: str, big: str, decimal: str) -> None:
    set_language(language)
    assert format_number(12840) == big
    assert format_number(3.5) == decimal
    assert format_number(7) == "7"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "87\u00a0%"), ("en", "87%")],
)
def test_format_percent(language: str, expected: str) -> None:
    set_language(language)
    assert format_percent(0.87) == expected


def test_an_explicit_language_wins_over_the_active_one() -> None:
    set_language("en")
    assert format_number(12840, language="es") == "12.840"
    assert format_percent(0.5, language="es") == "50\u00a0%"
    assert format_day(MONDAY, language="es") == "lunes 23 de noviembre"


def test_the_english_short_day_is_exactly_babels():
    from datetime import date, timedelta

    from babel.dates import format_date

    from cmday.i18n import format_short_day

    for offset in range(0, 400, 7):
        day = date(2026, 1, 1) + timedelta(days=offset)
        assert format_short_day(day, language="en") == format_date(day, "EEE d MMM", locale="en")


@pytest.mark.parametrize(("language", "one", "many"), [
    ("en", "Acme: crisis (1 mention)", "Acme: crisis (2 mentions)"),
    ("es", "Acme: crisis (1 mención)", "Acme: crisis (2 menciones)"),
])
def test_counts_agree_in_number(language: str, one: str, many: str) -> None:
    from cmday.i18n import ngettext

    set_language(language)
    def crisis(count: int) -> str:
        return ngettext("{project}: crisis ({count} mention)", "{project}: crisis ({count} mentions)", count).format(project="Acme", count=count)
    assert (crisis(1), crisis(2)) == (one, many)
