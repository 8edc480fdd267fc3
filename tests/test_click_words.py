"""Click's and Typer's own words (help, usage errors, prompts) follow the session's language."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cmday.cli import click_words
from cmday.i18n import set_language
from tests.cli_runner import run

REPO = Path(__file__).resolve().parents[1]


def cmday(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point, as the shell runs it: the language is read before Click parses anything."""
    environment = {**os.environ, "COLUMNS": "80", **(env or {})}
    return subprocess.run([sys.executable, "-m", "cmday", *args], capture_output=True, text=True, env=environment, cwd=REPO, timeout=60)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("morning", "--help", "--lang", "es"), {}),  # --lang after --help, which Click acts on first
        (("morning", "--help"), {"CMDAY_LANG": "es"}),
        (("--lang", "es", "morning", "--help"), {}),
    ],
)
def test_help_is_spanish_however_the_language_is_given(args: tuple[str, ...], env: dict[str, str]) -> None:
    shown = cmday(*args, env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Uso: cmday morning [OPCIONES]")
    assert "\nOpciones:\n" in shown.stdout
    assert "Muestra esta ayuda y sale." in shown.stdout
    for english in ("Usage:", "Options:", "Show this message", "<str>", "<path>"):
        assert english not in shown.stdout


def test_help_stays_english_without_a_language() -> None:
    shown = cmday("morning", "--help")
    assert shown.stdout.startswith("Usage: cmday morning [OPTIONS]")
    assert "Show this message and exit." in shown.stdout


def test_a_usage_error_is_spanish() -> None:
    shown = cmday("mark", "--lang", "es")
    assert shown.returncode == 2
    assert shown.stderr.splitlines() == [
        "Uso: cmday mark [OPCIONES] {ID} {state}",
        "Consulta la ayuda con 'cmday mark -h'.",
        "",
        "Error: Falta el argumento 'ID'.",
    ]


@pytest.mark.parametrize(
    ("args", "spanish"),
    [
        (("morning", "--demo", "--bogus"), "Error: No existe la opción --bogus"),
        (("mornin",), "Error: No existe el comando 'mornin'. ¿Querías decir 'morning'?"),
        (("calendar", "--demo", "--days", "mucho"), "Error: Valor no válido para '--days' / '-d': 'mucho' no es un número entero."),
        (("inbox", "--demo", "--since"), "Error: La opción '--since' necesita un valor."),
        (("done", "--demo", "news", "extra", "words"), "Error: Sobran argumentos: extra words"),
    ],
)
def test_usage_errors_are_spanish(args: tuple[str, ...], spanish: str) -> None:
    ran = run("--lang", "es", *args)
    assert ran.exit_code == 2
    assert spanish in ran.stderr.splitlines()


def test_a_usage_error_stays_english_without_a_language() -> None:
    ran = run("calendar", "--days", "mucho", "--demo")
    assert "Error: Invalid value for '--days' / '-d': 'mucho' is not a valid int range." in ran.stderr


def asking_app() -> typer.Typer:
    """A one-command app that asks what cmday's commands ask: a yes/no question, then a number."""
    click_words.install()
    app = typer.Typer(rich_markup_mode=None)  # as cmday's own app

    @app.command()
    def ask() -> None:
        answer = typer.confirm("¿Lo envío?", default=False)
        typer.echo(f"answer={answer}")
        number = typer.prompt("Objetivo", type=float)
        typer.echo(f"number={number}")

    return app


@pytest.mark.parametrize("yes", ["s", "sí", "si", "S", "y", "yes"])
def test_confirm_asks_and_understands_spanish(yes: str) -> None:
    set_language("es")
    result = CliRunner().invoke(asking_app(), [], input=f"quizá\n{yes}\nmucho\n3,5\n3.5\n")
    assert "¿Lo envío? [s/N]: " in result.stdout
    assert "[y/N]" not in result.stdout
    assert "Error: respuesta no válida (contesta s o n)" in result.stdout
    assert "answer=True" in result.stdout
    assert "Error: 'mucho' no es un número válido." in result.stdout
    assert "number=3.5" in result.stdout


def test_confirm_default_and_no_in_spanish() -> None:
    set_language("es")
    result = CliRunner().invoke(asking_app(), [], input="\n2\n")
    assert "answer=False" in result.stdout
    result = CliRunner().invoke(asking_app(), [], input="no\n2\n")
    assert "answer=False" in result.stdout


def test_confirm_stays_english_in_english() -> None:
    set_language("en")
    result = CliRunner().invoke(asking_app(), [], input="x\ny\nmuch\n2\n")
    assert "¿Lo envío? [y/N]: " in result.stdout
    assert "Error: invalid input (answer y or n)" in result.stdout
    assert "Error: 'much' is not a valid float." in result.stdout


def test_an_interrupted_prompt_says_cancelled_in_spanish() -> None:
    set_language("es")
    result = CliRunner().invoke(asking_app(), [], input="")  # end of input: Click aborts
    assert result.exit_code == 1
    assert "Cancelado." in result.output
    assert "Aborted" not in result.output


def test_a_spanish_workspace_gets_spanish_help_and_usage_errors(workspace: Path) -> None:
    (workspace / "cmday.toml").write_text('owner = "Ana"\nlanguage = "es"\n', encoding="utf-8")
    environment = {**os.environ, "COLUMNS": "80"}
    for args in (("morning", "--help"), ("morning", "--bogus")):
        shown = subprocess.run([sys.executable, "-m", "cmday", *args], capture_output=True, text=True, env=environment, cwd=workspace, timeout=60)
        assert (shown.stdout + shown.stderr).startswith("Uso: cmday morning [OPCIONES]"), shown.stdout + shown.stderr
    named = cmday("morning", "--help", "--workspace", str(workspace))
    assert named.stdout.startswith("Uso: ")
    assert cmday("morning", "--help", "--workspace", str(workspace), "--lang", "en").stdout.startswith("Usage: ")
