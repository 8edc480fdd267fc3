"""Replying: templates filled for a mention, conduct checks, a saved draft, and a send that never happens twice."""

from __future__ import annotations

import asyncio
import json
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cmday import clock
from cmday.conduct import Finding, lint, text_limit
from cmday.errors import CmdayError, UsageError
from cmday.i18n import _, ngettext
from cmday.mention import Mention, StoredMention
from cmday.protocol import Protocol
from cmday.sending import NotSent, deliver, in_flight, not_sent, when_text
from cmday.sources import PLATFORMS, AddressesReplies, Replies, StatesLimit, Threads, can, connect, using
from cmday.sources.base import ReplyTarget, Sent
from cmday.sources.demo.adapter import REHEARSED_PLATFORMS
from cmday.store import Draft, Store
from cmday.textsafe import one_line
from cmday.workspace import Workspace

if TYPE_CHECKING:
    from cmday.models import Project


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
    known = PLATFORMS.get(mention.platform)
    author_as = known.author_as if known else "handle"
    if author_as == "name":
        author = mention.author_name or mention.author_handle
    else:
        author = mention.author_handle or mention.author_name
        if author_as == "@handle" and author and not author.startswith("@"):
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
    can_send = source is not None and can(source.platform, Replies)
    rehearsal = source is not None and source.platform == "demo"
    if rehearsal:
        can_send = platform in REHEARSED_PLATFORMS  # as the real platform would: feeds and imports give text to copy
    return ReplyPlan(mention, language, suggestions, platform, can_send, text_limit(platform), missing, rehearsal)


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
class ReplyRequest:
    """What the CM asked `cmday reply` for."""

    template: str | None = None  # start from this template
    text: str | None = None  # the reply as typed: its placeholders are filled as a template's are
    again: bool = False  # answer an interaction already answered
    force: bool = False  # send past a failing conduct check (never past the length limit)
    resume: bool = False  # send the pending reply as it was


@dataclass
class Verdict:
    """A written reply judged before it goes: what the platform would get and what stops it."""

    written: str  # as the CM wrote it: what the send gate stores
    text: str  # exactly what the platform gets: what is counted and checked
    findings: list[Finding]
    blocking: list[Finding]
    draft: Draft | None = None  # kept for later when a check stops the send

    def refusal(self) -> UsageError:
        assert self.draft is not None  # kept whenever a check blocks
        return UsageError(
            ngettext("not sent: {count} conduct check failed (draft #{draft} kept)", "not sent: {count} conduct checks failed (draft #{draft} kept)",
                     len(self.blocking)).format(count=len(self.blocking), draft=self.draft.id),
            hint=_("edit the text, or --force to send anyway (never past the length limit)"),
        )


