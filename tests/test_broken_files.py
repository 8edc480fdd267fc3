"""One broken file never hides the day: every project that loads is shown in full, the broken one as a banner."""

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
from tests.support.workspaces import use_protocol

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=MADRID)


def add_mention(cmday_home: Path, platform_id: str, text: str, category: str = "question", urgent: bool = False) -> int:
    store = Store(cmday_home / "state.sqlite3")
    at = NOW - timedelta(minutes=30)
    mention = Mention("mastodon", platform_id, "mention", text, at, author_handle="@ana@m.example",
                      category=category, urgent=urgent, sla_due=at + timedelta(minutes=60))
    store.save_batch("acme", "m", "mastodon", [mention], None, at)
    stored = next(m for m in store.mentions("acme", states=None) if m.platform_id == platform_id)
    store.close()
    return stored.id


def break_other_brand(workspace: Path) -> None:
    (workspace / "projects" / "forn.toml").write_text('[project]\nname = "Forn"\ntokn = "x"\n', encoding="utf-8")


def cmday(workspace: Path, *args: str) -> object:
    with time_machine.travel(NOW, tick=False):
        return run(*args, "--workspace", str(workspace), "--offline")


@pytest.mark.parametrize("routine", ["morning", "check", "close", "inbox"])
def test_a_typo_in_another_brands_file_shows_this_brand_in_full_and_a_banner(workspace: Path, cmday_home: Path, routine: str):
    add_mention(cmday_home, "u1", "I want a refund now", category="complaint", urgent=True)
    break_other_brand(workspace)
    ran = cmday(workspace, routine)
    assert ran.exit_code == ExitCode.CONFIG
    assert "Acme Coffee" in ran.stdout
    assert "I want a refund now" in ran.stdout  # the working brand's mentions, not a bare error
    assert "forn: cannot be read" in ran.stdout
    assert "projects/forn.toml: project.tokn: unknown key 'tokn'" in " ".join(ran.stdout.split())


def test_the_banner_speaks_spanish(workspace: Path, cmday_home: Path):
    break_other_brand(workspace)
    ran = cmday(workspace, "morning", "--lang", "es")
    assert ran.exit_code == ExitCode.CONFIG
    assert "forn: no se puede leer" in ran.stdout
    assert "Primero, lo urgente" in ran.stdout


def test_json_lists_the_broken_project_beside_the_others(workspace: Path):
    break_other_brand(workspace)
    ran = cmday(workspace, "morning", "--json")
    assert ran.exit_code == ExitCode.CONFIG
    data = json.loads(ran.stdout)
    assert [p["header"]["project"] for p in data["projects"]] == ["acme"]
    assert data["broken"][0]["project"] == "forn"
    assert data["broken"][0]["problem"]["error"].startswith("projects/forn.toml: project.tokn:")


def test_check_quiet_lists_the_configuration_error_with_the_crisis_of_the_other_brand(workspace: Path, cmday_home: Path):
    crisis = add_mention(cmday_home, "c1", "food poisoning after your cake", category="crisis", urgent=True)
    break_other_brand(workspace)
    ran = cmday(workspace, "check", "--quiet")
    assert ran.exit_code == ExitCode.CONFIG
    lines = ran.stdout.splitlines()
    assert any(line.startswith("forn: not shown: projects/forn.toml: project.tokn") for line in lines)
    assert any(line.startswith("acme: crisis") for line in lines)
    assert any(f"acme #{crisis} urgent" in line for line in lines)


def test_check_quiet_in_spanish_names_the_broken_file(workspace: Path):
    break_other_brand(workspace)
    ran = cmday(workspace, "check", "--quiet", "--lang", "es")
    assert ran.exit_code == ExitCode.CONFIG
    assert ran.stdout.startswith("forn: no se muestra: projects/forn.toml")


