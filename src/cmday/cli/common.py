"""The options every command takes after its name, the session they open, and the one error boundary."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from cmday.errors import CmdayError, ExitCode
from cmday.i18n import _, resolve_language, set_language


@dataclass
class Options:
    workspace: Path | None
    project: str | None
    json: bool
    demo: bool
    lang: str | None
    offline: bool
    debug: bool


def _common_parameters() -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY

    def option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
        return inspect.Parameter(name, keyword, default=default, annotation=annotation)

    return [
        option("workspace", Annotated[Path | None, typer.Option("--workspace", "-w", help=_("Workspace folder (holds cmday.toml)."), show_default=False)],
               None),
        option("project", Annotated[str | None, typer.Option("--project", "-p", help=_("Only this project (its slug)."), show_default=False)], None),
        option("json", Annotated[bool, typer.Option("--json", help=_("Print JSON on stdout instead of a dashboard."))], False),
        option("demo", Annotated[bool, typer.Option("--demo", help=_("Use the built-in demo workspace and its own state."))], False),
        option("lang", Annotated[str | None, typer.Option("--lang", help=_("Language: en or es."), show_default=False)], None),
        option("offline", Annotated[bool, typer.Option("--offline", help=_("Do not fetch; work from the local state."))], False),
        option("debug", Annotated[bool, typer.Option("--debug", help=_("Show full errors (tracebacks) and HTTP debug logs."))], False),
    ]


COMMON_NAMES = ("workspace", "project", "json", "demo", "lang", "offline", "debug")


def command(app: typer.Typer, name: str, help: str, **settings: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `function(options, ...)` as a command that also takes the common options."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        def run(**arguments: Any) -> Any:
            options = _with_group_options(Options(**{key: arguments.pop(key) for key in COMMON_NAMES}))
            return boundary(options, lambda: function(options, **arguments))

        _take_signature(run, function)
        app.command(name, help=help, **settings)(run)
        return function

    return register


def group_default(group: typer.Typer, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`function(options, ...)` runs when a group is called alone (`cmday kpi --week 2026-W47`).

    The common options given before a subcommand's name reach the subcommand too
    (`cmday calendar --project acme check`).
    """

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        def run(ctx: typer.Context, **arguments: Any) -> Any:
            global _group_options
            options = Options(**{key: arguments.pop(key) for key in COMMON_NAMES})
            if ctx.invoked_subcommand is not None:
                _group_options = options
                return None
            options = _with_group_options(options)
            return boundary(options, lambda: function(options, **arguments))

        context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
        _take_signature(run, function, leading=[context])
        group.callback(invoke_without_command=True, help=help)(run)
        return function

    return register


def group_options(group: typer.Typer) -> None:
    """A group with no action of its own (`cmday protocol`, `cmday state`) takes the common options before its
    subcommand as `group_default`'s do (`cmday protocol --lang es add-template ...`); alone, it shows its help."""

    def run(ctx: typer.Context, **arguments: Any) -> None:
        global _group_options
        _group_options = Options(**{key: arguments.pop(key) for key in COMMON_NAMES})
        if ctx.invoked_subcommand is None:
            typer.echo(ctx.get_help())
            raise typer.Exit(0)

    def takes_nothing() -> None: ...

    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    _take_signature(run, takes_nothing, leading=[context])
    group.callback(invoke_without_command=True)(run)


# The options given before the command's name (`cmday --demo morning`) and before a group's
# subcommand (`cmday calendar --project acme check`); one command runs per process.
_root_options: Options | None = None
_group_options: Options | None = None


def root_options(**given: Any) -> None:
    """What `cmday` itself was given before the command: it counts for the command as if typed after it."""
    global _root_options, _group_options
    _root_options = Options(**given)
    _group_options = None


def _with_group_options(options: Options) -> Options:
    for parent in (_group_options, _root_options):
        if parent is not None:
            options = Options(**{name: getattr(options, name) or getattr(parent, name) for name in COMMON_NAMES})
    return options


def common_options() -> list[inspect.Parameter]:
    """The common options, for the root callback that takes them before the command's name."""
    return _common_parameters()


def _take_signature(run: Callable[..., Any], function: Callable[..., Any], leading: list[inspect.Parameter] = ()) -> None:
    """Give `run` the command's own parameters, resolved in its module, followed by the common options."""
    signature = inspect.signature(function)
    hints = typing.get_type_hints(function, include_extras=True)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values() if p.name != "options"]
    run.__signature__ = signature.replace(parameters=[*leading, *own, *_common_parameters()])  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in run.__signature__.parameters.values()}  # type: ignore[attr-defined]
    run.__doc__ = function.__doc__
    run.__name__ = function.__name__


def boundary(options: Options, action: Callable[[], Any]) -> Any:
    """Where every error becomes one line on stderr and an exit status; --debug shows the traceback."""
    from cmday.cli import output
    from cmday.i18n import SUPPORTED_LANGUAGES
    from cmday.secrets import RedactingFilter, redact_exception

    if options.lang is not None and options.lang not in SUPPORTED_LANGUAGES:
        set_language(resolve_language(None, None))
        output.error(
            _("--lang {lang!r}: cmday speaks {languages}").format(lang=options.lang, languages=", ".join(SUPPORTED_LANGUAGES)),
            _("use --lang en or --lang es"),
        )
        raise typer.Exit(int(ExitCode.USAGE))
    set_language(resolve_language(options.lang, None))
    if options.debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter())
    from cmday.workspace import watch_passed_over

    passed_over = watch_passed_over()
    try:
        result = action()
    except CmdayError as failure:
        if options.debug:
            redact_exception(failure)
            raise
        _name_passed_over(output, passed_over)
        output.error(failure.message, failure.hint)
        raise typer.Exit(int(failure.exit_code)) from None
    except KeyboardInterrupt:
        output.error(_("interrupted; what was already stored is kept"))
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except typer.Abort as abort:
        # Click turns Ctrl-C at a prompt into Abort ("Aborted!", exit 1); the README promises 130
        if isinstance(abort.__context__, KeyboardInterrupt):
            output.err.print()
            output.error(_("interrupted; what was already stored is kept"))
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        raise
    except typer.Exit as leaving:
        if passed_over:  # the command ended by itself: say the files it left out, and that one could not be read
            _name_passed_over(output, passed_over)
            if leaving.exit_code in (0, ExitCode.ATTENTION):
                raise typer.Exit(int(ExitCode.CONFIG)) from None
        raise
    except Exception as failure:
        if options.debug:
            redact_exception(failure)
            raise
        output.error(
            _("unexpected error ({kind}); nothing stored was lost").format(kind=type(failure).__name__),
            _("run the command again with --debug to see the details, and report it"),
        )
        raise typer.Exit(int(ExitCode.ERROR)) from None
    finally:
        _say_what_was_made_private(output)
    if passed_over:
        _name_passed_over(output, passed_over)
        raise typer.Exit(int(ExitCode.CONFIG))  # the other projects were done; a project file could not be read
    return result


def _name_passed_over(output: Any, passed_over: dict) -> None:
    """One line on stderr for each broken project file the command left out while doing the others."""
    for project in passed_over.values():
        output.error(project.error.message, project.error.hint)


def _say_what_was_made_private(output: Any) -> None:
    from cmday.private import tightened

    for path, before, after in tightened():
        output.message(
            _("{path} was open to other users (mode {before:o}); cmday made it private (mode {after:o})").format(
                path=path, before=before, after=after
            ),
            style="yellow",
        )
