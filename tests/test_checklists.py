"""Checklists: today's state per project and day in the project's time zone, manual and automatic items."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from cmday.errors import ExitCode
from tests.cli_runner import run

MADRID = ZoneInfo("Europe/Madrid")


def checklist(workspace: Path, name: str = "morning", *extra: str) -> dict[str, dict]:
    ran = run("checklist", name, "--workspace", str(workspace), "--json", *extra)
    assert ran.exit_code == 0, ran.stderr
    return {entry["id"]: entry for entry in json.loads(ran.stdout)["checklist"]}


def test_shipped_morning_checklist_has_manual_and_automatic_items(workspace: Path):
    items = checklist(workspace)
    assert items["news"] == {**items["news"], "automatic": False, "status": "open"}
    assert items["urgent"]["automatic"] and items["urgent"]["status"] == "ok"
    assert items["swept"]["status"] == "failing"  # nothing was ever swept


def test_done_skip_undo_round_trip(workspace: Path):
    assert run("done", "news", "--note", "read El País", "--checklist", "morning", "--workspace", str(workspace)).exit_code == 0
    assert checklist(workspace)["news"]["status"] == "done"
    assert checklist(workspace)["news"]["note"] == "read El País"
    ran = run("skip", "email", "--why", "", "--workspace", str(workspace))
    assert ran.exit_code == ExitCode.USAGE
    assert run("skip", "email", "--why", "client on holiday", "--workspace", str(workspace)).exit_code == 0
    assert checklist(workspace)["email"]["status"] == "skipped"
    assert run("undo", "news", "--workspace", str(workspace)).exit_code == 0
    assert checklist(workspace)["news"]["status"] == "open"
    again = run("undo", "news", "--workspace", str(workspace))
    assert again.exit_code == ExitCode.USAGE and "no mark today" in again.stderr


def test_unknown_item_lists_the_ids(workspace: Path):
    ran = run("done", "nope", "--workspace", str(workspace))
    assert ran.exit_code == ExitCode.USAGE
    assert "no checklist item 'nope'" in ran.stderr and "news" in ran.stderr


def test_an_item_in_several_checklists_follows_the_time_of_day(workspace: Path):
    with time_machine.travel(datetime(2026, 11, 23, 9, 30, tzinfo=MADRID), tick=False):
        assert run("done", "urgent", "--workspace", str(workspace)).exit_code == 0
        assert checklist(workspace, "morning")["urgent"]["status"] == "done"
        assert checklist(workspace, "check")["urgent"]["status"] == "ok"


def test_marks_belong_to_the_local_day_in_the_projects_time_zone(workspace: Path):
    # 23:30 in Madrid is 22:30 UTC: still the 23rd there; an hour later it is the 24th
    with time_machine.travel(datetime(2026, 11, 23, 23, 30, tzinfo=MADRID), tick=False):
        run("done", "news", "--checklist", "morning", "--workspace", str(workspace))
        assert checklist(workspace)["news"]["status"] == "done"
    with time_machine.travel(datetime(2026, 11, 24, 0, 30, tzinfo=MADRID), tick=False):
        assert checklist(workspace)["news"]["status"] == "open"


def test_workspace_can_add_replace_and_drop_items(workspace: Path):
    own = workspace / "checklists"
    own.mkdir()
    (own / "morning.toml").write_text(
        'drop = ["email"]\n'
        '[[items]]\nid = "news"\ntext = "Read the trade press"\n'
        '[[items]]\nid = "stories"\ntext = "Check Instagram stories"\n',
        encoding="utf-8",
    )
    items = checklist(workspace)
    assert "email" not in items
    assert items["news"]["text"] == "Read the trade press"
    assert list(items)[-1] == "stories"


def test_dropping_an_unknown_item_is_an_error_naming_the_file(workspace: Path):
    (workspace / "checklists").mkdir()
    (workspace / "checklists" / "close.toml").write_text('drop = ["emial"]\n', encoding="utf-8")
    ran = run("checklist", "close", "--workspace", str(workspace))
    assert ran.exit_code == ExitCode.CONFIG
    assert "checklists/close.toml: drop names 'emial'" in ran.stderr


def test_weekly_items_show_only_on_their_day(workspace: Path):
    with time_machine.travel(datetime(2026, 11, 27, 17, 0, tzinfo=MADRID), tick=False):  # a Friday
        assert "indicators" in checklist(workspace, "close")
    with time_machine.travel(datetime(2026, 11, 26, 17, 0, tzinfo=MADRID), tick=False):  # a Thursday
        assert "indicators" not in checklist(workspace, "close")


def test_spanish_project_gets_the_spanish_checklist(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace('slug = "acme"', 'slug = "acme"\nlanguage = "es"'), encoding="utf-8")
    assert checklist(workspace)["news"]["text"].startswith("Informarse de noticias")


def test_tomorrow_ready_is_judged_on_the_calendar(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    with time_machine.travel(datetime(2026, 11, 23, 17, 0, tzinfo=MADRID), tick=False):
        assert checklist(workspace, "close")["tomorrow"]["status"] == "failing"
        project.write_text(
            project.read_text(encoding="utf-8")
            + '\n[[posts]]\nat = 2026-11-24T09:30:00\nplatform = "mastodon"\ntext = "hi"\nstatus = "ready"\n',
            encoding="utf-8",
        )
        assert checklist(workspace, "close")["tomorrow"]["status"] == "ok"


def test_a_long_item_wraps_by_words_under_its_own_column_at_80(workspace: Path):
    note = "called the client about the opening hours and the new terrace menu, they answer tomorrow before noon"
    assert run("done", "news", "--note", note, "--checklist", "morning", "--workspace", str(workspace)).exit_code == 0
    lines = run("checklist", "morning", "--workspace", str(workspace)).stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.split()[1:2] == ["news"])
    column = lines[first].index("news") + len("news")
    column += len(lines[first][column:]) - len(lines[first][column:].lstrip())  # where the item's text starts
    below = lines[first + 1 : next(i for i in range(first + 1, len(lines)) if lines[i][:column].strip())]
    assert below and all(len(line) <= 80 and not line[:column].strip() and line[column] != " " for line in below)
    shown = " ".join(line.strip() for line in [lines[first][column:], *below])
    assert note in shown  # every word kept, none cut
