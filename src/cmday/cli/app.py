"""The `cmday` command: the Typer app, every command group registered explicitly."""

from __future__ import annotations

import gc
import os
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


def _workspace_language(argv: list[str]) -> str | None:
    """The `language` of the cmday.toml this command line will use, read before Click parses it.

    Help texts and Click's usage errors are made while parsing, before the session loads the workspace:
    without this a workspace with `language = "es"` would get English help. The folder is found as
    workspace.find_workspace finds it (not imported: too slow for `--help`), and read from what cmday.validated
    remembers of it when it has not changed. Never raises.
    """
    import os
    from pathlib import Path

    from cmday import validated

    try:
        if "--demo" in argv:
            return None
        named = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word in ("--workspace", "-w")]
        named += [word.split("=", 1)[1] for word in argv if word.startswith("--workspace=")]
        if named or os.environ.get("CMDAY_WORKSPACE"):
            folders = [Path(named[-1] if named else os.environ["CMDAY_WORKSPACE"]).expanduser()]
        else:
            import platformdirs

            here = Path.cwd().resolve()
            folders = [here, *here.parents, Path(platformdirs.user_config_dir("cmday", appauthor=False))]
        for folder in folders:
            config = folder / "cmday.toml"
            if config.is_file():
                remembered = validated.recall(config, "WorkspaceConfig", validated.file_key(config))
                if remembered is not None:
                    return remembered.language
                import tomllib

                language = tomllib.loads(config.read_text(encoding="utf-8")).get("language")
                return language if isinstance(language, str) else None
    except Exception:  # a broken cmday.toml is reported by the command itself, with its line
        return None
    return None


# Every command group, in the order `cmday --help` lists them, with the commands its `register(app)`
# adds: running one command builds only its group (building all of them costs ~40 ms a run).
# tests/test_init_and_help.py checks these names against what each module registers.
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "routine": ("morning", "check", "close"),
    "checklist": ("checklist", "done", "skip", "undo"),
    "respond": ("reply", "escalate", "lint", "triage", "protocol"),
    "inbox": ("fetch", "inbox", "show", "mark"),
    "moderation": ("hide", "unhide"),
    "team": ("assign", "unassign", "note", "state"),
    "work": ("work",),
    "calendar": ("calendar", "utm", "publish"),
    "sources": ("sources", "auth"),
    "kpi": ("kpi",),
    "report": ("report",),
    "workspace": ("init", "where"),
    "demo": ("demo",),
}


# Root options that take a value: the word after them is not the command's name.
_VALUED = ("--lang", "--workspace", "-w", "--project", "-p")


def _command_in(argv: list[str]) -> str | None:
    """The command a command line names: the first word that is not a root option or its value."""
    words = iter(argv)
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_app(command: str | None = None) -> typer.Typer:
    """The app with every command group, or only the group of `command` when it names a known one."""
    import importlib
    import inspect

    from cmday.cli import click_words, common

    click_words.install()
    app = typer.Typer(
        name="cmday",
        help=_("The community manager's daily routine: `cmday morning`, `cmday check` every few hours, `cmday close`."),
        no_args_is_help=True,
        add_completion=True,  # --install-completion / --show-completion (README: Shell completion)
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    def root(**given) -> None:
        """The common options are also accepted before the command (`cmday --demo morning`): they count for it too."""
        common.root_options(**given)

    common_parameters = common.common_options()
    root.__signature__ = inspect.Signature(common_parameters)  # type: ignore[attr-defined]
    root.__annotations__ = {p.name: p.annotation for p in common_parameters}
    app.callback()(root)

    groups = [group for group, commands in COMMAND_GROUPS.items() if command in commands] or list(COMMAND_GROUPS)
    for group in groups:
        importlib.import_module(f"cmday.cli.{group}").register(app)
    return app


def main() -> None:
    # pydantic looks for plugins in every installed package's metadata (~12 ms) before building its first
    # validator; cmday uses none. Setting the variable to "" (or a list of names) brings them back.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # Help texts are translated when commands are built, so the language is chosen first.
    set_language(resolve_language(_language_from_argv(sys.argv[1:]), _workspace_language(sys.argv[1:])))
    try:
        build_app(_command_in(sys.argv[1:]))(prog_name="cmday")
    except KeyboardInterrupt:  # before a command's own boundary: while starting or parsing
        from cmday.cli import output
        from cmday.errors import ExitCode

        output.error(_("interrupted; what was already stored is kept"))
        sys.exit(int(ExitCode.INTERRUPTED))
    finally:
        # Python's exit collects garbage over every object still alive, pydantic's, Typer's and Rich's among
        # them: ~50 ms of a command that took 300. Frozen, they are left to the process's end; what cmday
        # writes is closed by then (the state by the session, files as they are written), and the exit
        # still flushes the output and runs atexit.
        gc.freeze()
