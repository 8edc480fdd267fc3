"""`cmday reply`, `escalate`, `lint`, `triage` and `protocol add-template`: answering with one voice."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cmday.cli.common import Options, command, group_options
from cmday.i18n import _, ngettext

MentionId = Annotated[int, typer.Argument(metavar="ID", help=_("The mention's number, as the inbox shows it."))]


def register(app: typer.Typer) -> None:
    command(app, "reply", help=_("Answer a mention: suggested templates, your edit, conduct checks, then send (never twice)."))(reply)
    command(app, "escalate", help=_("Escalate a mention to the team or the client: webhook, ready-to-send email or text to copy."))(escalate)
    command(app, "lint", help=_("Run the protocol's conduct checks on a draft reply or post."))(lint)
    command(app, "triage", help=_("Re-classify open mentions after editing the protocol, or explain one (--explain ID)."))(triage)
    protocol_app = typer.Typer(help=_("The response protocol: categories, templates, conduct rules, escalation."), no_args_is_help=True)
    group_options(protocol_app)
    command(protocol_app, "add-template", help=_("Turn a reply you wrote into a new template in the project's protocol file."))(add_template)
    app.add_typer(protocol_app, name="protocol")


def _session(options: Options):
    from cmday.session import Session

    return Session(options.workspace, options.demo, options.lang)


def _mention_and_project(session, mention_id: int):
    from cmday.errors import UsageError

    mention = session.store.mention(mention_id)
    if mention is None or mention.project not in session.workspace.projects:
        raise UsageError(_("no mention #{id}").format(id=mention_id), hint=_("`cmday inbox --state all` lists them"))
    return mention, session.workspace.projects[mention.project]


def _edit(text: str, mention, reply_plan, values: dict[str, str], template: str) -> str:
    """The draft in $EDITOR with what it answers as comment lines; an unchanged template is sent only when confirmed."""
    from cmday.cli.prompts import confirm, edit_reply
    from cmday.errors import UsageError
    from cmday.textsafe import one_line

    about = [
        _("Replying to #{id} on {platform}, from {author}:").format(
            id=mention.id, platform=mention.platform, author=one_line(mention.author_handle or mention.author_name, 80)
        ),
        *[f"> {one_line(line, 200)}" for line in (mention.text or "").splitlines()[:12]],
        "",
        _("Limit: {limit} characters on {platform}.").format(limit=reply_plan.limit, platform=reply_plan.platform)
        if reply_plan.limit
        else _("No length limit known for {platform}.").format(platform=reply_plan.platform),
        _("Placeholders: {values}").format(values=", ".join(f"{{{k}}} = {one_line(str(v), 40)}" for k, v in values.items())),
        _("Lines starting with '# ' are removed. Save and quit to go on; an empty reply or quitting with an error (:cq) sends nothing."),
    ]
    edited = edit_reply(text, about)
    if template and edited == text.strip():
        if not confirm(_("The reply is the template {name!r} unchanged. Send it as it is?").format(name=template), default=False):
            raise UsageError(_("not sent: the template was left unchanged"), hint=_("edit it, or pass --yes to send the template as it is"))
    return edited


def reply(
    options: Options,
    mention_id: MentionId,
    template: Annotated[str | None, typer.Option("--template", "-t", help=_("Start from this template."), show_default=False)] = None,
    text: Annotated[str | None, typer.Option("--text", help=_("The reply's text (no editor)."), show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Show exactly what would be sent; send nothing."))] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Send without asking (for scripts)."))] = False,
    again: Annotated[bool, typer.Option("--again", help=_("Reply to an interaction already answered."))] = False,
    force: Annotated[bool, typer.Option("--force", help=_("Send even when a conduct check fails (never past the length limit)."))] = False,
    resume: Annotated[bool, typer.Option(
        "--resume", help=_("Send the pending reply (one interrupted or failed) as it was: cmday asks the platform first."))] = False,
    discard: Annotated[bool, typer.Option("--discard", help=_("Drop the pending reply once the platform shows it does not hold it."))] = False,
) -> None:
    from rich.text import Text

    from cmday import reply as core
    from cmday.cli import output
    from cmday.cli.prompts import confirm
    from cmday.textsafe import clean

    session = _session(options)
    marked = None
    try:
        mention, project = _mention_and_project(session, mention_id)
        protocol = session.protocol(project)
        interactive = sys.stdin.isatty() and not options.json
        marked = _say_who_else_is_replying(session, mention, mark=not dry_run)
        if discard and (not _discard_pending(options, session, project, mention) or (text is None and template is None)):
            return  # found sent, or dropped with no new text given: `--discard` alone only settles the pending one
        request = core.ReplyRequest(template=template, text=text, again=again, force=force, resume=resume)
        replying = core.Replying(session.store, session.workspace, project, protocol, mention, session.language, request, session.now,
                                 interactive=interactive)
        if replying.answered_before and not (interactive and confirm(_("#{id} is already answered. Reply again?").format(id=mention.id), default=False)):
            raise replying.already_answered()
        plan = replying.prepare(online=not options.offline)
        if not options.json:
            out = output.out
            out.print(Text.assemble((f"#{mention.id} ", "bold"), (f"{mention.platform} · {mention.kind} · {mention.category}", "dim"), "  ",
                                    (clean(mention.author_handle or mention.author_name), "cyan")))
            out.print(Text(clean(mention.text)))
            out.print()
        chosen_name = ""
        if replying.text is None:
            chosen = replying.suggestion()
            chosen_name, written = chosen.name, chosen.text
            if not options.json:
                for suggestion in plan.suggestions:
                    marker = "→" if suggestion.name == chosen_name else " "
                    output.out.print(Text.assemble((f"{marker} {suggestion.name}: ", "dim"), suggestion.text))
            if interactive and not yes and not dry_run:
                written = _edit(written, mention, plan, replying.values, chosen_name)
        else:
            written = replying.typed_text()  # typed on the command line: placeholders filled as a template's are
        verdict = replying.judge(written, chosen_name)
        result = {"mention": mention.id, "platform": plan.platform, "text": verdict.text, "in_reply_to": mention.platform_id,
                  "findings": verdict.findings, "sent": False, "url": None, "draft": None, "can_send": plan.can_send,
                  "demo": plan.rehearsal}
        if not options.json:
            output.out.print()
            output.out.print(Text(_("Reply:"), style="bold"))
            output.out.print(Text(clean(verdict.text)))
            for finding in verdict.findings:
                style = "bold red" if finding.severity == "error" else "yellow"
                output.out.print(Text.assemble(("✘ " if finding.severity == "error" else "⚠ ", style), (finding.rule + ": ", "dim"), finding.message))
        if verdict.blocking:
            result["draft"] = verdict.draft.id
            _finish(options, result)
            raise verdict.refusal()
        if dry_run:
            output.message(_("dry run: nothing was sent"))
            _finish(options, result)
            return
        if not plan.can_send:
            output.message(_("{platform} has no reply API in cmday: copy the text above and answer on the platform").format(platform=plan.platform))
            if yes or (interactive and confirm(_("Mark #{id} as answered?").format(id=mention.id), default=True)):
                replying.mark_answered()
                output.message(_("#{id}: answered").format(id=mention.id))
            _finish(options, result)
            return
        if not yes and not (interactive and confirm(_("Send this reply now?"), default=False)):
            output.message(_("not sent (send it with --yes)"))
            _finish(options, result)
            return
        outcome = replying.send(verdict, chosen_name, by=session.user)
        result.update(draft=outcome.draft.id, sent=not outcome.rehearsal, url=outcome.sent.url or None)
        _said_sent(outcome, mention)
        _finish(options, result)
    finally:
        if marked is not None:
            session.store.stop_replying(marked, session.user)
        session.close()


def _say_who_else_is_replying(session, mention, mark: bool) -> int | None:
    """"Ana is replying (since 2 min)" on stderr; unless a dry run, this CM is marked as replying for the others
    (returns the mention's id then, to clear the mark at the end)."""
    from cmday import clock
    from cmday.cli import output
    from cmday.team import replying_line

    now = clock.now()
    mark = mark and bool(session.user)
    other = session.store.start_replying(mention.id, session.user, now) if mark else session.store.replying(mention.id, now)
    if other is not None and other.who and other.who != session.user:
        output.message(replying_line(session.workspace.config, other.who, other.since, now), style="yellow")
    return mention.id if mark else None


def _discard_pending(options: Options, session, project, mention) -> bool:
    """`reply --discard`: True when the pending reply was dropped; False when it was found sent."""
    from cmday import reply as core
    from cmday.cli import output

    outcome = core.discard(session.store, session.workspace, project, mention)
    if outcome is None:
        output.message(_("#{id}: the pending reply is not on {platform}; discarded").format(id=mention.id, platform=mention.platform))
        return True
    _said_sent(outcome, mention)
    if options.json:
        output.print_json({"mention": mention.id, "draft": outcome.draft.id, "sent": not outcome.rehearsal, "url": outcome.sent.url or None,
                           "found": True})
    return False


def _said_sent(outcome, mention) -> None:
    from cmday.cli import output

    if outcome.rehearsal:
        output.message(_("demo: nothing was sent to {platform}; in your own workspace this reply would be posted there. #{id}: answered").format(
            platform=mention.platform, id=mention.id))
    elif outcome.found:
        output.message(_("already on {platform} from an earlier attempt, not posted again: {url}").format(platform=mention.platform, url=outcome.sent.url))
    else:
        output.message(_("sent: {url}").format(url=outcome.sent.url))


def _finish(options: Options, result: dict) -> None:
    if options.json:
        from cmday.cli import output

        output.print_json(result)


def escalate(
    options: Options,
    mention_id: MentionId,
    to: Annotated[str, typer.Option("--to", help=_("Who: client or team (as named in the protocol's [escalation.contacts])."))],
    note: Annotated[str, typer.Option("--note", help=_("What you want them to know or decide."))] = "",
) -> None:
    from cmday import clock
    from cmday.cli import output
    from cmday.escalation import escalate as send_escalation

    session = _session(options)
    try:
        mention, project = _mention_and_project(session, mention_id)
        done = send_escalation(session.day(project), mention, to, note, session.outbox, clock.now())
        delivery, message, recipient = done.delivery, done.message, done.recipient
        if options.json:
            output.print_json({"mention": mention.id, "to": done.to, "channel": delivery.channel, "delivered": delivery.delivered,
                               "detail": delivery.detail, "subject": message.subject, "body": message.body})
            return
        if delivery.channel == "webhook":
            output.message(_("#{id} escalated to {to}: posted to the webhook").format(id=mention.id, to=recipient))
        elif delivery.channel == "email":
            output.message(_("#{id} escalated to {to}: email ready to send in {path}").format(id=mention.id, to=recipient, path=delivery.detail))
        else:
            output.message(_("#{id} escalated to {to}; no contact channel in the protocol, so here it is to copy:").format(id=mention.id, to=recipient))
            output.out.print(message.subject, soft_wrap=True)
            output.out.print()
            output.out.print(message.body, soft_wrap=True)
    finally:
        session.close()


def lint(
    options: Options,
    text: Annotated[str | None, typer.Argument(help=_("The draft's text (or use --file)."), show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help=_("Read the draft from this file."), show_default=False)] = None,
    platform: Annotated[str | None, typer.Option("--platform", help=_("Check this platform's length limit."), show_default=False)] = None,
    reply_to: Annotated[int | None, typer.Option("--reply-to", help=_("Check it as a reply to this mention."), show_default=False)] = None,
    media: Annotated[
        list[str] | None,
        typer.Option("--media", help=_("A file the post carries (repeat for more): checked for alt text."), show_default=False),
    ] = None,
    alt: Annotated[
        list[str] | None,
        typer.Option("--alt", help=_("The alt text of a --media file, what screen readers say (one per file, in the same order)."), show_default=False),
    ] = None,
) -> None:
    from rich.text import Text

    from cmday.cli import output
    from cmday.conduct import lint as run_lint
    from cmday.conduct import placeholder_findings
    from cmday.errors import ExitCode, UsageError

    if (text is None) == (file is None):
        raise UsageError(_("give the text, or --file, not both"))
    if file is not None:
        try:
            # the newline every editor ends a file with is not part of the draft, nor counted against the limit
            text = file.read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except OSError as error:
            raise UsageError(_("cannot read {path}: {reason}").format(path=file, reason=error.strerror)) from None
    session = _session(options)
    try:
        category = None
        if reply_to is not None:
            mention, project = _mention_and_project(session, reply_to)
            category, platform = mention.category, platform or mention.platform
        else:
            project = session.workspace.default_project(options.project)
        language = project.project.language or session.language
        protocol = session.protocol(project)
        files = media or []
        if len(alt or []) > len(files):
            raise UsageError(_("more --alt than --media: give one --alt for each --media file"))
        findings = run_lint(text or "", protocol=protocol, project=project, language=language,
                            kind="reply" if reply_to else "post", category=category, platform=platform,
                            media=files, media_alt=dict(zip(files, alt or [], strict=False)))
        findings += placeholder_findings(text or "", ["author", "brand", "agent", *protocol.values])
        findings.sort(key=lambda f: f.severity != "error")
        if options.json:
            output.print_json({"findings": findings})
        elif not findings:
            output.out.print(Text(_("✔ passes every conduct check"), style="green"))
        for finding in [] if options.json else findings:
            style = "bold red" if finding.severity == "error" else "yellow"
            output.out.print(Text.assemble(("✘ " if finding.severity == "error" else "⚠ ", style), (finding.rule + ": ", "dim"), finding.message))
        if any(f.severity == "error" for f in findings):
            raise typer.Exit(int(ExitCode.ATTENTION))
    finally:
        session.close()


def triage(
    options: Options,
    explain: Annotated[int | None, typer.Option("--explain", help=_("Show which rule classified this mention."), show_default=False)] = None,
) -> None:
    from rich.text import Text

    from cmday.cli import output
    from cmday.protocol import PATTERN_SECONDS
    from cmday.triage import Triage

    session = _session(options)
    try:
        if explain is not None:
            mention, project = _mention_and_project(session, explain)
            found = Triage.for_project(project, session.protocol(project)).explain(mention.text, mention.kind)
            if options.json:
                output.print_json({"mention": mention.id, "stored_category": mention.category, "explanation": found})
                return
            how = {"word": _("the word or phrase"), "pattern": _("the pattern"), "default": _("no rule matched: the default")}[found.rule]
            output.out.print(Text.assemble((f"#{mention.id} → ", "bold"), (found.category, "bold cyan"),
                                           f"  ({how} {found.matched!r})" if found.matched else f"  ({how})"))
            if found.urgent_word:
                output.out.print(Text(_("urgent: the project's urgent word {word!r}").format(word=found.urgent_word), style="red"))
            output.out.print(Text(_("priority {priority}, answer within {minutes} min, language {language}").format(
                priority=found.priority, minutes=found.sla_minutes, language=found.language or "?")))
            if found.category != mention.category:
                output.out.print(Text(_("stored as {category}: run `cmday triage` to re-classify open mentions").format(category=mention.category),
                                      style="yellow"))
            return
        changed = {}
        for project in session.workspace.select(options.project):
            open_mentions = session.store.mentions(project.slug, states=("open", "snoozed"))
            triage = Triage.for_project(project, session.protocol(project))
            changes = triage.reclassify(open_mentions)
            session.store.reclassify(changes)
            changed[project.slug] = len(changes)
            for where in triage.slow_patterns():  # stopped at its time limit: said, never a stalled command
                output.message(_("{project}: a protocol pattern took over {seconds} s on one mention and was left out; simplify it: {where}").format(
                    project=project.slug, seconds=PATTERN_SECONDS, where=where), style="yellow")
        if options.json:
            output.print_json({"reclassified": changed})
        else:
            for slug, count in changed.items():
                output.message(ngettext("{project}: {count} open mention re-classified", "{project}: {count} open mentions re-classified", count).format(
                    project=slug, count=count))
    finally:
        session.close()


def add_template(
    options: Options,
    from_id: Annotated[int, typer.Option("--from", help=_("The mention whose reply becomes the template."))],
    name: Annotated[str, typer.Option("--name", help=_("The template's name."))],
) -> None:
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.protocol_file import add_template as write_template

    session = _session(options)
    try:
        mention, project = _mention_and_project(session, from_id)
        drafts = [d for d in session.store.drafts_for(mention.id) if d.text.strip()]
        if not drafts:
            raise UsageError(_("#{id} has no reply written with cmday to learn from").format(id=mention.id),
                             hint=_("reply with `cmday reply {id}` first").format(id=mention.id))
        latest = next((d for d in reversed(drafts) if d.status == "sent"), drafts[-1])
        path, text = write_template(session.workspace, project, mention, latest.text, name)
        output.message(_("template {name!r} for {category} added to {path}").format(name=name, category=mention.category, path=path))
        if options.json:
            output.print_json({"template": name, "category": mention.category, "text": text, "file": str(path)})
    finally:
        session.close()
