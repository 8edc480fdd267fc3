"""`--compact` dashboards, and long dashboards through the user's pager only on a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.cli_runner import run
from tests.test_work_pty import Terminal

MID_MORNING = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("Europe/Madrid"))  # the demo's crisis and urgent mentions are in
CMDAY = str(Path(sys.executable).parent / "cmday")


@pytest.mark.parametrize("routine", ["morning", "check", "close"])
def test_compact_dashboards_are_one_line_per_section_and_mention_within_80_columns(routine: str):
    with time_machine.travel(MID_MORNING, tick=False):
        full = run(routine, "--demo").stdout
        compact = run(routine, "--demo", "--offline", "--compact")
        listed = json.loads(run(routine, "--demo", "--offline", "--json").stdout)["projects"][0]
    assert compact.exit_code == 0, compact.stderr
    lines = compact.stdout.splitlines()
    assert "" not in lines and max(len(line) for line in lines) <= 80
    assert len(lines) < len(full.splitlines()) / 2
    assert "Café Aroma" in lines[0]
    if routine != "close":
        assert lines[1].startswith("CRISIS 2 open mentions with crisis words · cmday escalate ")  # first, before any list
    ids = [m["id"] for key in ("urgent", "new", "open_overnight") for m in listed.get(key, [])]
    assert ids
    for number in ids:
        assert sum(1 for line in lines if line.lstrip("!+ ").startswith(f"{number} ")) == 1  # each mention once, on its own line
    assert not any(line.split()[:2] == ["#", "age"] for line in lines)  # no table headings


def test_compact_in_spanish_keeps_one_line_per_section():
    with time_machine.travel(MID_MORNING, tick=False):
        run("morning", "--demo")
        ran = run("morning", "--demo", "--offline", "--compact", "--lang", "es")
    lines = ran.stdout.splitlines()
    assert lines[1].startswith("CRISIS") and lines[2].startswith("  cmday escalate ")  # a command is never cut
    assert any("de 12 hechas" in line for line in lines)
    assert max(len(line) for line in lines) <= 80


def test_inbox_compact_drops_the_heading_row_and_blank_lines():
    with time_machine.travel(MID_MORNING, tick=False):
        run("morning", "--demo")
        lines = run("inbox", "--demo", "--offline", "--compact").stdout.splitlines()
    assert lines[0].startswith("Café Aroma · ") and "" not in lines
    assert lines[1].lstrip("!+ ")[0].isdigit()


def _pager(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    seen = tmp_path / "paged.txt"
    pager = tmp_path / "pager.sh"
    pager.write_text(f'#!/bin/sh\ncat > {seen}\n', encoding="utf-8")
    pager.chmod(0o755)
    env = {**os.environ, "PAGER": str(pager), "NO_COLOR": "1", "TERM": "xterm"}
    env.pop("CI", None)
    return seen, env


def test_a_dashboard_taller_than_the_terminal_goes_through_the_pager(cmday_home: Path, tmp_path: Path):
    seen, env = _pager(tmp_path)
    terminal = Terminal([CMDAY, "morning", "--demo", "--offline"], {**env, "CMDAY_HOME": str(cmday_home)})
    assert terminal.process.wait(60) == 0
    assert "Morning checklist" in seen.read_text(encoding="utf-8")  # the whole dashboard, to the pager (24 lines here)
    assert "Morning checklist" not in _rest(terminal)  # and nothing of it on the screen besides


def _rest(terminal: Terminal) -> str:
    """What an ended cmday left on its terminal."""
    import select

    shown = terminal.seen
    while select.select([terminal.master], [], [], 0.5)[0]:
        try:
            chunk = os.read(terminal.master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk.decode("utf-8", "replace")
    return shown


def test_no_pager_when_it_fits_piped_as_json_or_under_ci(cmday_home: Path, tmp_path: Path):
    seen, env = _pager(tmp_path)
    env["CMDAY_HOME"] = str(cmday_home)
    short = Terminal([CMDAY, "check", "--demo", "--offline", "--compact"], env)
    short.expect("Check checklist")  # on the screen itself
    assert short.process.wait(60) == 0
    as_json = Terminal([CMDAY, "morning", "--demo", "--offline", "--json"], env)
    as_json.expect('"routine": "morning"')
    assert as_json.process.wait(60) == 0
    in_ci = Terminal([CMDAY, "morning", "--demo", "--offline"], {**env, "CI": "1"})
    in_ci.expect("Morning checklist")
    assert in_ci.process.wait(60) == 0
    piped = subprocess.run([CMDAY, "inbox", "--demo", "--offline", "--state", "all"], env=env, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and "all (" in piped.stdout
    assert not seen.exists()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_legend_at_80_columns_never_breaks_a_command_across_lines(lang: str):
    for routine in ("morning", "check"):
        with time_machine.travel(MID_MORNING, tick=False):
            lines = run(routine, "--demo", "--offline", "--lang", lang).stdout.splitlines()
        legend = lines[len(lines) - 1 - lines[::-1].index(""):]  # the last block
        assert legend and all(line.count("`") % 2 == 0 and len(line) <= 80 for line in legend), legend


def test_a_wide_terminal_shows_whole_handles(cmday_home: Path):
    # a process of its own: the console takes its width from COLUMNS when cmday starts
    at_mid_morning = (f"import sys, time_machine, datetime; time_machine.travel(datetime.datetime.fromisoformat({MID_MORNING.isoformat()!r})).start(); "
                      "sys.argv = ['cmday', 'check', '--demo']; from cmday.cli.app import main; main()")
    ran = subprocess.run([sys.executable, "-c", at_mid_morning], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "COLUMNS": "160", "CMDAY_HOME": str(cmday_home)})
    assert ran.returncode == 0, ran.stderr
    assert "@oatlover@mastodon.social" in ran.stdout and max(len(line) for line in ran.stdout.splitlines()) <= 160
