"""Hiding a comment on the platform (Instagram, Facebook) and what that means for its interaction in the inbox."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cmday.errors import CmdayError, ExitCode, UsageError
from cmday.i18n import _
from cmday.mention import StoredMention
from cmday.sources.base import ReplyTarget

if TYPE_CHECKING:  # the store imports this module for `hidden_reason`
    from cmday.models import Project
    from cmday.store import Store
    from cmday.workspace import Workspace

HIDDEN = "hidden"  # the mention flag (cmday.mention.FLAGS) the platform's own hidden state is kept in
REHEARSED = ("instagram", "facebook")  # the demo's mentions of these platforms go through every step but the platform
SET_ASIDE = ("open", "snoozed")  # the states hiding can take out of the queue


class NotHidden(CmdayError):
    """The platform did not hide (or show) the comment: refused, unreachable, or the token no longer works."""

    exit_code = ExitCode.NOT_SENT


def set_aside_when_hidden(state: str, urgent: bool) -> bool:
    """Whether a hidden comment leaves the queue: an open or snoozed one does, unless it is urgent (a crisis, urgent
    words), since hiding answers nobody; answered, escalated or ignored ones keep their state."""
    return state in SET_ASIDE and not urgent


def hidden_reason(platform: str) -> str:
    """Why a hidden comment is out of the queue, as `show` gives it (stored for one that came in hidden, too)."""
    return _("hidden on {platform}: only its author sees it").format(platform=platform)


@dataclass
class HideOutcome:
    """What `hide`/`unhide` did: the mention as it is now, the state it had before, and whether it was a rehearsal."""

    mention: StoredMention
    state_before: str
    rehearsal: bool

    @property
    def state_changed(self) -> bool:
        return self.mention.state != self.state_before


def set_hidden(store: Store, workspace: Workspace, project: Project, mention: StoredMention, hidden: bool,
               now: datetime, http_options: dict | None = None) -> HideOutcome:
    """Hide (or show again) the comment on its platform, then record it; nothing is recorded if the platform refused.

    A hidden comment is seen by nobody but its author, so nobody waits for the brand's answer: an open or
    snoozed one leaves the queue as `ignored`, its reason saying it was hidden (the protocol: never ignore
    silently). An urgent one (a crisis, urgent words) stays open: hiding it answers nobody. Shown again, one
    hiding had set aside comes back open; one answered or escalated keeps its state.
    Both are idempotent on the platform, so running the command again completes one cut off halfway.
    """
    from cmday.sources import Hides, can, using

    source = project.source(mention.source_id)
    if source is None:
        raise UsageError(_("source {source!r} of mention #{id} is no longer in the project").format(
            source=mention.source_id, id=mention.id))
    rehearsal = source.platform == "demo" and mention.platform in REHEARSED
    if not rehearsal and not can(source.platform, Hides):
        raise UsageError(
            _("#{id} came from {platform}, where cmday cannot hide anything").format(id=mention.id, platform=mention.platform),
            hint=_("hiding works on Instagram and Facebook comments; here, `cmday mark {id} ignored --why ...`").format(id=mention.id),
        )
    if not rehearsal:
        raw = store.raw_payload(mention.id)
        target = ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, json.loads(raw) if raw else None)
        try:
            asyncio.run(using(source, lambda adapter: adapter.set_hidden(target, hidden), project_slug=project.slug,
                              workspace_root=workspace.root, zone=workspace.project_zone(project), now=now,
                              http_options=http_options or {"timeout": 20.0}))
        except UsageError:
            raise
        except CmdayError as error:  # nothing recorded: the state still says what the platform last showed
            raise NotHidden(error.message, hint=error.hint or _("nothing changed in cmday; try again later")) from error
    if hidden and set_aside_when_hidden(mention.state, mention.urgent):
        store.set_state(mention.id, "ignored", now, hidden_reason(mention.platform))
    elif not hidden and mention.state == "ignored" and HIDDEN in mention.flags:
        store.set_state(mention.id, "open", now)
    flags = [flag for flag in mention.flags if flag != HIDDEN] + ([HIDDEN] if hidden else [])
    store.set_flags(mention.id, flags)
    return HideOutcome(store.mention(mention.id), mention.state, rehearsal)
