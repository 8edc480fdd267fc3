"""The `cmday` command: the Typer app, every command group registered explicitly."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cmday.i18n import _, resolve_language, set_language


def _language_from_argv(argv: list[str]) -> str | None:
    for index, argument in enumerate(argv):
        if argument == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--lang="):
            return argument.split("=", 1)[1]
    return None


# Every command group, in the order `cmday --help` lists them; each module has `register(app)`.
COMMAND_GROUPS = (
    "routine",
    "checklist",
    "respond",
    "inbox",
    "calendar",
    "sources",
    "kpi",
    "report",
    "workspace",
    "demo",
)


def build_app() -> typer.Typer:
    import importlib

    app = typer.Typer(
        name="cmday",
        help=_("The community manager's daily routine: `cmday morning`, `cmday check` every few hours, `cmday close`."),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @app.callback()
    def root(
        lang: Annotated[str | None, typer.Option("--lang", help=_("Language: en or es."), show_default=False)] = None,
    ) -> None:
        """Also accepted before the command (`cmday --lang es morning`): it then counts for the command too."""
        if lang:
            import os

            os.environ["CMDAY_LANG"] = lang

    for name in COMMAND_GROUPS:
        importlib.import_module(f"cmday.cli.{name}").register(app)
    return app


def main() -> None:
    # Help texts are translated when commands are built, so the language is chosen first.
    set_language(resolve_language(_language_from_argv(sys.argv[1:]), None))
    build_app()(prog_name="cmday")