def test_asking_for_the_broken_project_by_name_is_its_error(workspace: Path):
    break_other_brand(workspace)
    ran = cmday(workspace, "morning", "--project", "forn")
    assert ran.exit_code == ExitCode.CONFIG
    assert "projects/forn.toml: project.tokn" in ran.stderr
    assert ran.stdout == ""


def _sheet(workspace: Path, text: str) -> None:
    (workspace / "calendario.csv").write_text(text, encoding="utf-8")
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(
        project_file.read_text(encoding="utf-8").replace('platforms = ["mastodon"]', 'platforms = ["mastodon"]\nfile = "calendario.csv"'),
        encoding="utf-8",
    )


@pytest.mark.parametrize(("lang", "unreadable"), [("en", "the calendar could not be read"), ("es", "no se pudo leer el calendario")])
def test_a_bad_hour_in_the_sheet_breaks_only_the_calendar_and_names_the_hora_column(workspace: Path, cmday_home: Path, lang: str, unreadable: str):
    add_mention(cmday_home, "u1", "I want a refund now", category="complaint", urgent=True)
    _sheet(workspace, "Fecha;Hora;Plataforma;Texto\n01/12/2026;10:00;mastodon;ok\n02/12/2026;25:00;mastodon;mal\n")
    for routine in ("morning", "close"):
        ran = cmday(workspace, routine, "--lang", lang)
        assert ran.exit_code == ExitCode.CONFIG
        shown = " ".join(ran.stdout.split())
        assert unreadable in shown
        assert "calendario.csv:3: Hora: '25:00'" in shown
        assert "Fecha" not in shown.split("calendario.csv:3:")[1][:8]
    morning = cmday(workspace, "morning", "--lang", lang)
    assert "I want a refund now" in morning.stdout


def test_a_missing_calendar_sheet_still_shows_the_urgent_list(workspace: Path, cmday_home: Path):
    add_mention(cmday_home, "u1", "I want a refund now", category="complaint", urgent=True)
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(project_file.read_text(encoding="utf-8") + '\n', encoding="utf-8")
    _sheet(workspace, "")
    (workspace / "calendario.csv").unlink()
    ran = cmday(workspace, "morning")
    assert ran.exit_code == ExitCode.CONFIG
    assert "I want a refund now" in ran.stdout
    assert "calendar.file: calendario.csv not found" in " ".join(ran.stdout.split())


@pytest.mark.parametrize(("lang", "said"), [("en", "the protocol could not be read"), ("es", "no se pudo leer el protocolo")])
def test_a_broken_protocol_file_keeps_the_crisis_banner_from_the_default_protocol(workspace: Path, cmday_home: Path, lang: str, said: str):
    add_mention(cmday_home, "c1", "food poisoning after your cake", category="crisis", urgent=True)
    use_protocol(workspace, "[categories.complaint\nwords = ['x']\n")
    ran = cmday(workspace, "morning", "--lang", lang)
    assert ran.exit_code == ExitCode.CONFIG
    assert "CRISIS" in ran.stdout or "CRISIS" in ran.stdout.upper()
    shown = " ".join(ran.stdout.split())
    assert said in shown
    assert "protocols/acme.toml:1:" in shown
    quiet = cmday(workspace, "check", "--quiet", "--lang", lang)
    assert quiet.exit_code == ExitCode.CONFIG
    assert "protocols/acme.toml:1:" in quiet.stdout


def test_fetch_fetches_the_projects_that_load_and_names_the_broken_file(workspace: Path):
    break_other_brand(workspace)
    with time_machine.travel(NOW, tick=False):
        ran = run("fetch", "--workspace", str(workspace), "--json")
    assert ran.exit_code == ExitCode.CONFIG
    assert json.loads(ran.stdout)["errors"] == []
    assert "projects/forn.toml: project.tokn" in ran.stderr


