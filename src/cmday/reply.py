"""Replying: templates filled for a mention, conduct checks, a saved draft, and a send that never happens twice."""

from __future__ import annotations

import asyncio
import json
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cmday import clock
from cmday.conduct import PLATFORM_LIMITS, Finding, lint
from cmday.errors import CmdayError, UsageError
from cmday.i18n import _
from cmday.mention import StoredMention
from cmday.models import Project
from cmday.protocol import Protocol
from cmday.sources import adapter_class
from cmday.sending import NotSent, deliver, in_flight, not_sent, when_text
from cmday.sources.base import FetchContext, ReplyTarget, Sent
from cmday.sources.demo import REHEARSED_PLATFORMS
from cmday.store import Draft, Store
from cmday.textsafe import one_line
from cmday.workspace import Workspace




@dataclass
class Suggestion:
    name: str
    text: str


@dataclass
class ReplyPlan:
    mention: StoredMention
    language: str
    suggestions: list[Suggestion]
    platform: str
    can_send: bool
    limit: int | None
    missing: dict[str, list[str]] = field(default_factory=dict)  # template name -> placeholders without a value
    rehearsal: bool = False  # the demo: replies go through every step but the platform


def placeholder_values(mention: StoredMention, project: Project, protocol: Protocol, agent: str) -> dict[str, str]:
    """{author}, {brand}, {agent}, {link} and every key the protocol's [values] define."""
    author = mention.author_handle or mention.author_name
    if mention.platform == "bluesky" and author and not author.startswith("@"):
        author = "@" + author
    return {
        "author": author,
        "brand": project.name,
        "agent": agent or project.name,
        **protocol.values,
    }


