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
from cmday.sources.base import FetchContext, ReplyTarget, Sent
from cmday.store import Draft, Store
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
    return ReplyPlan(mention, language, suggestions, platform, can_send, PLATFORM_LIMITS.get(platform), missing)


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
    return store.create_draft(mention.id, text, template, uuid.uuid4().hex, clock.now())


def send(store: Store, workspace: Workspace, project: Project, draft: Draft, resume: bool = False, http_options: dict | None = None) -> Sent:
    """Send a draft through its source's adapter, at most once: the store's gate, then the platform's idempotency key.

    A send that fails leaves the draft `failed` and the interaction open; a later send of the
    same draft reuses its key, so a platform that did receive the first one does not post twice.
    """
    mention = store.mention(draft.mention_id)
    assert mention is not None
    source = project.source(mention.source_id)
    if source is None:
        raise UsageError(_("source {source!r} of mention #{id} is no longer in the project").format(source=mention.source_id, id=mention.id))
    if not store.claim_draft_for_sending(draft.id, clock.now(), resume=resume):
        current = store.draft(draft.id)
        if current is not None and current.status == "sent":
            raise UsageError(_("draft #{id} was already sent: {url}").format(id=draft.id, url=current.remote_url or "-"))
        raise UsageError(
            _("draft #{id} is being sent by another cmday, or a send was interrupted").format(id=draft.id),
            hint=_("run the reply again with --resume: the same key makes sure the platform posts it once"),
        )
    raw = store.raw_payload(mention.id)
    target = ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, json.loads(raw) if raw else None)
    try:
        sent = asyncio.run(
            _with_adapter(source, workspace, project, store, http_options or {}, lambda a: a.reply(target, draft.text, draft.idempotency_key))
        )
    except CmdayError as error:
        store.finish_draft(draft.id, "failed", clock.now(), error=error.message)
        raise
    except BaseException as error:
        store.finish_draft(draft.id, "failed", clock.now(), error=type(error).__name__)
        raise
    store.finish_draft(draft.id, "sent", clock.now(), remote_id=sent.remote_id, remote_url=sent.url)
    return sent


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