@pytest.mark.parametrize(("lang", "said"), [("en", "the checklist could not be read"), ("es", "no se pudo leer la checklist")])
def test_a_broken_checklist_file_breaks_only_the_checklist(workspace: Path, cmday_home: Path, lang: str, said: str):
    add_mention(cmday_home, "u1", "I want a refund now", category="complaint", urgent=True)
    (workspace / "checklists").mkdir()
    (workspace / "checklists" / "morning.toml").write_text('drop = ["emial"]\n', encoding="utf-8")
    ran = cmday(workspace, "morning", "--lang", lang)
    assert ran.exit_code == ExitCode.CONFIG
    assert said in " ".join(ran.stdout.split())
    assert "checklists/morning.toml" in ran.stderr
    assert "I want a refund now" in ran.stdout


@pytest.mark.parametrize(("command", "shown"), [
    (("calendar",), "Acme Coffee  ·  calendar"),
    (("calendar", "check"), "Acme Coffee  ·  calendar check"),
    (("calendar", "due"), "Nothing is due."),
    (("calendar", "--json"), '"projects"'),
    (("sources",), "source  platform"),
    (("triage",), "acme: 0 open mentions re-classified"),
])
def test_every_command_over_all_brands_does_the_others_and_names_the_broken_file(workspace: Path, command: tuple[str, ...], shown: str):
    break_other_brand(workspace)
    ran = cmday(workspace, *command)
    assert ran.exit_code == ExitCode.CONFIG  # even where the command's own finding would say 10
    assert shown in ran.stdout + ran.stderr  # the brand that loads is worked on, not hidden by the other's typo
    assert "projects/forn.toml: project.tokn: unknown key 'tokn'" in " ".join(ran.stderr.split())
    assert "Traceback" not in ran.stderr


def test_a_command_for_one_brand_is_not_stopped_by_another_brands_file(workspace: Path):
    break_other_brand(workspace)
    ran = cmday(workspace, "kpi", "--project", "acme")
    assert ran.exit_code == 0, ran.stderr
    assert "forn" not in ran.stderr


def test_fetch_leaves_out_the_brand_whose_protocol_cannot_be_read_and_fetches_the_others(workspace: Path, cmday_home: Path):
    """Its mentions wait, unread, for the fix rather than be triaged without its own words; the other brand's come in."""
    use_protocol(workspace, "[categories.complaint\nwords = ['x']\n")
    (workspace / "imports").mkdir()
    (workspace / "imports" / "forn.csv").write_text("id;date;author;text\nf1;2026-11-30 10:00;marta;El pa de sègol és boníssim\n",
                                                    encoding="utf-8")
    (workspace / "projects" / "forn.toml").write_text(
        '[project]\nname = "Forn"\n\n[[sources]]\nid = "ig"\nplatform = "file"\npath = "imports/forn.csv"\nnetwork = "instagram"\n',
        encoding="utf-8")
    (workspace / "imports" / "acme.csv").write_text("id;date;author;text\na1;2026-11-30 10:00;ana;My order never came\n", encoding="utf-8")
    from tests.support.workspaces import add_source

    add_source(workspace, 'id = "ig"\nplatform = "file"\npath = "imports/acme.csv"\nnetwork = "instagram"\n')

    with time_machine.travel(NOW, tick=False):
        ran = run("fetch", "--workspace", str(workspace))
        again = run("fetch", "--workspace", str(workspace), "--json")

    assert ran.exit_code == ExitCode.CONFIG
    assert "forn/ig: 1 new" in ran.stderr
    assert "acme: not fetched: protocols/acme.toml:1:" in " ".join(ran.stderr.split())
    store = Store(cmday_home / "state.sqlite3")
    assert [m.text for m in store.mentions("forn", states=None)] == ["El pa de sègol és boníssim"]
    assert store.mentions("acme", states=None) == []  # waits for the fix: the next fetch reads it
    store.close()
    assert again.exit_code == ExitCode.CONFIG
    assert {"project": "acme", "source": None, "platform": None, "needs_auth": False}.items() <= json.loads(again.stdout)["errors"][0].items()
