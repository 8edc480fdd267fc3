"""Publishing the calendar's posts through their sources, at most once, and reading back how published posts did."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmday.errors import CmdayError, UsageError
from cmday.i18n import _
from cmday.labels import state_label
from cmday.secrets import redact
from cmday.sending import Delivery, NotSent
from cmday.sources.base import AuthenticationFailed
from cmday.textsafe import one_line

if TYPE_CHECKING:
    from cmday.calendar.plan import Plan, PlannedPost
    from cmday.models import Project
    from cmday.store import Store
    from cmday.workspace import Workspace

@dataclass
class Publishing:
    """What `cmday publish` is about to do, shown before it does it (and all `--dry-run` does)."""

    project: str
    key: str
    platform: str
    source: str
    text: str
    link: str | None
    media: list[Path]
    at: datetime
    alts: list[str] = field(default_factory=list)  # alt text of each file, "" where none was written


def post_to_publish(plans: list[Plan], wanted: str) -> tuple[Plan, PlannedPost]:
    """The post a key (or its start) names, in whichever of the projects' calendars holds it, or a UsageError."""
    found = [(plan, planned) for plan in plans if (planned := plan.find(wanted)) is not None]
    if not found:
        raise UsageError(_("no post {key!r} in the calendar").format(key=wanted), hint=_("`cmday calendar` shows each post's key"))
    if len(found) > 1:
        raise UsageError(
            _("post {key!r} is in several projects: {projects}").format(key=wanted, projects=", ".join(p.project.slug for p, _x in found)),
            hint=_("pass --project"),
        )
    return found[0]


def prepare_publication(plan: Plan, planned: PlannedPost, now: datetime, store: Store) -> tuple[Publishing, Any]:
    """Everything that must hold before a post is sent, or a UsageError saying plainly which does not."""
    from cmday.calendar.checks import BLOCKING, post_problems
    from cmday.sources import PLATFORMS, Publishes, can

    key = planned.key
    record = store.publication(plan.project.slug, key)
    if planned.status == "published" or (record is not None and record.status == "published"):
        where = f": {record.url}" if record is not None and record.url else ""
        raise UsageError(_("post {key} is already published{where}; cmday never publishes a post twice").format(key=key, where=where))
    if planned.status not in ("ready", "scheduled"):
        raise UsageError(
            _("post {key} is {status}; only ready or scheduled posts are published").format(key=key, status=state_label(planned.status)),
            hint=_("set its status to \"ready\" in {origin} when it is").format(origin=planned.origin),
        )
    going_now = planned.at + timedelta(seconds=1)  # whenever it was planned for, it goes out now: every fault counts
    blocking = [p for p in post_problems(plan, planned, now, going_now, {}) if p.code in BLOCKING and p.severity == "error"]
    if blocking:
        raise UsageError(
            _("post {key} cannot go out: {problem}").format(key=key, problem=blocking[0].message.split(": ", 1)[-1]),
            hint=_("fix it in {origin}").format(origin=planned.origin),
        )
    source = _publishing_source(plan.project, planned)
    if source.platform not in PLATFORMS:
        raise UsageError(_("{platform} cannot publish from cmday").format(platform=source.platform))
    if not can(source.platform, Publishes):
        raise UsageError(
            _("{platform} cannot publish from cmday yet: its adapter has no publishing").format(platform=source.platform),
            hint=_("publish it by hand, then set status = \"published\" in {origin}").format(origin=planned.origin),
        )
    media = [(Path(m).expanduser() if Path(m).expanduser().is_absolute() else plan.root / m) for m in planned.post.media]
    alts = [planned.post.media_alt.get(m, "") for m in planned.post.media]
    return Publishing(plan.project.slug, key, planned.platform, source.id, planned.post.text, planned.post.link, media,
                      planned.local, alts), source


def _publishing_source(project: Project, planned: PlannedPost) -> Any:
    if planned.post.source:
        source = project.source(planned.post.source)
        assert source is not None, "the loader checks sources"
        return source
    candidates = [s for s in project.sources if s.enabled and s.platform == planned.platform]
    if not candidates:
        from cmday.sources.demo.adapter import REHEARSED_PLATFORMS

        demo = [s for s in project.sources if s.enabled and s.platform == "demo"]
        if demo and planned.platform in REHEARSED_PLATFORMS:  # the demo rehearses what the real platform would take
            return demo[0]
        raise UsageError(
            _("post {key} goes to {platform}, and the project has no enabled {platform} source to publish with").format(
                key=planned.key, platform=planned.platform),
            hint=_("add a [[sources]] entry for that account, or name one with `source` on the post"),
        )
    if len(candidates) > 1:
        raise UsageError(
            _("post {key} goes to {platform}, and the project has several {platform} sources: {ids}").format(
                key=planned.key, platform=planned.platform, ids=", ".join(s.id for s in candidates)),
            hint=_("name one with `source` on the post"),
        )
    return candidates[0]


