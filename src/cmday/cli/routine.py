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


def _run(options: Options, routine: str, quiet: bool = False, notify: bool = False, compact: bool = False) -> tuple[list, list]:
    """Every project's view, and a banner for each project whose file does not load (never hiding the others)."""
    from cmday import routine as views
    from cmday.cli import output, render
    from cmday.cli.sweep import sweep
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        projects = session.workspace.select(options.project)
        broken = [
            views.BrokenView(b.slug, b.file, views.FileProblem.of("project", b.error), routine)
            for b in session.workspace.broken.values()
            if options.project is None
        ]
        # built before the sweep: a project whose protocol file fails sweeps with the default one
        days = [session.day(project, keep_going=True) for project in projects]
        if not options.offline:
            sweep(session, projects, quiet=quiet or options.json)
        built = []
        for day in days:
            built.append(views.routine_view(day, routine, counted=not quiet))
            if notify:
                _notify(session, day)
        if options.json:
            output.print_json({"routine": routine, "projects": built, "broken": broken})
        elif not quiet:
            drawing = getattr(render, f"{routine}_compact" if compact else routine)

            def draw(console) -> None:
                for view in _in_file_order(session.workspace, built, broken):
                    if isinstance(view, views.BrokenView):
                        render.broken(console, view)
                    else:
                        drawing(console, view)

            output.paged(draw)
        return built, broken
    finally:
        session.close()


def _notify(session, day) -> None:
    """Send what is new through the protocol's routes; each failure one line on stderr (cron mails it)."""
    from cmday import clock
    from cmday.cli import output
    from cmday.notify import send_new

    _sent, failed = send_new(day, session.outbox, clock.now())
    for problem in failed:
        output.error(_("{project}: not notified ({item}): {error}").format(project=day.slug, item=problem.item, error=problem.error))


def _in_file_order(workspace, built: list, broken: list) -> list:
    """Dashboards and banners in the order of the project files, as the CM sees them in projects/."""
    def file_name(view) -> str:
        if hasattr(view, "file"):
            return view.file
        path = workspace.project_files.get(view.header.project)
        return str(path.name) if path else view.header.project

    from pathlib import Path

    return sorted([*built, *broken], key=lambda view: Path(file_name(view)).name)


def _exit_for_problems(views: list, broken: list, debug: bool = False) -> None:
    """Exit 3 once everything is shown when a calendar, protocol or checklist file could not be read, each error on stderr as one line."""
    from cmday.cli import output

    if debug and broken:
        from cmday.errors import ConfigError

        raise ConfigError(broken[0].problem.error, broken[0].problem.hint)  # --debug: a traceback, as for any error
    problems = [p for view in views for p in view.file_problems]  # a broken project file: named by the boundary
    for problem in problems:
        output.error(problem.error, problem.hint)
    if problems:
        raise typer.Exit(int(ExitCode.CONFIG))


COMPACT = typer.Option("--compact", help=_("One line per section and per mention."))


def morning(options: Options, compact: Annotated[bool, COMPACT] = False) -> None:
    _exit_for_problems(*_run(options, "morning", compact=compact), debug=options.debug)


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
    notify: Annotated[
        bool,
        typer.Option(
            "--notify",
            help=_("Also send each new crisis, late mention or source to log in again through the protocol's escalation routes, once."),
        ),
    ] = False,
    compact: Annotated[bool, COMPACT] = False,
) -> None:
    views, broken = _run(options, "check", quiet=quiet, notify=notify, compact=compact)
    if quiet:
        from cmday.cli import output
        from cmday.routine import broken_attention

        lines = [broken_attention(b) for b in broken] + [line for view in views for line in view.attention]
        if not options.json:
            for line in lines:
                output.out.print(line, soft_wrap=True)
        _exit_for_problems(views, broken, debug=options.debug)
        if lines:
            raise typer.Exit(int(ExitCode.ATTENTION))
    _exit_for_problems(views, broken, debug=options.debug)


def close(options: Options, compact: Annotated[bool, COMPACT] = False) -> None:
    _exit_for_problems(*_run(options, "close", compact=compact), debug=options.debug)
