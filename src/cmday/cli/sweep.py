"""Running a fetch from the command line, with a live line per source on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmday.cli import output
from cmday.errors import ConfigError
from cmday.i18n import _
from cmday.session import Session

if TYPE_CHECKING:
    from cmday.models import Project
    from cmday.sync import FetchReport


def sweep(session: Session, projects: list[Project], only_source: str | None = None, quiet: bool = False) -> list[FetchReport]:
    """Fetch every project's sources in one sweep; a source that fails is reported, never stops the others."""
    projects = [p for p in projects if only_source is None or p.source(only_source) is not None]
    if not any(s.enabled for p in projects for s in p.sources):
        return []  # nothing to fetch: skip loading asyncio and the adapters
    from cmday.sync import FetchReport, fetch_projects

    chosen, not_fetched = [], []
    for project in projects:
        try:
            chosen.append((project, session.protocol(project)))
        except ConfigError as error:
            # Its mentions wait for the fix, unread, rather than be triaged without the brand's own words;
            # its cursors stay, so the next fetch reads them. The other brands are fetched.
            not_fetched.append(FetchReport(project.slug, session.now, [], not_fetched=error.message))
    if output.err.is_terminal and not quiet:
        reports = _with_progress(session, chosen, only_source, fetch_projects)
    else:
        reports = fetch_projects(session.store, session.workspace, chosen, only_source)
    reports += not_fetched
    if not quiet:
        for report in reports:
            for result in report.results:
                for note in result.notes:
                    output.message(_("{project}/{source}: {note}").format(project=report.project, source=result.source_id, note=note), style="yellow")
    return reports


def _with_progress(session: Session, chosen: list, only_source: str | None, fetch_projects) -> list[FetchReport]:
    """One line per source of every project while the sweep runs: waiting, fetching, done or failed."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from cmday.sync import sources_to_fetch

    columns = (SpinnerColumn(finished_text=" "), TextColumn("{task.description}"))
    with Progress(*columns, console=output.err, transient=True) as progress:
        tasks = {
            (project.slug, s.id): progress.add_task(_("{project}/{source}: waiting").format(project=project.slug, source=s.id), total=1)
            for project, _protocol in chosen
            for s in sources_to_fetch(project, only_source)
        }
        labels = {"start": _("fetching…"), "done": _("done"), "failed": _("failed")}

        def update(project_slug: str, source_id: str, event: str) -> None:
            progress.update(
                tasks[project_slug, source_id],
                description=f"{project_slug}/{source_id}: {labels[event]}",
                completed=1 if event in ("done", "failed") else 0,
            )

        return fetch_projects(session.store, session.workspace, chosen, only_source, update)