def publish(workspace: Workspace, plan: Plan, publishing: Publishing, source: Any, store: Store, now: datetime) -> Delivery:
    """Send the post at most once, as replies are sent (cmday.sending): the state's claim, a lock while in flight,
    and the platform asked before any resend of a post whose earlier attempt failed or was interrupted.
    The delivery says whether the platform already held the post (`found`): the user is told it was not posted again."""
    from cmday.sending import deliver, in_flight, not_sent

    slug = plan.project.slug
    busy = lambda: NotSent(_("post {key} is being published by another cmday right now; nothing sent").format(key=publishing.key))  # noqa: E731
    with in_flight(store, f"post-{slug}-{publishing.key}", busy):
        claim = store.claim_post(slug, publishing.key, now)
        if claim == "refused":
            raise UsageError(_("post {key} is already being published or was published").format(key=publishing.key))
        record = store.publication(slug, publishing.key)
        since = (record.started_at if record and record.started_at else now)

        def attempt(adapter: Any):
            return deliver(
                lambda: adapter.publish(publishing.text, publishing.link, publishing.media, publishing.key, alts=publishing.alts),
                lambda: adapter.find_post(publishing.text, publishing.link, publishing.key, since),
                earlier_attempt=claim == "pending",
            )

        hint = _("it stays pending: run `cmday publish {key}` again and cmday asks {platform} first, never posting twice").format(
            key=publishing.key, platform=publishing.platform)
        try:
            delivery = asyncio.run(_send(workspace, plan.project, source, now, attempt))
        except CmdayError as error:
            store.finish_publication(slug, publishing.key, "failed", now, error=error.message)
            raise not_sent(error, hint) from None
        except Exception as error:  # the platform answered something nobody foresaw: recorded, said in one line
            message = _("publishing failed: {kind}: {detail}").format(kind=type(error).__name__, detail=one_line(str(error), 160))
            store.finish_publication(slug, publishing.key, "failed", now, error=message)
            raise NotSent(message, hint=hint) from None
        except BaseException:
            store.finish_publication(slug, publishing.key, "failed", now, error="interrupted")
            raise
    sent = delivery.sent
    store.finish_publication(slug, publishing.key, "published", now, remote_id=sent.remote_id, url=sent.url)
    return delivery


async def _send(workspace: Workspace, project: Project, source: Any, now: datetime, attempt: Any) -> Any:
    from cmday.sources import using

    return await using(source, attempt, project_slug=project.slug, workspace_root=workspace.root,
                       zone=workspace.project_zone(project), now=now)


# -- how published posts did ------------------------------------------------------------------------


async def snapshot_account(
    store: Store, project: Project, source: Any, adapter: Any, now: datetime, workspace: Workspace, notes: list[str]
) -> None:
    """The account's own figures (followers...) and its recent posts' reactions as today's dated snapshot.

    Keyed `followers.mastodon` when the project has one source of that platform, else
    `followers.<source id>`; reactions as `_snapshot_posts` says. The account's figures are read by the
    first sweep of the day: a check every few hours makes no account call for a figure kept per day.
    A failure here is one of `notes`, never a failed fetch: the mentions are in.
    """
    day = now.astimezone(workspace.project_zone(project)).date().isoformat()
    same_platform = sum(1 for s in project.sources if s.platform == source.platform)
    account = source.platform if same_platform == 1 else source.id
    today = store.kpi_values(project.slug, f"followers.{account}", since_day=day)
    if not any(value.origin == "api" for value in today):
        try:
            metrics = await adapter.account_metrics()
        except CmdayError as error:
            notes.append(_("account figures not read: {reason}").format(reason=one_line(error.message, 120)))
            if isinstance(error, AuthenticationFailed):
                return  # the same credentials would be refused again, in a second note saying the same
        else:
            for name, value in metrics.items():
                store.set_kpi(project.slug, f"{name}.{account}", day, float(value), "api", now)
    await _snapshot_posts(store, project, source, adapter, now, day, workspace, notes)


ENGAGEMENT_DAYS = 30  # published posts whose reactions each sweep reads again
ENGAGEMENT_POSTS = 100  # at most, newest first: one request each on Mastodon, well within its 300 per 5 minutes
ENGAGEMENT_TIMEOUT_SECONDS = 30.0  # reading reactions never makes a source miss its own time limit


async def _snapshot_posts(
    store: Store, project: Project, source: Any, adapter: Any, now: datetime, day: str, workspace: Workspace, notes: list[str]
) -> None:
    """Reactions to the posts this source published in the last 30 days, as today's `post.<post key>.<metric>`.

    The state's publications link a calendar post's key to the platform's id, but not to the source that
    sent it: that is the calendar's word (the post's `source`, else a source of the post's platform). A post
    no longer in the calendar under the key it was published with is not read. A failure is a note.
    """
    since = now - timedelta(days=ENGAGEMENT_DAYS)
    recent = [p for p in store.publications(project.slug) if p.status == "published" and p.remote_id and p.at >= since]
    if not recent:
        return
    # Here, not at the top: only a sweep with something published reads the calendar (~55 ms to import).
    from cmday.calendar.plan import load_plan

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
        notes.append(_("reactions to published posts not read: {reason}").format(reason=reason))
        return
    for remote_id, figures in metrics.items():
        key = ours.get(remote_id)
        if key is None:
            continue
        for name, value in figures.items():
            store.set_kpi(project.slug, f"post.{key}.{name}", day, float(value), "api", now)
