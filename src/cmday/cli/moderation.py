"""`cmday hide` and `cmday unhide`: a spam or abusive comment hidden on Instagram or Facebook, not deleted."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.i18n import _

MentionId = Annotated[int, typer.Argument(metavar="ID", help=_("The mention's number, as the inbox shows it."))]
Yes = Annotated[bool, typer.Option("--yes", "-y", help=_("Do it without asking (for scripts)."))]


def register(app: typer.Typer) -> None:
    command(app, "hide", help=_("Hide a comment on Instagram or Facebook (spam, abuse): only its author still sees it; it leaves the open inbox."))(hide)
    command(app, "unhide", help=_("Show a hidden Instagram or Facebook comment again; one that hiding set aside comes back open."))(unhide)


def hide(options: Options, mention_id: MentionId, yes: Yes = False) -> None:
    _set_hidden(options, mention_id, True, yes)


def unhide(options: Options, mention_id: MentionId, yes: Yes = False) -> None:
    _set_hidden(options, mention_id, False, yes)


def _set_hidden(options: Options, mention_id: int, hidden: bool, yes: bool) -> None:
    from cmday import hiding
    from cmday.cli import output
    from cmday.cli.prompts import confirm
    from cmday.errors import UsageError
    from cmday.labels import state_label
    from cmday.routine import MentionLine
    from cmday.session import Session
    from cmday.textsafe import one_line

    session = Session(options.workspace, options.demo, options.lang)
    try:
        mention = session.store.mention(mention_id)
        if mention is None or mention.project not in session.workspace.projects:
            raise UsageError(_("no mention #{id}").format(id=mention_id), hint=_("`cmday inbox --state all` lists them"))
        if options.offline:
            raise UsageError(_("hiding is done on the platform: it cannot be done with --offline"))
        project = session.workspace.projects[mention.project]
        interactive = sys.stdin.isatty() and not options.json
        if not yes:
            question = (_("Hide #{id} on {platform} ({author}: {text})? Only its author will see it.") if hidden
                        else _("Show #{id} again on {platform} ({author}: {text})?"))
            words = {"id": mention.id, "platform": mention.platform, "author": one_line(mention.author_handle or mention.author_name, 30),
                     "text": one_line(mention.text, 50)}
            if not (interactive and confirm(question.format(**words), default=False)):
                output.message(_("nothing changed (do it with --yes)") if not interactive else _("nothing changed"))
                return
        outcome = hiding.set_hidden(session.store, session.workspace, project, mention, hidden, session.now)
        if options.json:
            output.print_json({"mentions": [MentionLine.of(outcome.mention, session.now)]})
        else:
            said = {"id": mention.id, "platform": mention.platform, "state": state_label(outcome.mention.state)}
            if hidden and outcome.state_changed:
                output.message(_("#{id} hidden on {platform}: out of the open inbox (`cmday unhide {id}` shows it again)").format(**said))
            elif hidden and outcome.mention.state == "open":
                output.message(_("#{id} hidden on {platform}; it stays open: it is urgent, and hiding it answers nobody").format(**said))
            elif hidden:
                output.message(_("#{id} hidden on {platform}; it stays {state}").format(**said))
            elif outcome.state_changed:
                output.message(_("#{id} shown again on {platform}: back in the open inbox").format(**said))
            else:
                output.message(_("#{id} shown again on {platform}; it stays {state}").format(**said))
        if outcome.rehearsal:
            output.message(_("the demo changes nothing on {platform}").format(platform=mention.platform), style="dim")
    finally:
        session.close()
