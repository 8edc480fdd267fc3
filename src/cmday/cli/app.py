"""The `cmday` command: the Typer app, every command group registered explicitly."""

from __future__ import annotations

import sys

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
    "sources",
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
    for name in COMMAND_GROUPS:
        importlib.import_module(f"cmday.cli.{name}").register(app)
    return app


def main() -> None:
    # Help texts are translated when commands are built, so the language is chosen first.
    set_language(resolve_language(_language_from_argv(sys.argv[1:]), None))
    build_app()(prog_name="cmday")
