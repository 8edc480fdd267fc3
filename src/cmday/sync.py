"""Fetching: every source of the projects a command covers at once, triaged and stored batch by batch with its cursor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cmday import clock
from cmday.errors import CmdayError, StateError
from cmday.i18n import _, ngettext
from cmday.mention import INCOMPLETE
from cmday.protocol import PATTERN_SECONDS, Protocol
from cmday.secrets import redact
from cmday.sources import Measures, Verifies, adapter_module, can, connect, http_client_for, parses_in_workers, uses_network
from cmday.sources.base import AuthenticationFailed
from cmday.store import Store
from cmday.textsafe import one_line
from cmday.triage import Triage
from cmday.workers import WorkerPool, workers_for
from cmday.workspace import Workspace

if TYPE_CHECKING:
    from cmday.models import Project

SOURCE_TIMEOUT_SECONDS = 90.0


@dataclass
class SourceResult:
    source_id: str
    platform: str
    new: int = 0
    error: str | None = None
    needs_auth: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    more_to_read: bool = False  # stopped early (page or time limit): the next fetch carries on where this one stopped
    incomplete: list[str] = field(default_factory=list)  # platform ids kept without a readable time or author


@dataclass
class FetchReport:
    project: str
    started: datetime
    results: list[SourceResult]
    not_fetched: str = ""  # why none of the project's sources was fetched (its protocol file cannot be read)

    @property
    def new(self) -> int:
        return sum(r.new for r in self.results)

    @property
    def errors(self) -> list[SourceResult]:
        return [r for r in self.results if r.error]


Progress = Callable[[str, str, str], None]  # (project slug, source id, "start" | "done" | "failed")


def fetch_project(
    store: Store,
    workspace: Workspace,
    project: Project,
    protocol: Protocol,
    only_source: str | None = None,
    progress: Progress | None = None,
    http_options: dict | None = None,
) -> FetchReport:
    """One project's sweep: `fetch_projects` with one project."""
    [report] = fetch_projects(store, workspace, [(project, protocol)], only_source, progress, http_options)
    return report


def fetch_projects(
    store: Store,
    workspace: Workspace,
    projects: list[tuple[Project, Protocol]],
    only_source: str | None = None,
    progress: Progress | None = None,
    http_options: dict | None = None,
) -> list[FetchReport]:
    """Every source of these projects at once, in one event loop and one HTTP client (its connections kept
    per host), at most `fetch_concurrency` of them in flight across all projects: twelve brands of five
    sources take about as long as the slowest source, not twelve times one brand. Each project keeps its
    own triage, zone, cursors and report; a source that fails is reported and never stops the others."""
    return asyncio.run(_fetch_projects(store, workspace, projects, only_source, progress, dict(http_options or {})))


@dataclass
class _Sweep:
    """What every source of one sweep shares, whichever project it belongs to."""

    store: Store
    workspace: Workspace
    http: Any
    started: datetime
    demo_anchor: str | None
    timeout: float
    limit: asyncio.Semaphore  # one bound over every project's sources
    progress: Progress | None
    workers: WorkerPool  # where feeds are parsed, beside this process's own core


@dataclass
class _ProjectRun:
    """What one project's sources share in a sweep, and no other project's: its triage, zone and run state."""

    project: Project
    triage: Triage
    zone: ZoneInfo
    shared: dict = field(default_factory=dict)  # a Bluesky login used by two of its sources, never another brand's


async def _fetch_projects(
    store: Store,
    workspace: Workspace,
    projects: list[tuple[Project, Protocol]],
    only_source: str | None,
    progress: Progress | None,
    http_options: dict,
) -> list[FetchReport]:
    started = clock.now()
    chosen = [(project, protocol, sources_to_fetch(project, only_source)) for project, protocol in projects]
    every_source = [source for _project, _protocol, sources in chosen for source in sources]
    if not every_source:
        return [FetchReport(project=project.slug, started=started, results=[]) for project, _protocol, _sources in chosen]
    timeout = http_options.pop("source_timeout", SOURCE_TIMEOUT_SECONDS)
    parsing = {source.platform for source in every_source if parses_in_workers(source.platform)}
    parsed_sources = sum(source.platform in parsing for source in every_source)
    concurrency = workspace.config.fetch_concurrency
    first_requests = min(concurrency, sum(uses_network(source.platform) for source in every_source))
    async with http_client_for(every_source, http_options) as http, WorkerPool(
        workers_for(parsed_sources),
        preload=tuple(sorted(adapter_module(p) for p in parsing)),
        start_after=(lambda: http.until_requests_sent(first_requests)) if http is not None else None,
    ) as workers:
        sweep = _Sweep(store, workspace, http, started, store.meta("demo_anchor"), timeout,
                       asyncio.Semaphore(concurrency), progress, workers)

        async def fetch_one(project: Project, protocol: Protocol, sources: list) -> FetchReport:
            run = _ProjectRun(project, Triage.for_project(project, protocol), workspace.project_zone(project))
            results = await asyncio.gather(*(_fetch_source(sweep, run, source) for source in sources))
            return FetchReport(project=project.slug, started=started, results=list(results))

        return list(await asyncio.gather(*(fetch_one(*chosen_one) for chosen_one in chosen)))


