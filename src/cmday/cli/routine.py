"""`cmday morning`, `cmday check`, `cmday close`: the three moments of the day."""

from __future__ import annotations

from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.errors import ExitCode
from cmday.i18n import _


def register(app: typer.Typer) -> None:
    command(app, "morning", help=_("Start of day: sweep, what is urgent, what came in overnight, today's plan."))(morning)
    command(app, "check", help=_("Every few hours: what is new, what is still unanswered and for how long."))(check)
    command(app, "close", help=_("End of day: tomorrow's schedule, what stays open, the day's summary."))(close)


def _run(options: Options, routine: str, quiet: bool = False) -> list:
    from cmday import clock
    from cmday import routine as views
    from cmday.cli import output, render
    from cmday.cli.sweep import sweep
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        projects = session.workspace.select(options.project)
        if not options.offline:
            sweep(session, projects, quiet=quiet or options.json)
        built = []
        for project in projects:
            day = session.day(project)
            view = getattr(views, routine)(day)
            if not quiet:
                # the moment this run had seen everything: what arrives after it is "new" next time
                session.store.record_run(project.slug, routine, clock.now())
            built.append(view)
        if options.json:
            output.print_json({"routine": routine, "projects": built})
        elif not quiet:
            for view in built:
                getattr(render, routine)(output.out, view)
        return built
    finally:
        session.close()


def morning(options: Options) -> None:
    _run(options, "morning")


def check(
    options: Options,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help=_("For cron: print nothing and exit 0 when nothing needs attention; else one line per item and exit 10."),
        ),
    ] = False,
) -> None:
    views = _run(options, "check", quiet=quiet)
    if quiet:
        from cmday.cli import output

        lines = [line for view in views for line in view.attention]
        if not options.json:
            for line in lines:
                output.out.print(line, soft_wrap=True)
        if lines:
            raise typer.Exit(int(ExitCode.ATTENTION))


def close(options: Options) -> None:
    _run(options, "close")
