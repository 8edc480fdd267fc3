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
            with output.err.status(_("{project}: fetching…").format(project=project.name)) as status:

                def progress(source_id: str, event: str, status=status, project=project) -> None:
                    if event == "start":
                        status.update(_("{project}: fetching {source}…").format(project=project.name, source=source_id))

                reports.append(fetch_project(session.store, session.workspace, project, session.protocol(project), only_source, progress))
        else:
            reports.append(fetch_project(session.store, session.workspace, project, session.protocol(project), only_source))
    return reports
