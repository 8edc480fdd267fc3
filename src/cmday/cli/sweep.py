"""Running a fetch from the command line, with a live line per source on a terminal."""

from __future__ import annotations

from cmday.cli import output
from cmday.i18n import _
from cmday.models import Project
from cmday.session import Session
from cmday.sync import FetchReport, fetch_project


def sweep(session: Session, projects: list[Project], only_source: str | None = None, quiet: bool = False) -> list[FetchReport]:
    """Fetch every project's sources; a source that fails is reported, never stops the others."""
    reports = []
    live = output.err.is_terminal and not quiet
    for project in projects:
        if only_source is not None and project.source(only_source) is None:
            continue
        if live:
            with output.err.status(_("{project}: fetching…").format(project=project.name)) as status:

                def progress(source_id: str, event: str, status=status, project=project) -> None:
                    if event == "start":
                        status.update(_("{project}: fetching {source}…").format(project=project.name, source=source_id))

                reports.append(fetch_project(session.store, session.workspace, project, session.protocol(project), only_source, progress))
        else:
            reports.append(fetch_project(session.store, session.workspace, project, session.protocol(project), only_source))
    return reports
