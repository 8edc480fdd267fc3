"""Numbers and dates as the CM types them, through the commands, in English and Spanish."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cmday.errors import ExitCode
from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.test_init_and_help import answer_in_a_terminal

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 12, 1, 20, 30, tzinfo=MADRID)


def stored_kpis(cmday_home: Path) -> list[float]:
    store = Store(cmday_home / "state.sqlite3")
    try:
        return [v.value for v in store.kpi_values("acme", "followers.instagram")]
    finally:
        store.close()


@pytest.mark.parametrize(("lang", "typed"), [("es", "12.840"), ("en", "12,840"), ("en", "12840"), ("es", "12840")])
def test_kpi_set_reads_thousands_as_the_language_writes_them(workspace: Path, cmday_home: Path, lang: str, typed: str):
    ran = run("kpi", "set", "followers.instagram", typed, "--workspace", str(workspace), "--lang", lang, "--json")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["value"] == 12840
    assert stored_kpis(cmday_home) == [12840.0]


@pytest.mark.parametrize(("lang", "typed", "value"), [("es", "12,5", 12.5), ("en", "12.5", 12.5)])
def test_kpi_set_reads_decimals_as_the_language_writes_them(workspace: Path, cmday_home: Path, lang: str, typed: str, value: float):
    ran = run("kpi", "set", "followers.instagram", typed, "--workspace", str(workspace), "--lang", lang, "--json")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["value"] == value


@pytest.mark.parametrize(
    ("lang", "typed", "said"),
    [
        ("es", "12,840", "en español se leería como 12,84; para decir 12840, escribe 12840 o 12.840"),
        ("en", "12.840", "in English it would be read as 12.84; to mean 12840, type 12840 or 12,840"),
    ],
)
def test_kpi_set_refuses_a_number_that_reads_two_ways_and_stores_nothing(workspace: Path, cmday_home: Path, lang: str, typed: str, said: str):
    ran = run("kpi", "set", "followers.instagram", typed, "--workspace", str(workspace), "--lang", lang)
    assert ran.exit_code == ExitCode.USAGE
    assert said in ran.stderr
    assert stored_kpis(cmday_home) == []


def test_kpi_set_in_spanish_suggests_the_spanish_way_for_an_english_decimal(workspace: Path):
    ran = run("kpi", "set", "followers.instagram", "12.5", "--workspace", str(workspace), "--lang", "es")
    assert ran.exit_code == ExitCode.USAGE
    assert "¿quisiste decir 12,5?" in ran.stderr


def add_mention(cmday_home: Path, at: datetime, platform_id: str = "m1") -> int:
    store = Store(cmday_home / "state.sqlite3")
    mention = Mention("mastodon", platform_id, "mention", "hola", at, author_handle="@ana@m.example", sla_due=at + timedelta(hours=8))
    store.save_batch("acme", "m", "mastodon", [mention], None, NOW)
    stored = next(m for m in store.mentions("acme", states=None) if m.platform_id == platform_id)
    store.close()
    return stored.id


@pytest.mark.parametrize("lang", ["en", "es"])
def test_mark_until_errors_name_until_not_since(workspace: Path, cmday_home: Path, lang: str):
    mention = add_mention(cmday_home, NOW - timedelta(hours=1))
    with time_machine.travel(NOW, tick=False):
        ran = run("mark", str(mention), "snoozed", "--until", "25:00", "--workspace", str(workspace), "--lang", lang)
    assert ran.exit_code == ExitCode.USAGE
    assert ran.stderr.startswith("cmday: error: --until '25:00'")
    assert "--since" not in ran.stderr


@pytest.mark.parametrize(("lang", "said"), [("en", "tomorrow 2026-12-02 at 09:00"), ("es", "mañana 2026-12-02 a las 09:00")])
def test_a_past_time_of_day_snoozes_until_tomorrow_and_says_so(workspace: Path, cmday_home: Path, lang: str, said: str):
    mention = add_mention(cmday_home, NOW - timedelta(hours=1))
    with time_machine.travel(NOW, tick=False):
        ran = run("mark", str(mention), "snoozed", "--until", "09:00", "--workspace", str(workspace), "--lang", lang, "--json")
    assert ran.exit_code == 0, ran.stderr
    assert said in ran.stderr
    store = Store(cmday_home / "state.sqlite3")
    assert store.mention(mention).snooze_until == datetime(2026, 12, 2, 9, 0, tzinfo=MADRID)
    store.close()


@pytest.mark.parametrize("typed", ["mañana 9:00", "tomorrow 9:00", "02/12/2026 09:00", "2026-12-02T09:00"])
def test_snooze_until_accepts_every_way_of_writing_tomorrow_morning(workspace: Path, cmday_home: Path, typed: str):
    mention = add_mention(cmday_home, NOW - timedelta(hours=1))
    with time_machine.travel(NOW, tick=False):
        ran = run("mark", str(mention), "snoozed", "--until", typed, "--workspace", str(workspace))
    assert ran.exit_code == 0, ran.stderr
    store = Store(cmday_home / "state.sqlite3")
    assert store.mention(mention).snooze_until == datetime(2026, 12, 2, 9, 0, tzinfo=MADRID)
    store.close()


@pytest.mark.parametrize("typed", ["19:00", "01/12/2026 19:00", "90m"])
def test_inbox_since_reads_the_same_forms(workspace: Path, cmday_home: Path, typed: str):
    add_mention(cmday_home, NOW - timedelta(minutes=30), "recent")
    add_mention(cmday_home, NOW - timedelta(hours=3), "older")
    with time_machine.travel(NOW, tick=False):
        ran = run("inbox", "--since", typed, "--workspace", str(workspace), "--json", "--offline")
    assert ran.exit_code == 0, ran.stderr
    assert [m["platform_id"] for m in json.loads(ran.stdout)["mentions"]] == ["recent"]


@pytest.mark.parametrize(("lang", "flag"), [("en", "future?"), ("es", "¿futuro?")])
def test_a_mention_dated_in_the_future_is_flagged_not_shown_as_just_now(workspace: Path, cmday_home: Path, lang: str, flag: str):
    add_mention(cmday_home, NOW + timedelta(days=2))
    with time_machine.travel(NOW, tick=False):
        ran = run("inbox", "--workspace", str(workspace), "--lang", lang, "--offline")
        check = run("check", "--workspace", str(workspace), "--offline", "--json")
    assert flag in ran.stdout
    assert " 0m " not in ran.stdout
    lines = json.loads(check.stdout)["projects"][0]
    assert any(m["dated_in_future"] for m in lines["new"] + lines["older_open"])


@pytest.mark.parametrize(("lang", "target", "answer"), [("es", 3000, "3.000"), ("en", 3000, "3,000"), ("es", 2.5, "2,5")])
def test_init_reads_the_objective_in_the_language_of_the_questionnaire(tmp_path: Path, lang: str, target: float, answer: str):
    from cmday.workspace import load_workspace

    answers = "\n".join(["Lucía", "Sol", "Sol S.L.", "Europe/Madrid", "", "", "", "", "", "", "followers.instagram", answer]) + "\n"
    code, screen = answer_in_a_terminal(["init", str(tmp_path / "ws"), "--lang", lang], answers)
    assert code == 0, screen
    assert load_workspace(tmp_path / "ws").projects["sol"].objectives[0].target == target


def test_init_asks_again_for_a_number_that_reads_two_ways(tmp_path: Path):
    from cmday.workspace import load_workspace

    answers = "\n".join(["Lucía", "Sol", "Sol S.L.", "Europe/Madrid", "", "", "", "", "", "", "followers.instagram", "3,000", "3000"]) + "\n"
    code, screen = answer_in_a_terminal(["init", str(tmp_path / "ws"), "--lang", "es"], answers)
    assert code == 0, screen
    assert "se leería como 3" in screen
    assert load_workspace(tmp_path / "ws").projects["sol"].objectives[0].target == 3000


@pytest.mark.parametrize(("lang", "said"), [("en", "--at 07:00: that time has passed today, so tomorrow"),
                                           ("es", "--at 07:00: esa hora ya pasó hoy, así que mañana")])
def test_calendar_add_at_a_past_time_of_day_plans_it_tomorrow_and_says_so(workspace: Path, lang: str, said: str):
    with time_machine.travel(NOW, tick=False):
        ran = run("calendar", "add", "--at", "07:00", "--platform", "mastodon", "--text", "Buenos días", "--workspace", str(workspace), "--lang", lang)
    assert ran.exit_code == 0, ran.stderr
    assert said in ran.stderr
    assert "at = 2026-12-02T07:00:00" in (workspace / "projects" / "acme.toml").read_text(encoding="utf-8")
