"""Fetching: every source of a project at once, triaged and stored batch by batch with its cursor."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cmday import clock
from cmday.errors import CmdayError, StateError
from cmday.i18n import _, ngettext
from cmday.mention import INCOMPLETE
from cmday.models import Project
from cmday.protocol import PATTERN_SECONDS, Protocol
from cmday.secrets import read_secret, redact
from cmday.sources import adapter_class
from cmday.sources.base import AuthenticationFailed, FetchContext
from cmday.store import Store
from cmday.textsafe import one_line
from cmday.triage import Triage
from cmday.workspace import Workspace

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

    @property
    def new(self) -> int:
        return sum(r.new for r in self.results)

    @property
    def errors(self) -> list[SourceResult]:
        return [r for r in self.results if r.error]


Progress = Callable[[str, str], None]  # (source id, "start" | "done" | "failed")


def fetch_project(
    store: Store,
    workspace: Workspace,
    project: Project,
    protocol: Protocol,
    only_source: str | None = None,
    progress: Progress | None = None,
    http_options: dict | None = None,
) -> FetchReport:
    return asyncio.run(
        fetch_project_async(store, workspace, project, protocol, only_source, progress, http_options or {})
    )


async def fetch_project_async(
    store: Store,
    workspace: Workspace,
    project: Project,
    protocol: Protocol,
    only_source: str | None,
    progress: Progress | None,
    http_options: dict,
) -> FetchReport:
    started = clock.now()
    sources = [s for s in project.sources if s.enabled and (only_source is None or s.id == only_source)]
    if not sources:
        return FetchReport(project=project.slug, started=started, results=[])
    triage = Triage.for_project(project, protocol)
    limit = asyncio.Semaphore(workspace.config.fetch_concurrency)
    state = {"demo_anchor": store.meta("demo_anchor"), "timezone": workspace.project_zone(project).key}
    timeout = http_options.pop("source_timeout", SOURCE_TIMEOUT_SECONDS)

    async with _http_client(sources, http_options) as http:

        async def run(source) -> SourceResult:
            result = SourceResult(source.id, source.platform)
            context = FetchContext(
                http=http,
                secret=lambda env_name, _id=source.id: read_secret(project.slug, _id, env_name),
                workspace_root=workspace.root,
                now=started,
                project_slug=project.slug,
                state=state,
            )
            stored_some = False
            async with limit:
                if progress:
                    progress(source.id, "start")
                try:
                    async with asyncio.timeout(timeout):
                        adapter = adapter_class(source.platform)(source, context)
                        async for batch in adapter.fetch(store.cursor(project.slug, source.id)):
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
                                project.slug, source.id, source.platform, batch.mentions, batch.cursor, started
                            )
                            for key, value in batch.counts.items():
                                result.counts[key] = result.counts.get(key, 0) + value
                            result.notes.extend(batch.notes)
                            result.more_to_read = result.more_to_read or batch.more_to_read
                            stored_some = True
                        if hasattr(adapter, "account_metrics"):
                            await _snapshot_account(store, project, source, adapter, started, workspace, result)
                except TimeoutError:
                    result.error = _("no complete answer within {seconds:.0f} s").format(seconds=timeout)
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
                store.record_fetch(
                    project.slug, source.id, source.platform, clock.now(), result.error, result.needs_auth
                )
                if progress:
                    progress(source.id, "failed" if result.error else "done")
            return result

        results = await asyncio.gather(*(run(s) for s in sources))
    return FetchReport(project=project.slug, started=started, results=list(results))


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


async def _snapshot_account(store: Store, project: Project, source, adapter, now: datetime, workspace: Workspace, result: SourceResult) -> None:
    """The account's own figures (followers...) and its recent posts' reactions as today's dated snapshot.

    Keyed `followers.mastodon` when the project has one source of that platform, else
    `followers.<source id>`; reactions as `_snapshot_posts` says. The account's figures are read by the
    first sweep of the day: a check every few hours makes no account call for a figure kept per day.
    A failure here is a note, never a failed fetch: the mentions are in.
    """
    day = now.astimezone(workspace.project_zone(project)).date().isoformat()
    same_platform = sum(1 for s in project.sources if s.platform == source.platform)
    account = source.platform if same_platform == 1 else source.id
    today = store.kpi_values(project.slug, f"followers.{account}", since_day=day)
    if not any(value.origin == "api" for value in today):
        try:
            metrics = await adapter.account_metrics()
        except CmdayError as error:
            result.notes.append(_("account figures not read: {reason}").format(reason=one_line(error.message, 120)))
            if isinstance(error, AuthenticationFailed):
                return  # the same credentials would be refused again, in a second note saying the same
        else:
            for name, value in metrics.items():
                store.set_kpi(project.slug, f"{name}.{account}", day, float(value), "api", now)
    if callable(getattr(adapter, "post_metrics", None)):
        await _snapshot_posts(store, project, source, adapter, now, day, workspace, result)


ENGAGEMENT_DAYS = 30  # published posts whose reactions each sweep reads again
ENGAGEMENT_POSTS = 100  # at most, newest first: one request each on Mastodon, well within its 300 per 5 minutes
ENGAGEMENT_TIMEOUT_SECONDS = 30.0  # reading reactions never makes a source miss its own time limit


async def _snapshot_posts(
    store: Store, project: Project, source, adapter, now: datetime, day: str, workspace: Workspace, result: SourceResult
) -> None:
    """Reactions to the posts this source published in the last 30 days, as today's `post.<post key>.<metric>`.

    The state's publications link a calendar post's key to the platform's id, but not to the source that
    sent it: that is the calendar's word (the post's `source`, else a source of the post's platform). A post
    no longer in the calendar under the key it was published with is not read. A failure is a note.
    """
    from datetime import timedelta

    since = now - timedelta(days=ENGAGEMENT_DAYS)
    recent = [p for p in store.publications(project.slug) if p.status == "published" and p.remote_id and p.at >= since]
    if not recent:
        return
    # Here, not at the top: only a sweep with something published reads the calendar (~55 ms to import).
    from cmday.calendar import load_plan

    try:
        plan = load_plan(workspace, project)
        channels = {planned.key: (planned.post.source, planned.platform) for planned in plan.posts}
        ours: dict[str, str] = {}  # remote id -> post key
        for publication in sorted(recent, key=lambda p: p.at, reverse=True):
            named, platform = channels.get(publication.post_key, (None, None))
            if named == source.id or (named is None and platform == source.platform):
                ours.setdefault(publication.remote_id, publication.post_key)
            if len(ours) >= ENGAGEMENT_POSTS:
                break
        if not ours:
            return
        async with asyncio.timeout(ENGAGEMENT_TIMEOUT_SECONDS):
            metrics = await adapter.post_metrics(list(ours))
    except Exception as error:  # slow, refused or unforeseen, the mentions are in: a note, and the sweep goes on
        if isinstance(error, TimeoutError):
            reason = _("no complete answer within {seconds:.0f} s").format(seconds=ENGAGEMENT_TIMEOUT_SECONDS)
        elif isinstance(error, CmdayError):
            reason = one_line(error.message, 120)
        else:
            reason = _("unexpected answer: {kind}: {detail}").format(
                kind=type(error).__name__, detail=one_line(redact(str(error)), 120)
            )
        result.notes.append(_("reactions to published posts not read: {reason}").format(reason=reason))
        return
    for remote_id, figures in metrics.items():
        key = ours.get(remote_id)
        if key is None:
            continue
        for name, value in figures.items():
            store.set_kpi(project.slug, f"post.{key}.{name}", day, float(value), "api", now)


def _http_client(sources: list, http_options: dict) -> contextlib.AbstractAsyncContextManager:
    """The shared HTTP client, started only when some source goes to the network (httpx is slow to import)."""
    if not any(getattr(adapter_class(s.platform), "uses_network", True) for s in sources):
        return contextlib.nullcontext(None)
    from cmday.http import HttpClient

    return HttpClient(**http_options)


def verify_sources(workspace: Workspace, project: Project, store: Store) -> dict[str, tuple[bool, str]]:
    """A cheap authenticated call per source that can make one: (works, the account's handle or the error)."""
    return asyncio.run(_verify_sources(workspace, project, store))


async def _verify_sources(workspace: Workspace, project: Project, store: Store) -> dict[str, tuple[bool, str]]:
    sources = [s for s in project.sources if s.enabled and hasattr(adapter_class(s.platform), "verify")]
    if not sources:
        return {}
    async with _http_client(sources, {}) as http:

        async def check(source) -> tuple[str, tuple[bool, str]]:
            context = FetchContext(
                http=http,
                secret=lambda env_name, _id=source.id: read_secret(project.slug, _id, env_name),
                workspace_root=workspace.root,
                now=clock.now(),
                project_slug=project.slug,
                state={"demo_anchor": store.meta("demo_anchor")},
            )
            try:
                return source.id, (True, await adapter_class(source.platform)(source, context).verify())
            except CmdayError as error:
                return source.id, (False, one_line(error.message))

        return dict(await asyncio.gather(*(check(s) for s in sources)))
