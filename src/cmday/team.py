"""Who is who in a team sharing one state: the members `cmday.toml` lists and the one running this command."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cmday.errors import UsageError
from cmday.i18n import _, ngettext

if TYPE_CHECKING:
    from cmday.mention import StoredMention
    from cmday.models import TeamMember, WorkspaceConfig
    from cmday.store import Note, Store

USER_ENV = "CMDAY_USER"


def current_user(config: WorkspaceConfig) -> str:
    """This CM's handle: CMDAY_USER, else the workspace's `owner` (as a team member's handle when it names one)."""
    given = os.environ.get(USER_ENV, "").strip() or config.owner.strip()
    member = find_member(config, given)
    return member.handle if member is not None else given


def find_member(config: WorkspaceConfig, who: str) -> TeamMember | None:
    wanted = who.strip().casefold()
    for member in config.team:
        if wanted in (member.handle.casefold(), member.name.casefold()):
            return member
    return None


def display_name(config: WorkspaceConfig, handle: str) -> str:
    member = find_member(config, handle)
    return member.name if member is not None else handle


def member_handle(config: WorkspaceConfig, who: str) -> str:
    """The handle of the member `who` names (handle or name); a name that is nobody's is refused, with the list."""
    member = find_member(config, who)
    if member is not None:
        return member.handle
    if not config.team and who.strip():
        return who.strip()  # no team listed: a CM working alone names whoever they like
    raise UsageError(
        _("{who} is not in the team of cmday.toml").format(who=who),
        hint=_("the team is: {handles}").format(handles=", ".join(m.handle for m in config.team) or "-"),
    )


def replying_line(config: WorkspaceConfig, who: str, since: datetime, now: datetime) -> str:
    """"Ana is replying (since 2 min)": what `show` and `reply` say while another member writes an answer."""
    minutes = max(int((now - since).total_seconds() // 60), 0)
    return ngettext("{who} is replying (since {count} min)", "{who} is replying (since {count} min)", minutes).format(
        who=display_name(config, who), count=minutes
    )


@dataclass
class TeamView:
    """What `show` adds for a team: who has the mention, who is answering it now, the internal notes."""

    assignee: str | None
    replying: str | None
    notes: list[Note]


def team_view(store: Store, config: WorkspaceConfig, mention: StoredMention, me: str, now: datetime) -> TeamView:
    other = store.replying(mention.id, now)
    return TeamView(
        assignee=display_name(config, mention.assignee) if mention.assignee else None,
        replying=replying_line(config, other.who, other.since, now) if other is not None and other.who != me else None,
        notes=store.notes(mention.id),
    )


def chosen_assignee(config: WorkspaceConfig, me: str, mine: bool, unassigned: bool, assignee: str | None) -> str | None:
    """`inbox --mine`, `--unassigned` or `--assignee ana` as the store's `assignee=` filter (None: everyone's)."""
    from cmday.store import UNASSIGNED

    if sum((mine, unassigned, assignee is not None)) > 1:
        raise UsageError(_("choose one of --mine, --unassigned and --assignee"))
    if mine:
        if not me:
            raise UsageError(_("cmday does not know who you are"), hint=_("set CMDAY_USER to your handle, or owner in cmday.toml"))
        return me
    if unassigned:
        return UNASSIGNED
    if assignee is not None:
        return member_handle(config, assignee)
    return None
