"""Running a fetch from the command line, with a live line per source on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmday.cli import output
from cmday.i18n import _
from cmday.models import Project
from cmday.session import Session

if TYPE_CHECKING:
    from cmday.sync import FetchReport


def sweep(session: Session, projects: list[Project], only_source: str | None = None, quiet: bool = False) -> list[FetchReport]:
    """Fetch every project's sources; a source that fails is reported, never stops the others."""
    if not any(s.enabled for p in projects for s in p.sources):
        return []  # nothing to fetch: skip loading asyncio and the adapters
    from cmday.sync import fetch_project

    reports = []
    live = output.err.is_terminal and not quiet
    for project in projects:
        if only_source is not None and project.source(only_source) is None:
            continue
        if live:
            reports.append(_with_progress(session, project, only_source, fetch_project))
        else:
            reports.append(fetch_project(session.store, session.workspace, project, session.protocol(project), only_source))
    if not quiet:
        for report in reports:
            for result in report.results:
                for note in result.notes:
                    output.message(_("{project}/{source}: {note}").format(project=report.project, source=result.source_id, note=note), style="yellow")
    return reports


def _with_progress(session: Session, project: Project, only_source: str | None, fetch_project) -> FetchReport:
    """One line per source while the sweep runs: waiting, fetching, done or failed."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    sources = [s for s in project.sources if s.enabled and (only_source is None or s.id == only_source)]
    columns = (SpinnerColumn(finished_text=" "), TextColumn("{task.description}"))
    with Progress(*columns, console=output.err, transient=True) as progress:
        tasks = {s.id: progress.add_task(_("{project}/{source}: waiting").format(project=project.slug, source=s.id), total=1) for s in sources}
        labels = {"start": _("fetching…"), "done": _("done"), "failed": _("failed")}

        def update(source_id: str, event: str) -> None:
            progress.update(
                tasks[source_id],
                description=f"{project.slug}/{source_id}: {labels[event]}",
                completed=1 if event in ("done", "failed") else 0,
            )

        return fetch_project(session.store, session.workspace, project, session.protocol(project), only_source, update)
