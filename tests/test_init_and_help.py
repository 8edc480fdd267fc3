"""`cmday init`, `cmday where`, and help text for every command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cmday.cli.app import build_app
from cmday.workspace import load_workspace
from tests.cli_runner import run


def test_init_without_input_writes_a_commented_template_that_loads(tmp_path: Path):
    ran = run("init", str(tmp_path / "ws"), "--no-input")
    assert ran.exit_code == 0, ran.stderr
    project_file = tmp_path / "ws" / "projects" / "my-brand.toml"
    text = project_file.read_text(encoding="utf-8")
    assert text.count("#") > 20 and "[knowledge]" in text and "taboo_topics" in text
    loaded = load_workspace(tmp_path / "ws")
    assert loaded.config.default_project == "my-brand"
    assert list(loaded.projects) == ["my-brand"]


def test_init_in_spanish_writes_spanish_comments(tmp_path: Path):
    run("init", str(tmp_path / "ws"), "--no-input", "--lang", "es")
    text = (tmp_path / "ws" / "projects" / "mi-marca.toml").read_text(encoding="utf-8")
    assert "El cuestionario de la marca" in text
    assert 'language = "es"' in (tmp_path / "ws" / "cmday.toml").read_text(encoding="utf-8")


def test_init_never_overwrites(tmp_path: Path):
    root = tmp_path / "ws"
    run("init", str(root), "--no-input")
    (root / "cmday.toml").write_text('owner = "Me"\n', encoding="utf-8")
    ran = run("init", str(root), "--no-input")
    assert ran.exit_code == 0
    assert "kept" in ran.stderr
    assert (root / "cmday.toml").read_text(encoding="utf-8") == 'owner = "Me"\n'


def answer_in_a_terminal(argv: list[str], answers: str, timeout: float = 30) -> tuple[int, str]:
    """Run the installed cmday on a real pseudo-terminal, typing the answers, as a person would."""
    import os
    import pty
    import time

    executable = str(Path(sys.executable).parent / "cmday")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(executable, [executable, *argv])
    os.write(fd, answers.encode("utf-8"))
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


def test_init_asks_the_brand_questionnaire_on_a_terminal(tmp_path: Path):
    answers = "\n".join([
        "Lucía",                      # owner
        "Panadería Sol",              # brand
        "Sol S.L.",                   # client
        "Mars/Base",                  # bad zone: asked again
        "Europe/Madrid",
        "pan, bollería",              # services
        "vecinos del barrio",         # audience
        "Horno Luna",                 # competitors
        "pan de masa madre",          # push
        "política, fútbol",           # taboo
        "buen pan, colas largas",     # what people say
        "followers.instagram",        # kpi
        "5000",                       # target
    ]) + "\n"
    code, screen = answer_in_a_terminal(["init", str(tmp_path / "ws")], answers)
    assert code == 0, screen
    assert "What topics must never be published or discussed?" in screen
    assert "unknown time zone 'Mars/Base'" in screen
    project = load_workspace(tmp_path / "ws").projects["panaderia-sol"]
    assert project.knowledge.taboo_topics == ["política", "fútbol"]
    assert project.objectives[0].kpi == "followers.instagram" and project.objectives[0].target == 5000
    assert project.project.timezone == "Europe/Madrid"


def test_where_prints_workspace_and_state(workspace: Path, cmday_home: Path):
    ran = run("where", "--workspace", str(workspace), "--json")
    info = json.loads(ran.stdout)
    assert info["workspace"] == str(workspace.resolve())
    assert info["state"] == str(cmday_home / "state.sqlite3")


def test_where_without_workspace_still_shows_the_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    ran = run("where")
    assert ran.exit_code == 0
    assert "none found" in ran.stdout


def all_commands():
    app = build_app()
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            for sub in command.commands:
                yield [name, sub], command.commands[sub]
        else:
            yield [name], command


@pytest.mark.parametrize("path,command", list(all_commands()), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_every_command_has_help_and_the_common_options(path, command):
    assert command.help and len(command.help) > 10
    ran = run(*path, "--help")
    assert ran.exit_code == 0
    for option in ("--workspace", "--project", "--json", "--demo", "--lang", "--offline"):
        assert option in ran.stdout, (path, option)
    for parameter in command.params:
        assert getattr(parameter, "help", None) or parameter.param_type_name == "argument", (path, parameter.name)


def test_each_group_registers_exactly_the_commands_app_py_lists():
    import importlib

    import typer
    import typer.main

    from cmday.cli.app import COMMAND_GROUPS

    for group, commands in COMMAND_GROUPS.items():
        app = typer.Typer()

        @app.callback()
        def root() -> None:
            """A group, so that one command is not promoted to the whole app."""

        importlib.import_module(f"cmday.cli.{group}").register(app)
        assert set(typer.main.get_command(app).commands) == set(commands), group


def test_a_command_runs_with_only_its_group_built():
    ran = run("where", "--json")
    assert ran.exit_code == 0
    from cmday.cli.app import _command_in

    assert _command_in(["--lang", "es", "morning", "--demo"]) == "morning"
    assert _command_in(["--help"]) is None
