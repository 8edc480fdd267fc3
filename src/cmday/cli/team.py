"""`cmday assign`, `unassign`, `note` and `state copy`: a team sharing one inbox."""

from __future__ import annotations

from typing import Annotated

import typer

from cmday.cli.common import Options, command, group_options
from cmday.i18n import _, ngettext

MentionId = Annotated[int, typer.Argument(metavar="ID", help=_("The mention's number, as the inbox shows it."))]


def register(app: typer.Typer) -> None:
    command(app, "assign", help=_("Give a mention to a team member (or to yourself with --me)."))(assign)
    command(app, "unassign", help=_("Give a mention back to nobody."))(unassign)
    command(app, "note", help=_("Add an internal note to a mention: shown by show, never sent, never in the client report."))(note)
    state_app = typer.Typer(help=_("The state itself: copy it into a team's shared database."), no_args_is_help=True)
    group_options(state_app)
    command(state_app, "copy", help=_("Copy this state into another one (a shared PostgreSQL database); safe to run twice."))(copy)
    app.add_typer(state_app, name="state")


def _open(options: Options, mention_id: int):
    from cmday.errors import UsageError
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    mention = session.store.mention(mention_id)
    if mention is None or mention.project not in session.workspace.projects:
        session.close()
        raise UsageError(_("no mention #{id}").format(id=mention_id), hint=_("`cmday inbox --state all` lists them"))
    return session, mention


def assign(
    options: Options,
    mention_id: MentionId,
    who: Annotated[
        str | None,
        typer.Argument(metavar="HANDLE", help=_("The team member's handle, as [[team]] in cmday.toml names them."), show_default=False),
    ] = None,
    me: Annotated[bool, typer.Option("--me", help=_("Assign it to yourself (CMDAY_USER, or the workspace's owner)."))] = False,
) -> None:
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.team import display_name, member_handle

    if (who is None) == (not me):
        raise UsageError(_("name one team member, or --me"), hint=_("cmday assign 42 ana, or cmday assign 42 --me"))
    session, mention = _open(options, mention_id)
    try:
        config = session.workspace.config
        if me:
            if not session.user:
                raise UsageError(_("cmday does not know who you are"), hint=_("set CMDAY_USER to your handle, or owner in cmday.toml"))
            handle = session.user
        else:
            handle = member_handle(config, who or "")
        session.store.assign(mention.id, handle, session.now)
        if options.json:
            output.print_json({"mention": mention.id, "assignee": handle})
        else:
            output.message(_("#{id}: assigned to {name}").format(id=mention.id, name=display_name(config, handle)))
    finally:
        session.close()


def unassign(options: Options, mention_id: MentionId) -> None:
    from cmday.cli import output

    session, mention = _open(options, mention_id)
    try:
        session.store.assign(mention.id, None, session.now)
        if options.json:
            output.print_json({"mention": mention.id, "assignee": None})
        else:
            output.message(_("#{id}: assigned to nobody").format(id=mention.id))
    finally:
        session.close()


def note(
    options: Options,
    mention_id: MentionId,
    text: Annotated[str, typer.Argument(help=_("The note, for the team only."))],
) -> None:
    from cmday.cli import output
    from cmday.errors import UsageError

    if not text.strip():
        raise UsageError(_("an empty note; nothing kept"), hint=_('cmday note 42 "called the customer, refund approved"'))
    session, mention = _open(options, mention_id)
    try:
        author = session.user or "-"
        number = session.store.add_note(mention.id, author, text.strip(), session.now)
        if options.json:
            output.print_json({"mention": mention.id, "note": number, "author": author})
        else:
            output.message(_("#{id}: note kept (internal: never sent, never in the client report)").format(id=mention.id))
    finally:
        session.close()


def copy(
    options: Options,
    to: Annotated[
        str,
        typer.Option("--to", help=_("The state to copy into: postgresql://user@host/database (the password in CMDAY_STATE_PASSWORD)."), show_default=False),
    ],
) -> None:
    from cmday.cli import output
    from cmday.session import Session
    from cmday.store import Store
    from cmday.store.copy import copy_state

    session = Session(options.workspace, options.demo, options.lang)
    try:
        target = Store(to)
        try:
            copied = copy_state(session.store, target)
        finally:
            target.close()
        if options.json:
            output.print_json({"from": session.store.location, "to": target.location, "copied": copied.added, "already_there": copied.present})
            return
        output.message(
            ngettext("{count} row copied into {to}", "{count} rows copied into {to}", copied.total_added).format(
                count=copied.total_added, to=target.location
            )
        )
        if copied.total_present:
            output.message(
                ngettext("{count} row was there already and was left as it is", "{count} rows were there already and were left as they are",
                         copied.total_present).format(count=copied.total_present),
                style="dim",
            )
    finally:
        session.close()
