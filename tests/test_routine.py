"""The routine's views over time: since-the-last-close, SLA ages, local days across time zones and DST."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from cmday.clock import day_bounds
from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run

MADRID = ZoneInfo("Europe/Madrid")
BOGOTA = ZoneInfo("America/Bogota")


def add(cmday_home: Path, platform_id: str, at: datetime, text: str = "hola", sla_minutes: int = 60, urgent: bool = False) -> int:
    store = Store(cmday_home / "state.sqlite3")
    m = Mention("mastodon", platform_id, "mention", text, at, author_handle="@ana@m.example",
                category="complaint" if urgent else "question", urgent=urgent, sla_due=at + timedelta(minutes=sla_minutes))
    store.save_batch("acme", "m", "mastodon", [m], None, at)
    stored = next(x for x in store.mentions("acme", states=None) if x.platform_id == platform_id)
    store.close()
    return stored.id


def view(workspace: Path, routine: str) -> dict:
    ran = run(routine, "--workspace", str(workspace), "--offline", "--json")
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)["projects"][0]


def test_morning_counts_what_came_in_since_the_last_close(workspace: Path, cmday_home: Path):
    with time_machine.travel(datetime(2026, 11, 23, 18, 30, tzinfo=MADRID), tick=False):
        add(cmday_home, "before-close", datetime(2026, 11, 23, 17, 0, tzinfo=MADRID))
        view(workspace, "close")
    add(cmday_home, "overnight-1", datetime(2026, 11, 23, 23, 0, tzinfo=MADRID))
    add(cmday_home, "overnight-2", datetime(2026, 11, 24, 6, 0, tzinfo=MADRID))
    with time_machine.travel(datetime(2026, 11, 24, 8, 45, tzinfo=MADRID), tick=False):
        morning = view(workspace, "morning")
    assert morning["incoming_total"] == 2
    assert morning["since"].startswith("2026-11-23T17:30")  # 18:30 Madrid, in UTC


def test_past_sla_items_are_urgent_in_the_morning_with_their_age(workspace: Path, cmday_home: Path):
    late = add(cmday_home, "q", datetime(2026, 11, 24, 7, 0, tzinfo=MADRID), sla_minutes=60)
    fresh = add(cmday_home, "r", datetime(2026, 11, 24, 8, 30, tzinfo=MADRID), sla_minutes=120)
    with time_machine.travel(datetime(2026, 11, 24, 8, 45, tzinfo=MADRID), tick=False):
        morning = view(workspace, "morning")
    assert [m["id"] for m in morning["urgent"]] == [late]
    assert morning["urgent"][0]["age_minutes"] == 105
    assert fresh not in [m["id"] for m in morning["urgent"]]


def test_close_summary_counts_the_local_day_and_median_response(workspace: Path, cmday_home: Path):
    first = add(cmday_home, "a", datetime(2026, 11, 24, 9, 0, tzinfo=MADRID))
    add(cmday_home, "b", datetime(2026, 11, 24, 10, 0, tzinfo=MADRID))
    add(cmday_home, "yesterday", datetime(2026, 11, 23, 23, 30, tzinfo=MADRID))
    store = Store(cmday_home / "state.sqlite3")
    store.set_state(first, "answered", datetime(2026, 11, 24, 9, 20, tzinfo=MADRID))
    store.close()
    with time_machine.travel(datetime(2026, 11, 24, 18, 0, tzinfo=MADRID), tick=False):
        close = view(workspace, "close")
    assert close["summary"] == {"came_in": 2, "answered": 1, "still_open": 2, "median_response_minutes": 20.0}


def test_dst_days_have_23_and_25_hours_in_madrid():
    start, end = day_bounds(datetime(2026, 3, 29).date(), MADRID)
    assert end - start == timedelta(hours=23)
    start, end = day_bounds(datetime(2026, 10, 25).date(), MADRID)
    assert end - start == timedelta(hours=25)
    start, end = day_bounds(datetime(2026, 10, 25).date(), BOGOTA)
    assert end - start == timedelta(hours=24) and start.hour == 5


def test_a_mention_at_0230_on_the_autumn_dst_night_belongs_to_that_day(workspace: Path, cmday_home: Path):
    # 02:30 happens twice in Madrid on 2026-10-25; both belong to the 25th
    add(cmday_home, "first-0230", datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    add(cmday_home, "second-0230", datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    add(cmday_home, "late-evening", datetime(2026, 10, 25, 22, 59, tzinfo=UTC))  # 23:59 CET
    with time_machine.travel(datetime(2026, 10, 25, 23, 59, 50, tzinfo=MADRID), tick=False):
        assert view(workspace, "close")["summary"]["came_in"] == 3


def test_bogota_project_days_follow_bogota(workspace: Path, cmday_home: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("Europe/Madrid", "America/Bogota"), encoding="utf-8")
    add(cmday_home, "evening", datetime(2026, 11, 24, 21, 0, tzinfo=BOGOTA))  # 02:00 UTC on the 25th
    with time_machine.travel(datetime(2026, 11, 24, 22, 0, tzinfo=BOGOTA), tick=False):
        close = view(workspace, "close")
    assert close["summary"]["came_in"] == 1
    assert close["header"]["day"] == "2026-11-24"


def test_tomorrow_across_the_spring_dst_change(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + '\n[[posts]]\nat = 2026-03-29T10:00:00\nplatform = "mastodon"\ntext = "spring"\nstatus = "ready"\n',
        encoding="utf-8",
    )
    with time_machine.travel(datetime(2026, 3, 28, 18, 0, tzinfo=MADRID), tick=False):
        close = view(workspace, "close")
    assert [p["text"] for p in close["tomorrow"]] == ["spring"]
    assert close["tomorrow"][0]["at"].startswith("2026-03-29T10:00:00+02:00")
    assert close["tomorrow_missing"] == []


def test_a_draft_due_within_24_hours_is_flagged(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + '\n[[posts]]\nat = 2026-11-25T09:00:00\nplatform = "mastodon"\ntext = "draft"\nstatus = "draft"\n',
        encoding="utf-8",
    )
    with time_machine.travel(datetime(2026, 11, 24, 18, 0, tzinfo=MADRID), tick=False):
        close = view(workspace, "close")
    assert close["tomorrow"][0]["problem"] == "not-ready"
    assert close["tomorrow_missing"] == ["mastodon"]


def test_a_mention_is_the_same_object_in_check_inbox_show_and_mark(workspace: Path, cmday_home: Path):
    late = add(cmday_home, "q", datetime(2026, 11, 24, 7, 0, tzinfo=MADRID), text="¿abrís el domingo?", sla_minutes=60)
    with time_machine.travel(datetime(2026, 11, 24, 8, 45, tzinfo=MADRID), tick=False):
        checked = view(workspace, "check")
        listed = json.loads(run("inbox", "--workspace", str(workspace), "--json").stdout)["mentions"]
        shown = json.loads(run("show", str(late), "--workspace", str(workspace), "--offline", "--json").stdout)["mentions"]
    in_check = next(m for m in checked["new"] + checked["older_open"] if m["id"] == late)
    assert in_check == listed[0] == shown[0]
    assert in_check["author"] == {"handle": "@ana@m.example", "display_name": "", "url": ""}
    assert (in_check["age_minutes"], in_check["past_sla"], in_check["state"], in_check["project"]) == (105, True, "open", "acme")
    with time_machine.travel(datetime(2026, 11, 24, 8, 45, tzinfo=MADRID), tick=False):
        marked = json.loads(run("mark", str(late), "answered", "--workspace", str(workspace), "--json").stdout)["mentions"][0]
    assert set(marked) == set(in_check) and marked["state"] == "answered" and marked["past_sla"] is False
