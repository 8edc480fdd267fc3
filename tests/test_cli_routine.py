"""The routine commands as a user runs them: demo, JSON shapes, cron exit codes."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cmday.errors import ExitCode
from tests.cli_runner import run

README = Path(__file__).resolve().parents[1] / "README.md"


def test_morning_demo_shows_crisis_urgent_calendar_and_checklist():
    ran = run("morning", "--demo")
    assert ran.exit_code == 0, ran.stderr
    assert "Café Aroma" in ran.stdout
    assert "CRISIS" in ran.stdout
    assert "Urgent first" in ran.stdout
    assert "Today's calendar" in ran.stdout
    assert "Morning checklist" in ran.stdout
    assert "2 open mentions with crisis words" in ran.stdout


def test_dashboards_fit_80_columns():
    for routine in ("morning", "check", "close"):
        ran = run(routine, "--demo")
        assert ran.exit_code == 0
        widest = max(len(line) for line in ran.stdout.splitlines())
        assert widest <= 80, (routine, widest)


def test_no_escape_sequences_or_markup_interpretation_reach_the_terminal():
    run("morning", "--demo")
    ran = run("inbox", "--demo", "--state", "all")
    assert "\x1b" not in ran.stdout
    shown = run("show", "--demo", str(_id_of("growfast")))
    assert "[bold]now[/bold]" in shown.stdout  # markup from the network shows literally
    assert "\x1b" not in shown.stdout


def test_inbox_of_every_state_says_each_ones_state():
    run("morning", "--demo")
    answered = _id_of("growfast")
    assert run("mark", "--demo", str(answered), "answered").exit_code == 0
    lines = {line.split()[0].lstrip("!+"): line for line in run("inbox", "--demo", "--state", "all", "--limit", "0").stdout.splitlines()
             if line.split() and line.split()[0].lstrip("!+").isdigit()}
    assert " answered · " in lines[str(answered)]
    assert all(any(f" {state} · " in line for state in ("open", "answered", "ignored", "snoozed", "escalated", "linked"))
               for line in lines.values())
    assert " open · " not in run("inbox", "--demo").stdout  # the open queue alone needs no word for it


def _id_of(handle: str) -> int:
    mentions = json.loads(run("inbox", "--demo", "--json", "--state", "all").stdout)["mentions"]
    return next(m["id"] for m in mentions if handle in m["author"]["handle"])


def test_morning_json_is_only_json_with_documented_keys():
    ran = run("morning", "--demo", "--json")
    data = json.loads(ran.stdout)
    assert data["routine"] == "morning"
    view = data["projects"][0]
    assert set(view) >= {"header", "since", "crisis", "urgent", "incoming_total", "incoming_by_platform",
                         "incoming_by_category", "today", "checklist", "source_problems"}
    assert view["crisis"]["reason"] == "words"
    assert all(m["urgent"] or m["past_sla"] for m in view["urgent"])
    assert {"id", "text", "status", "automatic"} <= set(view["checklist"][0])


def test_common_options_work_after_the_command_name(workspace: Path):
    for command in ("morning", "check", "close", "inbox", "checklist", "where"):
        ran = run(command, "--workspace", str(workspace), "--json", "--offline", "--lang", "en", "--project", "acme")
        assert ran.exit_code == 0, (command, ran.stderr)
        json.loads(ran.stdout)


def test_check_quiet_exits_zero_and_silent_when_nothing_needs_attention(workspace: Path):
    ran = run("check", "--workspace", str(workspace), "--quiet")
    assert ran.exit_code == 0
    assert ran.stdout == ""


def test_check_quiet_lists_items_and_exits_attention_code():
    ran = run("check", "--demo", "--quiet")
    assert ran.exit_code == ExitCode.ATTENTION == 10
    lines = ran.stdout.strip().splitlines()
    assert lines[0].startswith("cafe-aroma: crisis")
    assert any(" urgent " in line for line in lines)


def test_check_quiet_does_not_move_the_last_check():
    run("check", "--demo", "--quiet")
    first = json.loads(run("check", "--demo", "--json").stdout)["projects"][0]
    assert len(first["new"]) > 0  # the cron run did not swallow what is new


def test_close_then_check_shows_only_what_is_new():
    run("check", "--demo")
    again = json.loads(run("check", "--demo", "--json").stdout)["projects"][0]
    assert again["new"] == []
    assert len(again["older_open"]) > 0


def test_marking_a_mention_changes_the_dashboards():
    before = json.loads(run("morning", "--demo", "--json").stdout)["projects"][0]
    target = before["urgent"][0]["id"]
    assert run("mark", str(target), "answered", "--demo").exit_code == 0
    after = json.loads(run("morning", "--demo", "--json").stdout)["projects"][0]
    assert target not in [m["id"] for m in after["urgent"]]


def test_ignore_needs_a_reason_and_snooze_needs_a_time():
    ran = run("mark", "1", "ignored", "--demo")
    assert ran.exit_code == ExitCode.USAGE
    assert "--why" in ran.stderr
    ran = run("mark", "1", "snoozed", "--demo")
    assert ran.exit_code == ExitCode.USAGE


def test_snoozed_mention_leaves_the_open_queue():
    run("morning", "--demo")
    mention = json.loads(run("inbox", "--demo", "--json").stdout)["mentions"][0]["id"]
    run("mark", str(mention), "snoozed", "--until", "2h", "--demo")
    open_ids = [m["id"] for m in json.loads(run("inbox", "--demo", "--json").stdout)["mentions"]]
    assert mention not in open_ids
    snoozed = json.loads(run("inbox", "--demo", "--json", "--state", "snoozed").stdout)["mentions"]
    assert [m["id"] for m in snoozed] == [mention]


def test_demo_reset_starts_over():
    run("mark", "1", "answered", "--demo")
    assert run("demo", "reset").exit_code == 0
    assert run("morning", "--demo").exit_code == 0


def test_readme_quick_start_demo_command_runs_as_written(tmp_path: Path):
    """The README's first Quick start command ends with the demo; run that part exactly."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert block, "README has a Quick start code block"
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    demo_part = commands[0].split("&&")[-1].strip()
    assert demo_part.endswith("cmday morning --demo")
    executable = Path(sys.executable).parent / shlex.split(demo_part)[0].split("/")[-1]
    done = subprocess.run([str(executable), *shlex.split(demo_part)[1:]], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Café Aroma" in done.stdout


def test_cron_check_and_a_person_at_the_same_time(tmp_path: Path, cmday_home: Path):
    """Several cmday processes on one state at once: none crashes, nothing is stored twice."""
    executable = str(Path(sys.executable).parent / "cmday")
    commands = [["check", "--demo", "--quiet"], ["morning", "--demo"], ["close", "--demo"], ["check", "--demo", "--quiet"]]
    processes = [subprocess.Popen([executable, *c], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in commands]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode in (0, ExitCode.ATTENTION), err
    mentions = json.loads(run("inbox", "--demo", "--json", "--state", "all").stdout)["mentions"]
    keys = [(m["source"], m["platform_id"]) for m in mentions]
    assert len(keys) == len(set(keys))
    demo_ids = [k for k in keys if k[1].startswith("demo-")]
    assert 0 < len(demo_ids) <= 14


HEADINGS = {
    "en": {"morning": "Urgent first", "check": "New since", "close": "Tomorrow"},
    "es": {"morning": "Primero, lo urgente", "check": "Nuevas desde", "close": "Mañana"},
}


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("routine", ["morning", "check", "close"])
def test_the_routine_in_both_languages(lang: str, routine: str):
    ran = run(routine, "--demo", "--lang", lang)
    assert ran.exit_code == 0, ran.stderr
    assert HEADINGS[lang][routine] in ran.stdout
    assert max(len(line) for line in ran.stdout.splitlines()) <= 80
    data = json.loads(run(routine, "--demo", "--lang", lang, "--json").stdout)
    assert data["routine"] == routine  # JSON keys and values stay the same in every language


@pytest.mark.parametrize("lang,line", [("en", "cafe-aroma: crisis (2 mentions)"), ("es", "cafe-aroma: crisis (2 menciones)")])
def test_check_quiet_in_both_languages(lang: str, line: str):
    ran = run("check", "--demo", "--quiet", "--lang", lang)
    assert ran.exit_code == ExitCode.ATTENTION
    assert ran.stdout.splitlines()[0] == line


def test_show_gives_the_thread_above_a_reply(workspace: Path, cmday_home: Path):
    from datetime import UTC, datetime

    from cmday.mention import Mention
    from cmday.store import Store

    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store = Store(cmday_home / "state.sqlite3")
    store.save_batch("acme", "m", "mastodon", [
        Mention("mastodon", "100", "mention", "Is the terrace open?", at, author_handle="@ana@m.example"),
        Mention("mastodon", "101", "reply", "Asking for Sunday [b]brunch[/b]", at, author_handle="@ana@m.example", in_reply_to="100"),
    ], None, at)
    reply_id = next(m.id for m in store.mentions("acme") if m.platform_id == "101")
    store.close()
    shown = run("show", str(reply_id), "--workspace", str(workspace))
    assert shown.stdout.index("Is the terrace open?") < shown.stdout.index("[b]brunch[/b]")
    data = json.loads(run("show", str(reply_id), "--workspace", str(workspace), "--json").stdout)
    assert [m["text"] for m in data["thread"]] == ["Is the terrace open?"]