async def _fetch_source(sweep: _Sweep, run: _ProjectRun, source: Any) -> SourceResult:
    """One source, once a place in the sweep's bound is free: its batches triaged and stored, or its error kept."""
    store, project, triage = sweep.store, run.project, run.triage
    result = SourceResult(source.id, source.platform)
    stored_some = False
    async with sweep.limit:
        if sweep.progress:
            sweep.progress(project.slug, source.id, "start")
        try:
            async with asyncio.timeout(sweep.timeout):
                adapter = connect(source, project_slug=project.slug, workspace_root=sweep.workspace.root, zone=run.zone,
                                  http=sweep.http, now=sweep.started, demo_anchor=sweep.demo_anchor, shared=run.shared,
                                  offload=sweep.workers.run)
                mark = store.cursor(project.slug, source.id)  # where this fetch may move the cursor from
                async for batch in adapter.fetch(mark):
                    for mention in batch.mentions:
                        triage.apply(mention)
                        if set(mention.flags) & set(INCOMPLETE):
                            result.incomplete.append(mention.platform_id)
                    for where in triage.slow_patterns():
                        result.notes.append(
                            _("a protocol pattern took over {seconds} s on one mention and is left out until "
                              "the next fetch; simplify it: {where}").format(seconds=PATTERN_SECONDS, where=where)
                        )
                    result.new += store.save_batch(
                        project.slug, source.id, source.platform, batch.mentions, batch.cursor, sweep.started, moving_from=mark
                    )
                    if batch.cursor is not None and store.cursor(project.slug, source.id) == batch.cursor:
                        mark = batch.cursor  # moved: the next batch moves it on from here
                    for key, value in batch.counts.items():
                        result.counts[key] = result.counts.get(key, 0) + value
                    result.notes.extend(batch.notes)
                    result.more_to_read = result.more_to_read or batch.more_to_read
                    stored_some = True
                if can(source.platform, Measures):  # on the class: isinstance with a Protocol costs ~0.2 ms a source
                    from cmday.publishing import snapshot_account  # with the sending code: only where engagement is measured

                    await snapshot_account(store, project, source, adapter, sweep.started, sweep.workspace, result.notes)
        except TimeoutError:
            result.error = _("no complete answer within {seconds:.0f} s").format(seconds=sweep.timeout)
            if stored_some:  # every batch stored moved the cursor with it: the rest comes next time
                result.more_to_read = True
                result.error += _("; what was read is kept and the next fetch carries on")
        except AuthenticationFailed as error:
            result.error, result.needs_auth = one_line(error.message), True
        except StateError:
            raise  # the state, not the source: the whole command stops and says so (exit 4)
        except CmdayError as error:
            result.error = one_line(error.message)
        except Exception as error:  # a platform answering something no parser foresaw must not stop the sweep
            result.error = _("unexpected answer: {kind}: {detail}").format(
                kind=type(error).__name__, detail=one_line(redact(str(error)), 160)  # before it is cut short
            )
        result.notes.extend(_unread_notes(result))
        store.record_fetch(project.slug, source.id, source.platform, clock.now(), result.error, result.needs_auth)
        if sweep.progress:
            sweep.progress(project.slug, source.id, "failed" if result.error else "done")
    return result


def sources_to_fetch(project: Project, only_source: str | None) -> list:
    """The project's sources a sweep fetches: the enabled ones, or only the one named."""
    return [s for s in project.sources if s.enabled and (only_source is None or s.id == only_source)]


INCOMPLETE_IDS_SHOWN = 5


def _unread_notes(result: SourceResult) -> list[str]:
    """What came in but could not be read whole: kept and named by id, or left out and counted."""
    notes = []
    if result.incomplete:
        shown = ", ".join(result.incomplete[:INCOMPLETE_IDS_SHOWN]) + (" …" if len(result.incomplete) > INCOMPLETE_IDS_SHOWN else "")
        notes.append(
            ngettext(
                "{count} mention kept without a readable time or author (the time it was fetched stands in): {ids}",
                "{count} mentions kept without a readable time or author (the time they were fetched stands in): {ids}",
                len(result.incomplete),
            ).format(count=len(result.incomplete), ids=shown)
        )
    skipped = result.counts.get("skipped", 0)
    if skipped:
        notes.append(
            ngettext(
                "{count} item the server sent could not be read at all and was left out",
                "{count} items the server sent could not be read at all and were left out",
                skipped,
            ).format(count=skipped)
        )
    return notes


def verify_sources(workspace: Workspace, project: Project, store: Store) -> dict[str, tuple[bool, str]]:
    """A cheap authenticated call per source that can make one: (works, the account's handle or the error)."""
    return asyncio.run(_verify_sources(workspace, project, store))


async def _verify_sources(workspace: Workspace, project: Project, store: Store) -> dict[str, tuple[bool, str]]:
    sources = [s for s in project.sources if s.enabled and can(s.platform, Verifies)]
    if not sources:
        return {}
    zone, demo_anchor = workspace.project_zone(project), store.meta("demo_anchor")
    async with http_client_for(sources) as http:

        async def check(source) -> tuple[str, tuple[bool, str]]:
            adapter = connect(source, project_slug=project.slug, workspace_root=workspace.root, zone=zone, http=http,
                              now=clock.now(), demo_anchor=demo_anchor)
            try:
                return source.id, (True, await adapter.verify())
            except CmdayError as error:
                return source.id, (False, one_line(error.message))

        return dict(await asyncio.gather(*(check(s) for s in sources)))
