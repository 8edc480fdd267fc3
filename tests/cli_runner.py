"""Running cmday's CLI in-process, as a user would type it."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from cmday.cli.app import build_app
from cmday.i18n import resolve_language, set_language


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Ran:
    argv = list(args)
    lang = argv[argv.index("--lang") + 1] if "--lang" in argv else None
    set_language(resolve_language(lang, None))
    runner = CliRunner()
    result = runner.invoke(build_app(), argv, input=input, env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)