def fill(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """The template with its placeholders filled, and the names of those that have no value."""
    missing = [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name and name not in values]
    if missing:
        return text, sorted(set(missing))
    return text.format(**values), []


def plan(mention: StoredMention, project: Project, protocol: Protocol, workspace: Workspace, language: str) -> ReplyPlan:
    source = project.source(mention.source_id)
    values = placeholder_values(mention, project, protocol, workspace.config.owner)
    language = mention.language if mention.language in ("en", "es") else language
    suggestions, missing = [], {}
    for name, template in protocol.templates_for(mention.category, language).items():
        text, absent = fill(template.text, values)
        if absent:
            missing[name] = absent
        else:
            suggestions.append(Suggestion(name, text))
    platform = mention.platform
    can_send = source is not None and hasattr(adapter_class(source.platform), "reply")
    rehearsal = source is not None and source.platform == "demo"
    if rehearsal:
        can_send = platform in REHEARSED_PLATFORMS  # as the real platform would: feeds and imports give text to copy
    return ReplyPlan(mention, language, suggestions, platform, can_send, PLATFORM_LIMITS.get(platform), missing, rehearsal)


def check(text: str, reply_plan: ReplyPlan, project: Project, protocol: Protocol, store: Store, now: datetime) -> list[Finding]:
    today = [
        m for m in store.mentions(project.slug, states=("answered",), since=now - timedelta(hours=24))
        if m.author_handle == reply_plan.mention.author_handle and m.id != reply_plan.mention.id
    ]
    return lint(
        text,
        protocol=protocol,
        project=project,
        language=reply_plan.language,
        kind="reply",
        category=reply_plan.mention.category,
        platform=reply_plan.platform,
        limit=reply_plan.limit,
        author=reply_plan.mention.author_handle,
        replies_to_author_today=len(today),
    )


def new_draft(store: Store, mention: StoredMention, text: str, template: str) -> Draft:
    """A draft kept for later (a failed conduct check): not a send, so never pending."""
    return store.create_draft(mention.id, text, template, uuid.uuid4().hex, clock.now())


@dataclass
class Outcome:
    """How a send ended: posted now, or found on the platform from an earlier attempt; in the demo, nowhere."""

    draft: Draft
    sent: Sent
    found: bool  # an earlier, interrupted attempt had gone through: nothing was posted now
    rehearsal: bool  # the demo: nothing left this machine


class PendingReply(NotSent):
    """A reply to the mention was started before and may be on the platform: it must be resumed or discarded first."""

    def __init__(self, draft: Draft, platform: str) -> None:
        super().__init__(
            _("#{id} has a reply pending since {when} that may already be on {platform}: \u201c{text}\u201d").format(
                id=draft.mention_id, when=when_text(draft.started_at or draft.created_at), platform=platform,
                text=one_line(draft.text, 120)),
            hint=_("`cmday reply {id} --resume` sends that one (cmday asks {platform} first, so it never goes twice); "
                   "`cmday reply {id} --discard` drops it once {platform} shows it does not hold it").format(
                id=draft.mention_id, platform=platform),
        )
        self.draft = draft


def pending(store: Store, mention: StoredMention) -> Draft | None:
    """The reply to this mention that was started and may be on the platform, if any (at most one)."""
    return store.pending_draft(mention.id)


def as_sent(workspace: Workspace, project: Project, store: Store, mention: StoredMention, text: str) -> str:
    """Exactly the text a reply posts (Mastodon puts `@acct` in front; Bluesky sends it as written): the one counted."""
    source = project.source(mention.source_id)
    adapter_type = adapter_class(source.platform) if source is not None else None
    if adapter_type is None or not callable(getattr(adapter_type, "reply_text", None)):
        return text
    context = FetchContext(http=None, secret=lambda _name: None, workspace_root=workspace.root, now=clock.now(), project_slug=project.slug)
    return adapter_type(source, context).reply_text(_target(store, mention), text)


def send(
    store: Store, workspace: Workspace, project: Project, mention: StoredMention, text: str, template: str = "",
    *, since: datetime, again: bool = False, resume: bool = False, http_options: dict | None = None, by: str = "",
) -> Outcome:
    """Send a reply at most once: the state's gate, a lock while in flight, the platform asked before any resend.

    The gate (Store.claim_reply) makes one draft per mention pending at a time. A pending draft with the
    same text is this reply again (a run killed or cut off): it keeps its key, and the platform is asked
    whether it holds it before anything is posted. One with another text stops here (PendingReply) unless
    `resume` sends it as it was. A send that fails stays pending and the interaction open.
    """
    source = _source(project, mention)
    with in_flight(store, f"reply-{mention.id}", lambda: _busy(mention)):
        claim = store.claim_reply(mention.id, text, template, uuid.uuid4().hex, clock.now(), since, again, by=by)
        if claim.outcome == "answered":
            raise UsageError(
                _("#{id} was answered meanwhile; nothing sent").format(id=mention.id),
                hint=_("add --again to reply once more"),
            )
        draft = claim.draft
        assert draft is not None
        earlier = claim.outcome == "pending"
        if earlier and draft.text != text and not resume:
            raise PendingReply(draft, mention.platform)
        store.start_sending(draft.id, clock.now())
        target = _target(store, mention)
        since_started = draft.started_at or draft.created_at

        def attempt(adapter):
            return deliver(
                lambda: adapter.reply(target, draft.text, draft.idempotency_key),
                lambda: adapter.find_reply(target, draft.text, draft.idempotency_key, since_started),
                earlier_attempt=earlier,
            )

        try:
            delivery = asyncio.run(_with_adapter(source, workspace, project, store, http_options or {}, attempt))
        except CmdayError as error:
            store.finish_draft(draft.id, "failed", clock.now(), error=error.message)
            raise not_sent(error, _retry_hint(mention)) from None
        except BaseException as error:
            store.finish_draft(draft.id, "failed", clock.now(), error=type(error).__name__)
            raise
        store.finish_draft(draft.id, "sent", clock.now(), remote_id=delivery.sent.remote_id, remote_url=delivery.sent.url)
        return Outcome(store.draft(draft.id) or draft, delivery.sent, delivery.found, source.platform == "demo")


def discard(store: Store, workspace: Workspace, project: Project, mention: StoredMention, http_options: dict | None = None) -> Outcome | None:
    """Drop the pending reply once the platform shows it does not hold it; if it does, record it as sent.

    When the platform cannot be asked, nothing changes: the reply stays pending.
    """
    source = _source(project, mention)
    with in_flight(store, f"reply-{mention.id}", lambda: _busy(mention)):
        draft = store.pending_draft(mention.id)
        if draft is None:
            raise UsageError(_("#{id} has no pending reply").format(id=mention.id))
        target = _target(store, mention)
        since_started = draft.started_at or draft.created_at
        try:
            found = asyncio.run(_with_adapter(
                source, workspace, project, store, http_options or {},
                lambda a: a.find_reply(target, draft.text, draft.idempotency_key, since_started)))
        except CmdayError as error:
            raise NotSent(
                _("cannot tell whether the pending reply to #{id} is on {platform}: {reason}; it stays pending").format(
                    id=mention.id, platform=mention.platform, reason=error.message),
                hint=_("try again when {platform} answers").format(platform=mention.platform),
            ) from None
        if found is not None:
            store.finish_draft(draft.id, "sent", clock.now(), remote_id=found.remote_id, remote_url=found.url)
            return Outcome(store.draft(draft.id) or draft, found, True, source.platform == "demo")
        store.set_aside_draft(draft.id, clock.now(), "discarded: the platform does not hold it")
        return None


def _source(project: Project, mention: StoredMention):
    source = project.source(mention.source_id)
    if source is None:
        raise UsageError(_("source {source!r} of mention #{id} is no longer in the project").format(source=mention.source_id, id=mention.id))
    return source


def _target(store: Store, mention: StoredMention) -> ReplyTarget:
    raw = store.raw_payload(mention.id)
    return ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, json.loads(raw) if raw else None)


def _busy(mention: StoredMention) -> NotSent:
    return NotSent(
        _("a reply to #{id} is being sent by another cmday right now; nothing sent").format(id=mention.id),
        hint=_("wait for it to finish, then look at `cmday show {id}`").format(id=mention.id),
    )


def _retry_hint(mention: StoredMention) -> str:
    return _("the reply stays pending: run the same `cmday reply {id}` again and cmday asks {platform} before sending it, never twice").format(
        id=mention.id, platform=mention.platform)


def platform_limit(store: Store, workspace: Workspace, project: Project, mention: StoredMention) -> int | None:
    """The length limit the platform itself states (a Mastodon instance's own), else the known default."""
    source = project.source(mention.source_id)
    default = PLATFORM_LIMITS.get(mention.platform)
    if source is None or not hasattr(adapter_class(source.platform), "text_limit"):
        return default
    try:
        return asyncio.run(_with_adapter(source, workspace, project, store, {"timeout": 10.0}, lambda a: a.text_limit()))
    except CmdayError:
        return default


async def _with_adapter(source, workspace: Workspace, project: Project, store: Store, http_options: dict, call):
    from cmday.http import HttpClient
    from cmday.secrets import read_secret

    async with HttpClient(**http_options) as http:
        context = FetchContext(
            http=http,
            secret=lambda env_name: read_secret(project.slug, source.id, env_name),
            workspace_root=workspace.root,
            now=clock.now(),
            project_slug=project.slug,
            state={"demo_anchor": store.meta("demo_anchor")},
        )
        return await call(adapter_class(source.platform)(source, context))