class Replying:
    """One `cmday reply`: the policy between what the CM asked and what is sent. The command asks the questions and shows.

    In order: the pending reply settled (resumed, or in the way of another text), `answered_before` asked
    about, `prepare` (templates, placeholders, the platform's own limit), the text chosen (`suggestion` or
    `typed_text`), `judge`d, then `send` or, where cmday cannot send, `mark_answered`.
    """

    def __init__(self, store: Store, workspace: Workspace, project: Project, protocol: Protocol, mention: StoredMention,
                 language: str, request: ReplyRequest, now: datetime, *, interactive: bool) -> None:
        self.store, self.workspace, self.project, self.protocol = store, workspace, project, protocol
        self.mention, self.language, self.request, self.now = mention, language, request, now
        self.text, self.again = request.text, request.again
        waiting = pending(store, mention)
        if request.resume:
            if waiting is None:
                raise UsageError(_("#{id} has no pending reply to resume").format(id=mention.id))
            self.text, self.again = waiting.text, True
        elif waiting is not None and (request.text is not None or interactive) and request.text != waiting.text:
            # another text beside one that may be on the platform: never two replies
            raise PendingReply(waiting, mention.platform)
        self.plan: ReplyPlan | None = None
        self.values: dict[str, str] = {}

    @property
    def answered_before(self) -> bool:
        """Already answered and not asked to answer again: the command asks, else stops with `already_answered`."""
        return self.mention.state == "answered" and not self.again

    def already_answered(self) -> UsageError:
        return UsageError(_("#{id} is already answered").format(id=self.mention.id), hint=_("add --again to reply once more"))

    def prepare(self, *, online: bool) -> ReplyPlan:
        """The templates for the mention, the placeholders' values, and the limit the platform states when it can be asked."""
        self.plan = plan(self.mention, self.project, self.protocol, self.workspace, self.language)
        self.values = placeholder_values(self.mention, self.project, self.protocol, self.workspace.config.owner)
        if self.plan.can_send and online:
            self.plan.limit = platform_limit(self.store, self.workspace, self.project, self.mention)
        return self.plan

    def suggestion(self) -> Suggestion:
        """The template asked for (an error naming what it lacks), else the first that fits, else an empty start."""
        assert self.plan is not None
        suggestions = {s.name: s for s in self.plan.suggestions}
        name = self.request.template
        if name is None:
            return self.plan.suggestions[0] if self.plan.suggestions else Suggestion("", "")
        if name in suggestions:
            return suggestions[name]
        if name in self.plan.missing:
            raise UsageError(
                _("template {name!r} needs values for: {keys}").format(name=name, keys=", ".join(self.plan.missing[name])),
                hint=_("add them under [values] in the project's protocol file"),
            )
        raise UsageError(
            _("no template {name!r} for {category} in {language}").format(name=name, category=self.mention.category, language=self.plan.language),
            hint=_("templates: {names}").format(names=", ".join(suggestions) or _("none")),
        )

    def typed_text(self) -> str:
        """The typed reply (`--text 'Hi {author}'`) with its placeholders filled, or an error naming the missing ones."""
        assert self.text is not None
        try:
            filled, missing = fill(self.text, self.values)
        except (ValueError, IndexError, KeyError):
            raise UsageError(
                _("the reply has a brace that opens no placeholder: {text!r}").format(text=self.text[:80]),
                hint=_("write placeholders as {author}; a literal brace is written twice: {{ or }}"),
            ) from None
        if missing:
            raise UsageError(
                _("no value for {placeholders} in the reply").format(placeholders=", ".join("{" + m + "}" for m in missing)),
                hint=_("known placeholders: {known}; add others under [values] in the protocol file").format(
                    known=", ".join("{" + k + "}" for k in self.values)
                ),
            )
        return filled

    def judge(self, written: str, template: str = "") -> Verdict:
        """The conduct checks on exactly what would be sent; a reply they stop is kept as a draft."""
        assert self.plan is not None
        if not written or not written.strip():
            raise UsageError(_("empty reply; nothing sent"), hint=_("pass --text or pick a --template"))
        text = as_sent(self.workspace, self.project, self.store, self.mention, written) if self.plan.can_send else written
        findings = check(text, self.plan, self.project, self.protocol, self.store, self.now)
        blocking = [f for f in findings if f.severity == "error" and (f.rule == "length" or not self.request.force)]
        verdict = Verdict(written, text, findings, blocking)
        if blocking:
            verdict.draft = new_draft(self.store, self.mention, written, template)
        return verdict

    def send(self, verdict: Verdict, template: str = "", by: str = "") -> Outcome:
        """`by`: the team member sending it, for the reply log (empty for a CM working alone)."""
        return send(self.store, self.workspace, self.project, self.mention, verdict.written, template, since=self.now,
                    again=self.again or self.mention.state == "answered", resume=self.request.resume, by=by)

    def mark_answered(self) -> None:
        """Answered on the platform by hand (cmday cannot send there)."""
        self.store.set_state(self.mention.id, "answered", clock.now())


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
    if source is None or not can(source.platform, AddressesReplies):
        return text
    adapter = connect(source, project_slug=project.slug, workspace_root=workspace.root, zone=workspace.project_zone(project),
                      http=None, now=clock.now())
    return adapter.reply_text(_target(store, mention), text)


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
    return _("the reply stays pending: run the same `cmday reply {id}` again and cmday asks {platform} before sending it, "
             "never twice; or drop it with `cmday reply {id} --discard`").format(id=mention.id, platform=mention.platform)


def platform_limit(store: Store, workspace: Workspace, project: Project, mention: StoredMention) -> int | None:
    """The length limit the platform itself states (a Mastodon instance's own), else the known default."""
    source = project.source(mention.source_id)
    default = text_limit(mention.platform)
    if source is None or not can(source.platform, StatesLimit):
        return default
    try:
        return asyncio.run(_with_adapter(source, workspace, project, store, {"timeout": 10.0}, lambda a: a.text_limit()))
    except CmdayError:
        return default


@dataclass
class Thread:
    """The posts above a mention, oldest first: as its platform shows them now, else as far as the state holds them."""

    posts: list[Mention] | list[StoredMention]
    from_platform: bool
    problem: str = ""  # why the platform could not be asked, when it was tried and failed


def thread_above(store: Store, workspace: Workspace, project: Project, mention: StoredMention, *, offline: bool = False) -> Thread:
    """Ask the platform for the thread (it knows posts cmday never stored); fall back on the stored chain."""
    source = project.source(mention.source_id)
    if not offline and source is not None and can(source.platform, Threads):
        try:
            posts = asyncio.run(_with_adapter(source, workspace, project, store, {"timeout": 10}, lambda a: a.thread(mention.platform_id)))
            return Thread(posts, from_platform=True)
        except CmdayError as error:
            return Thread(store.thread_above(mention), from_platform=False, problem=error.message)
    return Thread(store.thread_above(mention), from_platform=False)


async def _with_adapter(source, workspace: Workspace, project: Project, store: Store, http_options: dict, call):
    return await using(source, call, project_slug=project.slug, workspace_root=workspace.root, zone=workspace.project_zone(project),
                       now=clock.now(), demo_anchor=store.meta("demo_anchor"), http_options=http_options)
