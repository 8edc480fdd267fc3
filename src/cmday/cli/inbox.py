"""`cmday fetch`, `inbox`, `show`, `mark`: the unified inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.i18n import _, ngettext
from cmday.labels import category_label, state_heading, state_label

INBOX_STATES = ("open", "answered", "escalated", "snoozed", "ignored", "all")
MARK_STATES = ("answered", "escalated", "snoozed", "ignored", "open")


def register(app: typer.Typer) -> None:
    command(app, "fetch", help=_("Pull new mentions from every source now."))(fetch)
    command(app, "inbox", help=_("List interactions, urgent first, with their age against their response time."))(inbox)
    command(app, "show", help=_("Show one mention whole."))(show)
    command(app, "mark", help=_("Change an interaction's state: answered, escalated, snoozed, ignored, open."))(mark)


def fetch(
    options: Options,
    source: Annotated[str | None, typer.Option("--source", "-s", help=_("Only this source id."), show_default=False)] = None,
) -> None:
    from cmday.cli import output
    from cmday.cli.sweep import sweep
    from cmday.errors import ExitCode, UsageError
    from cmday.routine import MentionLine
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        projects = session.workspace.select(options.project)
        if source is not None and not any(p.source(source) for p in projects):
            known = ", ".join(s.id for p in projects for s in p.sources) or _("none")
            raise UsageError(_("no source {source!r}; sources: {known}").format(source=source, known=known))
        if options.offline:
            raise UsageError(_("fetch and --offline contradict each other"), hint=_("drop --offline to fetch"))
        reports = sweep(session, projects, source, quiet=options.json)
        new_mentions = [
            m for r in reports for m in session.store.mentions(r.project, states=None, fetched_since=r.started)
        ]
        errors = [
            {"project": r.project, "source": s.source_id, "platform": s.platform, "error": s.error, "needs_auth": s.needs_auth}
            for r in reports
            for s in r.errors
        ] + [{"project": r.project, "source": None, "platform": None, "error": r.not_fetched, "needs_auth": False}
             for r in reports if r.not_fetched]
        if options.json:
            output.print_json({"mentions": [MentionLine.of(m, session.now) for m in new_mentions], "errors": errors, "sources": [
                {"project": r.project, "source": s.source_id, "platform": s.platform, "new": s.new, "error": s.error,
                 "more_to_read": s.more_to_read, "notes": s.notes, "counts": s.counts,
                 "incomplete": {"count": len(s.incomplete), "ids": s.incomplete}}
                for r in reports for s in r.results
            ]})
        else:
            for report in reports:
                if report.not_fetched:
                    output.error(_("{project}: not fetched: {error}").format(project=report.project, error=report.not_fetched),
                                 _("fix the protocol file; its mentions are read by the next fetch"))
                for result in report.results:
                    if result.error:
                        output.error(_("{project}/{source}: {error}").format(project=report.project, source=result.source_id, error=result.error))
                    else:
                        line = ngettext("{project}/{source}: {count} new", "{project}/{source}: {count} new", result.new).format(
                            project=report.project, source=result.source_id, count=result.new)
                        output.message(" · ".join([line, *_activity(result.counts)]))
        if any(r.not_fetched for r in reports):
            raise typer.Exit(int(ExitCode.CONFIG))
        if errors and len(errors) == sum(len(r.results) for r in reports):
            raise typer.Exit(int(ExitCode.SOURCES))
    finally:
        session.close()


def _activity(counts: dict[str, int]) -> list[str]:
    """Favourites (Bluesky likes), boosts (reposts) and follows a fetch counted, as words."""
    words = {
        "favourites": lambda n: ngettext("{count} favourite", "{count} favourites", n),
        "boosts": lambda n: ngettext("{count} boost", "{count} boosts", n),
        "follows": lambda n: ngettext("{count} follow", "{count} follows", n),
    }
    return [words[key](counts[key]).format(count=counts[key]) for key in words if counts.get(key)]


def _flag_label(flag: str) -> str:
    labels = {
        "filtered": _("filtered by the server (an account it holds back: new, or not followed)"),
        "no-date": _("no date from the server: the time it was fetched is shown"),
        "no-author": _("unknown author: the server sent none"),
        "categorised": _("category set by hand"),
        "hidden": _("hidden on the platform: only its author sees it"),
    }
    return labels.get(flag, flag)


def inbox(
    options: Options,
    state: Annotated[str, typer.Option("--state", help=_("open, answered, escalated, snoozed, ignored or all."))] = "open",
    platform: Annotated[str | None, typer.Option("--platform", help=_("Only this platform."), show_default=False)] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help=_("Only what came in since: 2026-11-20, 20/11/2026 08:00, 08:00, 12h, 3d, yesterday 18:00."), show_default=False),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", help=_("Show at most this many (default 50 on screen, all in --json; 0 for all)."), show_default=False),
    ] = None,
    compact: Annotated[bool, typer.Option("--compact", help=_("One line per section and per mention."))] = False,
    mine: Annotated[bool, typer.Option("--mine", help=_("Only the mentions assigned to you."))] = False,
    unassigned: Annotated[bool, typer.Option("--unassigned", help=_("Only the mentions nobody has."))] = False,
    assignee: Annotated[str | None, typer.Option("--assignee", help=_("Only the mentions of this team member."), show_default=False)] = None,
) -> None:
    from cmday.cli import output, render
    from cmday.errors import UsageError
    from cmday.routine import MentionLine
    from cmday.session import Session
    from cmday.team import chosen_assignee

    if state not in INBOX_STATES:
        raise UsageError(_("unknown state {state!r}; use one of: {states}").format(state=state, states=", ".join(INBOX_STATES)))
    session = Session(options.workspace, options.demo, options.lang)
    try:
        projects = session.workspace.select(options.project)
        broken = list(session.workspace.broken.values()) if options.project is None else []
        if platform is not None:
            from cmday.typed import choose_platform

            platform = choose_platform(platform, projects, "--platform")
        since_at = read_option_moment(since, "--since", session) if since else None
        states = None if state == "all" else (state,)
        listed = []
        shown = limit if limit is not None else (None if options.json else 50)
        who = chosen_assignee(session.workspace.config, session.user, mine, unassigned, assignee)
        for project in projects:
            filters = {"states": states, "now": session.now, "since": since_at, "platform": platform, "assignee": who}
            # the screen shows `shown` of each project and the count of the rest: read only those, count the others
            read = shown if shown and not options.json else None  # 0 shows all
            mentions = session.store.mentions(project.slug, **filters, limit=read)
            total = session.store.count_mentions(project.slug, **filters) if read and len(mentions) >= read else len(mentions)
            listed.append((project, mentions, total))
        if options.json:
            everything = [m for _p, ms, _t in listed for m in ms]
            output.print_json({
                "mentions": [MentionLine.of(m, session.now) for m in (everything[:shown] if shown else everything)],
                "broken": [{"project": b.slug, "file": b.file, "error": b.error.message, "hint": b.error.hint} for b in broken],
            })
            return
        def draw(console) -> None:
            for project, mentions, total in listed:
                header = session.day(project).header()
                render.section(console, f"{project.name} · {state_heading(state)}", total, compact=compact)
                if mentions:
                    visible = mentions[:shown] if shown else mentions
                    table = render.mention_table([MentionLine.of(m, session.now) for m in visible], header, console.width,
                                                 show_state=state == "all")
                    table.show_header = not compact
                    console.print(table)
                    if len(visible) < total:
                        console.print(_("… and {count} more (--limit 0 shows all)").format(count=total - len(visible)), style="dim")
                else:
                    console.print(_("Nothing here."), style="green")
            for project in broken:
                from cmday.routine import BrokenView, FileProblem

                render.broken(console, BrokenView(project.slug, project.file, FileProblem.of("project", project.error)))

        output.paged(draw)
    finally:
        session.close()


def read_option_moment(value: str, option: str, session, future: bool = False) -> datetime:
    """An option's date or time read by the one reader (`cmday.typed`), in the workspace's time zone, said back when it chose a day."""
    from cmday.cli import output
    from cmday.typed import read_moment

    zone = session.workspace.zone
    if session.workspace.config.default_project in session.workspace.projects:
        zone = session.workspace.project_zone(session.workspace.projects[session.workspace.config.default_project])
    moment = read_moment(value, option, session.now, zone, future=future)
    if moment.said_back:
        output.message(moment.said_back, style="dim")
    return moment.at


def show(
    options: Options,
    mention_id: Annotated[int, typer.Argument(metavar="ID", help=_("The mention's number, as the inbox shows it."))],
) -> None:
    from rich.text import Text

    from cmday.cli import output
    from cmday.reply import thread_above
    from cmday.routine import MentionLine
    from cmday.session import Session
    from cmday.team import display_name, team_view
    from cmday.textsafe import clean

    session = Session(options.workspace, options.demo, options.lang)
    try:
        mention = _find(session, mention_id)
        project = session.workspace.projects[mention.project]
        thread = thread_above(session.store, session.workspace, project, mention, offline=options.offline)
        if thread.problem:
            output.message(_("could not read the thread from {platform}, showing what is stored: {reason}").format(
                platform=mention.platform, reason=thread.problem), style="dim")
        above = thread.posts
        team = team_view(session.store, session.workspace.config, mention, session.user, session.now)
        if options.json:
            lines = [MentionLine.of_post(m, mention, session.now) if thread.from_platform else MentionLine.of(m, session.now) for m in above]
            output.print_json({"mentions": [MentionLine.of(mention, session.now)], "thread": lines, "replying": team.replying,
                               "notes": [{"author": n.author, "at": n.at.isoformat(), "text": n.text} for n in team.notes]})
            return
        out = output.out
        for parent in above:
            out.print(Text.assemble(("  ↳ " if parent is not above[0] else "", "dim"), (clean(parent.author_handle or parent.author_name) + ": ", "dim cyan"),
                                    (clean(parent.text), "dim")))
        if above:
            out.print()
        out.print(Text.assemble((f"#{mention.id} ", "bold"), (f"{mention.platform} · {mention.kind} · {category_label(mention.category)}", "dim"),
                                ("  ! " + _("urgent"), "bold red") if mention.urgent else ""))
        out.print(Text.assemble((_("from: "), "dim"), clean(mention.author_name), " ", (clean(mention.author_handle), "cyan")))
        zone = session.workspace.project_zone(project)
        at = mention.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        out.print(Text.assemble((_("at: "), "dim"), at, "   ", (_("state: "), "dim"), state_label(mention.state)))
        if mention.flags:
            out.print(Text.assemble((_("marked: "), "dim"), (" · ".join(_flag_label(f) for f in mention.flags), "yellow")))
        if team.assignee:
            out.print(Text.assemble((_("assigned to: "), "dim"), clean(team.assignee)))
        if team.replying:
            out.print(Text(team.replying, style="bold yellow"))
        if mention.url:
            out.print(Text.assemble((_("link: "), "dim"), clean(mention.url)))
        out.print()
        out.print(Text(clean(mention.text)))
        if mention.state_reason:
            out.print()
            out.print(Text.assemble((_("reason: "), "dim"), clean(mention.state_reason)))
        from cmday.cli.render import earlier_block

        earlier_block(out, *session.store.earlier_from_author(mention, limit=5), zone)
        if team.notes:
            out.print()
            out.print(Text(_("Internal notes (never sent):"), style="dim"))
            for note in team.notes:
                when = note.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                out.print(Text.assemble((f"  {when} {clean(display_name(session.workspace.config, note.author))}: ", "dim"), clean(note.text)))
    finally:
        session.close()


def _find(session, mention_id: int):
    from cmday.errors import UsageError

    mention = session.store.mention(mention_id)
    if mention is None or mention.project not in session.workspace.projects:
        raise UsageError(_("no mention #{id}").format(id=mention_id), hint=_("`cmday inbox --state all` lists them"))
    return mention


def mark(
    options: Options,
    mention_id: Annotated[int, typer.Argument(metavar="ID", help=_("The mention's number, as the inbox shows it."))],
    state: Annotated[str, typer.Argument(help=_("answered, escalated, snoozed, ignored or open."))],
    why: Annotated[str, typer.Option("--why", help=_("Why (required to ignore: never ignore silently)."))] = "",
    until: Annotated[str | None, typer.Option(
        "--until", help=_("Snooze until: 2026-11-23T09:00, 23/11/2026 09:00, 17:00, tomorrow 9:00, or in: 2h, 1d."), show_default=False)] = None,
) -> None:
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.routine import MentionLine
    from cmday.session import Session
    from cmday.typed import read_moment

    if state not in MARK_STATES:
        raise UsageError(_("unknown state {state!r}; use one of: {states}").format(state=state, states=", ".join(MARK_STATES)))
    if state == "ignored" and not why.strip():
        raise UsageError(_("ignoring needs a reason: --why \"...\" (the protocol says never ignore silently)"))
    if state == "snoozed" and not until:
        raise UsageError(_("snoozing needs --until (a time, or an age such as 2h)"))
    session = Session(options.workspace, options.demo, options.lang)
    try:
        mention = _find(session, mention_id)
        project = session.workspace.projects[mention.project]
        snooze_until = None
        if until:
            moment = read_moment(until, "--until", session.now, session.workspace.project_zone(project), future=True)
            if moment.said_back:
                output.message(moment.said_back, style="dim")
            snooze_until = moment.at
        session.store.set_state(mention.id, state, session.now, why, snooze_until)
        if options.json:
            output.print_json({"mentions": [MentionLine.of(session.store.mention(mention.id), session.now)]})
        else:
            output.message(_("#{id}: {state}").format(id=mention.id, state=state_label(state)))
    finally:
        session.close()
