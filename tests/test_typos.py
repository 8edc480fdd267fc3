"""Typos refused with a suggestion and nothing written; the common options before the command as after it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmday.errors import ExitCode
from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.support.workspaces import use_protocol

SUGGESTS = {"en": "did you mean {0!r}?", "es": "¿quisiste decir {0!r}?"}


def ws(workspace: Path, *args: str, lang: str = "en") -> object:
    return run(*args, "--workspace", str(workspace), "--lang", lang, "--offline")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_calendar_add_with_a_mistyped_platform_writes_nothing_and_suggests(workspace: Path, lang: str):
    project_file = workspace / "projects" / "acme.toml"
    before = project_file.read_text(encoding="utf-8")
    ran = ws(workspace, "calendar", "add", "--at", "2026-12-20T10:00", "--platform", "tiktokk", "--text", "hola", lang=lang)
    assert ran.exit_code == ExitCode.USAGE
    assert "'tiktokk'" in ran.stderr and "mastodon" in ran.stderr and "instagram" in ran.stderr
    assert SUGGESTS[lang].format("tiktok") in ran.stderr
    assert project_file.read_text(encoding="utf-8") == before


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_calendar_row_with_a_mistyped_platform_names_the_cell_and_suggests(workspace: Path, lang: str):
    (workspace / "plan.csv").write_text("fecha;plataforma;texto\n20/12/2026 10:00;instagam;hola\n", encoding="utf-8")
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(project_file.read_text(encoding="utf-8").replace('platforms = ["mastodon"]', 'platforms = ["mastodon"]\nfile = "plan.csv"'),
                            encoding="utf-8")
    ran = ws(workspace, "calendar", "check", lang=lang)
    assert ran.exit_code == ExitCode.CONFIG
    assert "plan.csv:2: plataforma:" in ran.stderr and "'instagam'" in ran.stderr
    assert SUGGESTS[lang].format("instagram") in ran.stderr


@pytest.mark.parametrize("lang", ["en", "es"])
def test_inbox_platform_typo_is_an_error_not_an_empty_inbox(workspace: Path, lang: str):
    ran = ws(workspace, "inbox", "--platform", "mastadon", lang=lang)
    assert ran.exit_code == ExitCode.USAGE
    assert "--platform" in ran.stderr and "'mastadon'" in ran.stderr
    assert SUGGESTS[lang].format("mastodon") in ran.stderr
    assert ran.stdout == ""


def test_a_projects_own_platform_is_known(workspace: Path):
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(project_file.read_text(encoding="utf-8").replace('platforms = ["mastodon"]', 'platforms = ["mastodon", "twitch"]'),
                            encoding="utf-8")
    assert ws(workspace, "inbox", "--platform", "twitch").exit_code == 0


@pytest.mark.parametrize("lang", ["en", "es"])
def test_kpi_set_with_a_mistyped_network_stores_nothing(workspace: Path, cmday_home: Path, lang: str):
    ran = run("kpi", "set", "followers.instgram", "12840", "--workspace", str(workspace), "--lang", lang)
    assert ran.exit_code == ExitCode.USAGE
    assert SUGGESTS[lang].format("instagram") in ran.stderr
    store = Store(cmday_home / "state.sqlite3")
    assert store.kpi_values("acme") == []
    store.close()


@pytest.mark.parametrize("before", [True, False])
def test_an_unknown_language_is_an_error_listing_en_and_es(before: bool):
    args = ["--lang", "fr", "morning", "--demo"] if before else ["morning", "--demo", "--lang", "fr"]
    ran = run(*args)
    assert ran.exit_code == ExitCode.USAGE
    assert "'fr'" in ran.stderr and "en, es" in ran.stderr
    assert ran.stdout == ""


@pytest.mark.parametrize("lang", ["en", "es"])
def test_escalating_to_an_unknown_contact_lists_the_contacts_and_leaves_the_mention_open(workspace: Path, cmday_home: Path, lang: str):
    use_protocol(workspace, '[escalation.contacts.client]\nname = "Marta"\nemail = "marta@acme.example"\n'
                            '[escalation.contacts.team]\nname = "Equipo"\n')
    store = Store(cmday_home / "state.sqlite3")
    at = datetime.now(UTC) - timedelta(minutes=5)
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "x1", "mention", "help", at, author_handle="@a@m.example")], None, at)
    mention = store.mentions("acme", states=None)[0].id
    store.close()
    ran = ws(workspace, "escalate", str(mention), "--to", "boss", lang=lang)
    assert ran.exit_code == ExitCode.USAGE
    assert "'boss'" in ran.stderr and "client, team" in ran.stderr
    store = Store(cmday_home / "state.sqlite3")
    assert store.mention(mention).state == "open"
    store.close()
    assert not (cmday_home / "outbox").exists()


@pytest.mark.parametrize("argv", [["--demo", "morning"], ["--json", "--demo", "inbox"], ["--demo", "--json", "check"], ["-p", "cafe-aroma", "--demo", "close"]])
def test_common_options_before_the_command_work_as_after_it(argv: list[str]):
    before = run(*argv)
    command = next(word for word in argv if not word.startswith("-") and word != "cafe-aroma")
    after = run(command, *[word for word in argv if word != command])
    assert before.exit_code == after.exit_code == 0, before.stderr
    if "--json" in argv:
        assert json.loads(before.stdout).keys() == json.loads(after.stdout).keys()
    else:
        assert before.stdout.splitlines()[1].split("·")[0] == after.stdout.splitlines()[1].split("·")[0]


def test_options_given_before_a_group_and_its_subcommand_both_count(workspace: Path):
    ran = run("--workspace", str(workspace), "calendar", "--json", "check", "--offline")
    assert ran.exit_code in (0, ExitCode.ATTENTION), ran.stderr
    json.loads(ran.stdout)


@pytest.mark.parametrize("group", ["protocol", "state", "demo"])
def test_a_group_without_an_action_takes_the_common_options_and_shows_its_help(group: str):
    ran = run(group, "--lang", "es")
    assert ran.exit_code == 0, ran.stderr
    assert "Uso:" in ran.stdout and "COMANDO" in ran.stdout


def test_the_common_options_before_a_subcommand_of_such_a_group_count(workspace: Path, cmday_home: Path):
    ran = run("protocol", "--workspace", str(workspace), "--lang", "es", "add-template", "--from", "999", "--name", "x")
    assert ran.exit_code == ExitCode.USAGE and "mención #999" in ran.stderr  # the group's --lang reached the subcommand
