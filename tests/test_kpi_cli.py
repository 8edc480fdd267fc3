"""`cmday kpi`, `kpi set`, `kpi export` as a user runs them: JSON shape, errors in one line, CSV, the demo."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC
from pathlib import Path

import pytest
import time_machine

from cmday.errors import ExitCode
from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.test_indicators import NOW, WEEK, build_state, local, make_workspace


@pytest.fixture
def acme(tmp_path: Path, cmday_home: Path) -> str:
    """A workspace and a state computed by hand (tests/test_indicators.py); the clock on the Tuesday after."""
    root = make_workspace(tmp_path / "ws")
    build_state(cmday_home / "state.sqlite3").close()
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield str(root)


def kpi_json(root: str, *args: str) -> dict:
    ran = run("kpi", "--workspace", root, "--json", *args)
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)


def test_kpi_json_is_the_hand_computed_week(acme: str):
    data = kpi_json(acme, "--week", WEEK)
    assert data["period"] == WEEK and data["project"] == "acme"
    shown = {i["key"]: i for i in data["indicators"]}
    assert {k: shown[k]["value"] for k in ("mentions_in", "answered_share", "response_time_median_minutes",
                                           "response_time_p90_minutes", "sla_breaches", "crises", "escalations",
                                           "posts_published", "posts_planned")} == {
        "mentions_in": 12, "answered_share": 0.9, "response_time_median_minutes": 30, "response_time_p90_minutes": 120,
        "sla_breaches": 2, "crises": 1, "escalations": 1, "posts_published": 2, "posts_planned": 2,
    }
    assert shown["answered_share"]["target"] == 0.95 and shown["answered_share"]["previous"] == 1.0
    assert shown["mentions_in"]["trend"] == "up" and len(shown["mentions_in"]["series"]) == 8
    assert shown["followers.instagram"]["value"] == 12840


def test_kpi_without_a_period_is_this_week(acme: str):
    assert kpi_json(acme)["period"] == "2026-W44"  # Tuesday 27 October 2026


def test_kpi_month(acme: str):
    data = kpi_json(acme, "--month", "2026-10")
    assert data["period"] == "2026-10" and len(data["indicators"][0]["series"]) == 6


def test_kpi_table_fits_80_columns_and_shows_trends(acme: str):
    ran = run("kpi", "--workspace", acme, "--week", WEEK)
    assert ran.exit_code == 0, ran.stderr
    assert "Mentions in" in ran.stdout and "W43" in ran.stdout and "W42" in ran.stdout
    assert "▁" in ran.stdout and "↑" in ran.stdout and "✘" in ran.stdout  # the share misses its 95% objective
    assert max(len(line) for line in ran.stdout.splitlines()) <= 80
    assert "working hours" in ran.stdout


def test_kpi_set_then_it_feeds_the_indicators(acme: str, cmday_home: Path):
    ran = run("kpi", "set", "followers.mastodon", "812", "--date", "2026-10-21", "--workspace", acme)
    assert ran.exit_code == 0, ran.stderr
    assert "followers.mastodon" in ran.stderr
    store = Store(cmday_home / "state.sqlite3")
    try:
        (value,) = store.kpi_values("acme", "followers.mastodon")
    finally:
        store.close()
    assert (value.day, value.value, value.origin) == ("2026-10-21", 812, "manual")
    shown = {i["key"]: i["value"] for i in kpi_json(acme, "--week", WEEK)["indicators"]}
    assert shown["followers.mastodon"] == 812


@pytest.mark.parametrize(("lang", "words"), [("en", ["Followers · bluesky", "Following · bluesky", "Posts · bluesky"]),
                                             ("es", ["Seguidores · bluesky", "Seguidos · bluesky", "Publicaciones · bluesky"])])
def test_the_account_figures_a_fetch_takes_are_named_in_the_table(acme: str, cmday_home: Path, lang: str, words: list[str]):
    store = Store(cmday_home / "state.sqlite3")
    for family, value in (("followers", 3), ("following", 1), ("posts", 12)):  # what account_metrics gives, origin "api"
        store.set_kpi("acme", f"{family}.bluesky", "2026-10-21", value, "api", NOW)
    store.close()

    ran = run("kpi", "--workspace", acme, "--week", WEEK, "--lang", lang)

    assert ran.exit_code == 0, ran.stderr
    assert all(word in ran.stdout for word in words), ran.stdout
    assert "following.bluesky" not in ran.stdout and "posts.bluesky" not in ran.stdout


def test_kpi_set_defaults_to_today_and_speaks_json(acme: str):
    ran = run("kpi", "set", "reach.instagram", "3.5", "--workspace", acme, "--json")
    assert json.loads(ran.stdout) == {"project": "acme", "key": "reach.instagram", "day": "2026-10-27", "value": 3.5, "origin": "manual"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["set", "followers", "12"], "unknown kpi key format"),
        (["set", "mentions_in", "12"], "computed"),
        (["set", "followers.instagram", "12.840,5"], "not a number"),
        (["set", "followers.instagram", "12", "--date", "32/11/2026"], "not a day"),
        (["set", "followers.instagram", "12", "--date", "2026-12-01"], "future"),
        (["--week", "2026-47"], "not a week"),
        (["--month", "2026-13"], "not a month"),
        (["--week", "2026-W43", "--month", "2026-10"], "not both"),
        (["export", "--format", "pdf"], "unknown format"),
        (["export", "--format", "xlsx"], "needs a file"),
    ],
)
def test_mistakes_are_one_line_usage_errors(acme: str, args: list[str], words: str):
    ran = run("kpi", *args, "--workspace", acme)
    assert ran.exit_code == ExitCode.USAGE, ran.stdout
    assert words in ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.stderr.startswith("cmday: error: ") and len(ran.stderr.strip().splitlines()) <= 2  # the error and maybe a hint


def test_export_csv_has_a_row_per_indicator_and_period(acme: str, tmp_path: Path):
    ran = run("kpi", "export", "--format", "csv", "--week", WEEK, "--workspace", acme)
    assert ran.exit_code == 0, ran.stderr
    rows = list(csv.DictReader(io.StringIO(ran.stdout)))
    assert list(rows[0]) == ["project", "period", "start", "end", "key", "label", "value", "target", "unit"]
    periods = sorted({r["period"] for r in rows})
    assert len(periods) == 8 and periods[-1] == WEEK
    keys = {r["key"] for r in rows}
    assert len(rows) == 8 * len(keys)
    row = next(r for r in rows if r["period"] == WEEK and r["key"] == "response_time_median_minutes")
    assert (row["value"], row["target"], row["start"], row["end"]) == ("30", "60", "2026-10-19", "2026-10-25")
    empty = next(r for r in rows if r["period"] == "2026-W37" and r["key"] == "answered_share")
    assert empty["value"] == ""

    out = tmp_path / "sheet.csv"
    ran = run("kpi", "export", "--month", "2026-10", "--periods", "3", "--out", str(out), "--workspace", acme)
    assert ran.exit_code == 0, ran.stderr
    assert str(out) in ran.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert sorted({r["period"] for r in rows}) == ["2026-08", "2026-09", "2026-10"]


def test_untrusted_author_names_are_shown_literally(tmp_path: Path, cmday_home: Path):
    root = make_workspace(tmp_path / "ws")
    store = Store(cmday_home / "state.sqlite3")
    hostile = "[bold red]boss[/bold red]\x1b[31m"
    store.save_batch("acme", "m", "mastodon", [
        Mention("mastodon", str(i), "mention", "hi", local(20, 10 + i), author_handle=hostile, category="praise") for i in range(3)
    ], None, local(20, 18))
    store.close()
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        ran = run("kpi", "--workspace", str(root), "--week", WEEK)
    assert ran.exit_code == 0, ran.stderr
    assert "[bold red]boss[/bold red]" in ran.stdout
    assert "\x1b" not in ran.stdout


def test_kpi_demo_has_weeks_of_history_and_snapshots():
    ran = run("kpi", "--demo", "--json")
    assert ran.exit_code == 0, ran.stderr
    shown = {i["key"]: i for i in json.loads(ran.stdout)["indicators"]}
    assert {"followers.mastodon", "followers.bluesky", "followers.instagram"} <= set(shown)
    assert sum(1 for v in shown["mentions_in"]["series"][:-1] if v) >= 7  # every past week has mentions
    assert all(v is not None for v in shown["followers.mastodon"]["series"])
    monthly = {i["key"]: i for i in json.loads(run("kpi", "--demo", "--json", "--month", _last_month()).stdout)["indicators"]}
    assert monthly["crises"]["value"] == 1 and monthly["escalations"]["value"] > 0
    assert monthly["posts_published"]["value"] == monthly["posts_planned"]["value"] + 1  # the crisis statement was unplanned
    assert all(v for v in monthly["mentions_in"]["series"])  # six months of history
    table = run("kpi", "--demo")
    assert table.exit_code == 0 and "Café Aroma" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


def test_kpi_demo_in_spanish():
    ran = run("kpi", "--demo", "--lang", "es")
    assert ran.exit_code == 0, ran.stderr
    assert "Menciones recibidas" in ran.stdout


def _last_month() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"
