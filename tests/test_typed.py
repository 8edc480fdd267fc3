"""What a CM types, read one way: numbers in the session's language, dates and times, typos with a suggestion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from cmday.errors import UsageError
from cmday.typed import choose, read_day, read_moment, read_number

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 12, 1, 20, 30, tzinfo=MADRID)


@pytest.mark.parametrize(
    ("language", "typed", "number"),
    [
        ("es", "12.840", Decimal(12840)),
        ("es", "12,5", Decimal("12.5")),
        ("es", "3.000", Decimal(3000)),
        ("es", "1.234,5", Decimal("1234.5")),
        ("es", "12840", Decimal(12840)),
        ("es", "0,840", Decimal("0.84")),
        ("en", "12,840", Decimal(12840)),
        ("en", "12.5", Decimal("12.5")),
        ("en", "1,234.5", Decimal("1234.5")),
        ("en", " 60 ", Decimal(60)),
    ],
)
def test_numbers_read_as_written_in_the_language(language: str, typed: str, number: Decimal):
    assert read_number(typed, language) == number


@pytest.mark.parametrize(("language", "typed", "readings"), [("es", "12,840", ("12,84", "12840")), ("en", "12.840", ("12.84", "12840"))])
def test_a_number_that_reads_two_ways_is_refused_with_both_readings(language: str, typed: str, readings: tuple[str, str]):
    with pytest.raises(UsageError) as refused:
        read_number(typed, language)
    said = refused.value.message + " " + (refused.value.hint or "")
    assert all(reading in said for reading in readings)
    assert f"read as {readings[0]}" in said


@pytest.mark.parametrize(("language", "typed", "suggestion"), [("es", "12.5", "12,5"), ("en", "12,5", "12.5"), ("es", "1,234.5", "1.234,5")])
def test_a_number_written_the_other_languages_way_suggests_this_ones(language: str, typed: str, suggestion: str):
    with pytest.raises(UsageError) as refused:
        read_number(typed, language)
    assert suggestion in (refused.value.hint or "")


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False), st.sampled_from(["en", "es"]))
def test_a_number_as_the_language_formats_it_reads_back_or_is_refused_as_ambiguous(number: Decimal, language: str):
    shown = format_decimal(number, format="#,##0.##", locale=language)
    try:
        assert read_number(shown, language) == number
    except UsageError as refused:
        assert "two ways" in refused.message or "dos maneras" in refused.message


@given(st.text(max_size=20), st.sampled_from(["en", "es"]))
def test_anything_typed_is_a_number_or_one_clear_error(typed: str, language: str):
    try:
        assert isinstance(read_number(typed, language), Decimal)
    except UsageError as refused:
        assert refused.message


def moment(typed: str, option: str = "--since", future: bool = False) -> datetime:
    return read_moment(typed, option, NOW, MADRID, future=future).at


def test_every_form_of_a_date_or_time():
    assert moment("2026-11-25") == datetime(2026, 11, 25, tzinfo=MADRID)
    assert moment("2026-11-25T10:00") == datetime(2026, 11, 25, 10, 0, tzinfo=MADRID)
    assert moment("2026-11-25T10:00+00:00") == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert moment("25/11/2026") == datetime(2026, 11, 25, tzinfo=MADRID)
    assert moment("25/11/2026 10:00") == datetime(2026, 11, 25, 10, 0, tzinfo=MADRID)
    assert moment("2h") == NOW - timedelta(hours=2)
    assert moment("3d") == NOW - timedelta(days=3)
    assert moment("2h", "--until", future=True) == NOW + timedelta(hours=2)
    assert moment("in 2h", "--at", future=True) == moment("en 2h", "--at", future=True) == NOW + timedelta(hours=2)
    assert moment("dentro de 90m", "--at", future=True) == NOW + timedelta(minutes=90)
    assert moment("3d ago") == moment("hace 3d") == NOW - timedelta(days=3)
    for backwards in (("in 2h", "--since", False), ("2h ago", "--at", True)):  # said the other way round: no moment
        with pytest.raises(UsageError, match=backwards[1]):
            moment(*backwards[:2], future=backwards[2])
    assert moment("mañana 9:00", "--until", future=True) == datetime(2026, 12, 2, 9, 0, tzinfo=MADRID)
    assert moment("tomorrow 9:00", "--until", future=True) == datetime(2026, 12, 2, 9, 0, tzinfo=MADRID)


def test_a_bare_time_is_today_or_the_next_one_said_back():
    later = read_moment("23:00", "--until", NOW, MADRID, future=True)
    assert later.at == datetime(2026, 12, 1, 23, 0, tzinfo=MADRID) and later.said_back is None
    passed = read_moment("09:00", "--until", NOW, MADRID, future=True)
    assert passed.at == datetime(2026, 12, 2, 9, 0, tzinfo=MADRID)
    assert "--until 09:00" in passed.said_back and "2026-12-02" in passed.said_back
    since = read_moment("09:00", "--since", NOW, MADRID)
    assert since.at == datetime(2026, 12, 1, 9, 0, tzinfo=MADRID) and since.said_back is None


@pytest.mark.parametrize("option", ["--since", "--until", "--at"])
def test_the_error_names_the_option_given(option: str):
    with pytest.raises(UsageError) as refused:
        read_moment("25:00", option, NOW, MADRID)
    assert refused.value.message.startswith(f"{option} '25:00'")


def test_days_for_kpi_dates():
    today = date(2026, 12, 1)
    assert read_day("20/11/2026", "--date", today) == date(2026, 11, 20)
    assert read_day("ayer", "--date", today) == date(2026, 11, 30)
    with pytest.raises(UsageError, match="^--date '32/11/2026'"):
        read_day("32/11/2026", "--date", today)


def test_a_typo_gets_the_nearest_known_name():
    with pytest.raises(UsageError) as refused:
        choose("instagam", ["instagram", "mastodon"], "{where}: unknown platform {value!r}; known: {known}", "--platform")
    assert "instagram, mastodon" in refused.value.message
    assert "'instagram'" in refused.value.hint


@given(st.one_of(st.text(max_size=30), st.from_regex(r"\A\d{1,15}\s?[mhdw]\Z"), st.from_regex(r"\A\d{1,4}-\d\d-\d\d\Z")), st.booleans())
def test_anything_typed_for_a_date_option_is_a_moment_or_an_error_naming_the_option(typed: str, future: bool):
    try:
        read = read_moment(typed, "--until", NOW, MADRID, future=future)
    except UsageError as refused:
        assert refused.message.startswith("--until ")
    else:
        assert read.at.tzinfo is not None


@pytest.mark.parametrize(("written", "meant"), [
    ("2026-11-25T10:00", datetime(2026, 11, 25, 10, 0)),
    ("2026-11-25 10:00:30", datetime(2026, 11, 25, 10, 0, 30)),
    ("25/11/2026 10:00", datetime(2026, 11, 25, 10, 0)),
    ("25/11/26 10h00", datetime(2026, 11, 25, 10, 0)),
    ("25-11-2026 10:00:00", datetime(2026, 11, 25, 10, 0)),  # as Excel writes a time into a sheet
    ("25.11.2026", datetime(2026, 11, 25, 0, 0)),
])
def test_one_reader_for_dates_in_cells_imports_and_options(written: str, meant: datetime) -> None:
    from cmday.calendar.dates import parse_when
    from cmday.sources.fileimport.adapter import parse_date

    assert parse_when(written) == meant  # a calendar sheet's cell
    assert parse_date(written, MADRID) == meant.replace(tzinfo=MADRID).astimezone(UTC)  # an import row
    assert read_moment(written, "--since", NOW, MADRID).at == meant.replace(tzinfo=MADRID)  # an option


@pytest.mark.parametrize("written", ["31/02/2026", "25/11/2026 25:00", "mañana", "2026-13-01"])
def test_what_is_no_date_is_refused_by_every_reader(written: str) -> None:
    from cmday.calendar.dates import parse_when
    from cmday.sources.fileimport.adapter import parse_date

    with pytest.raises(ValueError):
        parse_when(written)
    assert parse_date(written) is None


@pytest.mark.parametrize(("option", "future", "example"), [("--since", False, "yesterday 18:00"), ("--until", True, "tomorrow 9:00")])
def test_a_moment_that_does_not_read_is_refused_with_examples_the_way_the_option_looks(option: str, future: bool, example: str):
    with pytest.raises(UsageError) as refused:
        read_moment("next tuesday", option, datetime(2026, 12, 1, 10, 0, tzinfo=UTC), ZoneInfo("Europe/Madrid"), future=future)
    assert example in (refused.value.hint or "")
