"""Every help and every dashboard in Spanish: no English left on screen, from Click's words to a post's status."""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
import tempfile

import pytest

from tests.cli_runner import run
from tests.test_i18n import spanish_catalog
from tests.test_init_and_help import all_commands

# Click's and Typer's own words, and the English that issue 15 found on Spanish screens.
ENGLISH = [
    "Usage:", "Options:", "Commands:", "Arguments:", "Show this message and exit.", "Aborted", "invalid input",
    "is not a valid", "[default:", "[required]", "[env var:", "[OPTIONS]", "COMMAND [ARGS]", "Try '",
    "<str>", "<path>", "<int>", "<float>", "<text>", "[Y/n]", "[y/N]",
    "Checklist morning", "Checklist check", "Checklist close", "checklist morning", "mañana  ·", "Nuevo desde",
    "Para todo lo demás", "acordad", "vuelve a iniciar sesión", "Urgent first", "Since the last close",
    "Today's calendar", "Morning checklist", "Nothing new", "Tomorrow", "Open overnight", "The day",
]
# A status or state where a table or heading shows it: between a table's column gaps, or as a heading.
ENGLISH_STATES = [
    re.compile(r"  (draft|ready|scheduled|published|missing)  "),  # "idea" is Spanish too
    re.compile(r"· (open|answered|escalated|snoozed|ignored|all) \("),
    re.compile(r"\b(sigue en|estado:) (draft|ready|scheduled|published)\b"),
    re.compile(r"por categoría: .*\b(complaint|question|request|praise|mention)\b", re.IGNORECASE),
    re.compile(r"\b1 (menciones|errores|avisos|notas|días|publicaciones|nuevas)\b"),
]

DASHBOARDS = [
    ("morning",), ("check",), ("close",), ("inbox",), ("inbox", "--state", "all"), ("calendar",),
    ("calendar", "check", "--offline"), ("kpi",), ("checklist",), ("checklist", "morning"), ("sources",), ("where",),
]


COMMAND_WORDS = {word for path, _command in all_commands() for word in path}


def english_phrases() -> list[str]:
    """Our own English that Spanish replaces: each translated message's longer literal parts."""
    phrases = []
    for entry in spanish_catalog():
        if not entry.id or entry.context:
            continue
        pairs = zip(entry.id, entry.string, strict=False) if isinstance(entry.id, tuple) else [(entry.id, entry.string)]
        for english, spanish in pairs:
            for literal, *_rest in string.Formatter().parse(english):
                literal = literal.strip(" :·—()")
                # several words, and not kept as is in Spanish (a command, an option, a key)
                if len(literal) >= 12 and " " in literal and literal not in spanish and "`" not in literal \
                        and not set(literal.split()) <= COMMAND_WORDS:  # "calendar check" is a command too
                    phrases.append(literal)
    return sorted(set(phrases))


PHRASES = english_phrases()


def english_on(screen: str) -> list[str]:
    found = [word for word in ENGLISH if word in screen]
    found += [m.group(0) for pattern in ENGLISH_STATES for m in pattern.finditer(screen)]
    found += [phrase for phrase in PHRASES if phrase in screen]
    return found


def test_the_check_finds_english() -> None:
    assert len(PHRASES) > 100  # the catalogue's English is in the list
    english = run("morning", "--demo").stdout
    assert {"Urgent first", "Morning checklist"} <= set(english_on(english))
    assert english_on("17:30  mastodon  ready  Our new shop") == ["  ready  "]
    assert english_on("Café Aroma · open (11)") == ["· open ("]
    assert english_on("¿Lo envío? [Y/n]") == ["[Y/n]"]


# Help texts are translated when a command module is imported, and Rich reads COLUMNS once: a process
# that starts in Spanish at 200 columns, as `cmday ... --lang es` does, renders every help and dashboard
# (this process imported the modules in English at 80 columns).
SCREENS_SCRIPT = """
import json, sys
from cmday.i18n import set_language
set_language("es")
from typer.testing import CliRunner
from cmday.cli.app import build_app
shown = {}
for argv in json.loads(sys.argv[1]):
    result = CliRunner().invoke(build_app(), [*argv, "--lang", "es"])
    shown[" ".join(argv)] = [result.exit_code, result.stdout + result.stderr]
print(json.dumps(shown))
"""
COMMAND_PATHS = [[], *(path for path, _command in all_commands())]


def spanish_screens(command_lines: list[list[str]]) -> dict[str, list]:
    done = subprocess.run(
        [sys.executable, "-c", SCREENS_SCRIPT, json.dumps(command_lines)], capture_output=True, text=True, timeout=300,
        check=True, env={**os.environ, "CMDAY_HOME": tempfile.mkdtemp(), "COLUMNS": "200"},
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def spanish_help() -> dict[str, list]:
    return spanish_screens([[*path, "--help"] for path in COMMAND_PATHS])


@pytest.fixture(scope="module")
def wide_dashboards() -> dict[str, list]:
    return spanish_screens([["morning", "--demo"], *([*dashboard, "--demo"] for dashboard in DASHBOARDS)])


@pytest.mark.parametrize("path", [" ".join(path) for path in COMMAND_PATHS], ids=lambda p: p or "cmday")
def test_help_is_all_spanish(spanish_help: dict[str, list], path: str) -> None:
    exit_code, screen = spanish_help[f"{path} --help".strip()]
    assert exit_code == 0, screen
    assert screen.startswith("Uso: cmday ")
    assert not english_on(screen), english_on(screen)


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=" ".join)
def test_dashboards_are_all_spanish_at_80_columns(dashboard: tuple[str, ...]) -> None:
    run("morning", "--demo")  # the sweep that brings the demo's mentions in
    shown = run(*dashboard, "--demo", "--lang", "es")
    assert shown.exit_code in (0, 10), shown.stderr  # calendar check exits 10 on a problem found
    screen = shown.stdout + shown.stderr
    assert screen.strip()
    found = english_on(screen)
    assert not found, found


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=" ".join)
def test_dashboards_are_all_spanish_when_nothing_wraps(wide_dashboards: dict[str, list], dashboard: tuple[str, ...]) -> None:
    exit_code, screen = wide_dashboards[" ".join([*dashboard, "--demo"])]
    assert exit_code in (0, 10), screen
    found = english_on(screen)
    assert not found, found
