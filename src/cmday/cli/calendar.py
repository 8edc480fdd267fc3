"""`cmday calendar` (agenda, add, check, due, import, export), `cmday utm` and `cmday publish`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cmday.cli.common import Options, command, group_default
from cmday.i18n import _, format_short_day, format_time, ngettext

MARKS = {"error": ("✘", "bold red"), "warning": ("⚠", "yellow"), "info": ("·", "dim")}
OVERDUE_ROWS = 10


def short_label(code: str) -> str:
    """A problem's code as the agenda marks it, in few words."""
    labels = {
        "past": _("past"),
        "dst-gap": _("no such time"),
        "dst-ambiguous": _("time twice"),
        "not-ready": _("not ready"),
        "media-missing": _("no media file"),
        "alt-missing": _("no alt text"),
        "link-broken": _("link broken"),
        "empty": _("empty"),
        "too-long": _("too long"),
        "taboo": _("taboo"),
        "utm-missing": _("no UTM"),
        "utm-naming": _("UTM naming"),
        "utm-mismatch": _("UTM mismatch"),
        "too-close": _("too close"),
        "duplicate": _("duplicate"),
    }
    return labels.get(code, code)


def _when(moment: Any) -> str:
    return f"{format_short_day(moment.date())} {format_time(moment)}"


def _problem_counts(counts: dict[str, int]) -> str:
    """ "0 errors · 2 warnings · 1 note": each count agrees with its own noun."""
    return " · ".join([
        ngettext("{count} error", "{count} errors", counts["error"]).format(count=counts["error"]),
        ngettext("{count} warning", "{count} warnings", counts["warning"]).format(count=counts["warning"]),
        ngettext("{count} note", "{count} notes", counts["info"]).format(count=counts["info"]),
    ])


def _already_there(skipped: int) -> str:
    return " (" + ngettext("{count} already there", "{count} already there", skipped).format(count=skipped) + ")"


def register(app: typer.Typer) -> None:
    calendar_app = typer.Typer(
        name="calendar",
        no_args_is_help=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    agenda_help = _("The publication calendar: the coming days, one line per post, with gaps and problems marked.")
    group_default(calendar_app, agenda_help)(agenda)
    command(calendar_app, "add", help=_("Add a post (flags, or questions on a terminal), written back keeping the file's comments."))(add)
    command(calendar_app, "check", help=_("Check the calendar: horizon, tomorrow, saturation, links, text, times. Exit 10 on errors."))(check)
    command(calendar_app, "due", help=_("List ready or scheduled posts whose time has come and that are not published."))(due)
    command(calendar_app, "import", help=_("Add the posts of a CSV, Excel or iCalendar file to the project's calendar."))(import_posts)
    command(calendar_app, "export", help=_("Write the calendar as CSV, an Excel workbook or iCalendar (Google Calendar, Outlook, Thunderbird)."))(export)
    app.add_typer(calendar_app, name="calendar", help=agenda_help)
    command(app, "utm", help=_("Build a UTM-tagged link, keeping the URL's own query and fragment."))(utm)
    command(app, "publish", help=_("Publish a ready post now through its source, never twice."))(publish)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


# -- the agenda ----------------------------------------------------------------------------------------

DaysOption = Annotated[
    int | None,
    typer.Option("--days", "-d", min=1, max=365, help=_("How many days ahead (default: the project's horizon, 14)."), show_default=False),
]


def agenda(options: Options, days: DaysOption = None) -> None:
    from cmday.calendar.agenda import agenda as agenda_view
    from cmday.cli import output
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        views = []
        for project in session.workspace.select(options.project):
            day = session.day(project)
            views.append((day.header(), agenda_view(day.plan, session.now, days)))
        if options.json:
            output.print_json({"projects": [view for _header, view in views]})
            return
        for header, view in views:
            _print_agenda(output.out, header, view)
    finally:
        session.close()


def _print_agenda(console: Any, header: Any, view: Any) -> None:
    from rich.text import Text

    from cmday.cli import render

    render.title(console, header, _("calendar"))
    if view.overdue:
        render.section(console, _("Overdue, not published"), len(view.overdue))
        console.print(_posts_table(view.overdue[-OVERDUE_ROWS:], console.width, with_day=True))
        if len(view.overdue) > OVERDUE_ROWS:
            console.print(Text(ngettext("… and {count} older: set its status, or move it", "… and {count} older: set their status, or move them",
                                        len(view.overdue) - OVERDUE_ROWS).format(count=len(view.overdue) - OVERDUE_ROWS), style="dim"))
    for run in _runs(view.agenda, view.today):
        entry = run[0]
        console.print()
        offset = (entry.day - view.today).days
        note = _("today") if offset == 0 else _("tomorrow") if offset == 1 else ""
        label = format_short_day(entry.day) + (f" – {format_short_day(run[-1].day)}" if len(run) > 1 else "")
        console.print(Text.assemble((label, "bold cyan"), (f"  {note}" if note else "", "dim")))
        if entry.posts:
            console.print(_posts_table(entry.posts, console.width))
        if entry.gaps:
            console.print(Text(_("  – nothing planned on: {platforms}").format(platforms=", ".join(entry.gaps)), style="yellow"))
        elif not entry.posts:
            console.print(Text(_("  – nothing planned"), style="dim"))
        for problem in entry.problems:
            mark, style = MARKS[problem.severity]
            console.print(Text.assemble(("  ", ""), (f"{mark} ", style), _day_message(problem)))
    counts = view.counts
    render.footer(
        console,
        _("{counts}  —  details: `cmday calendar check`").format(counts=_problem_counts(counts)),
    )


def _runs(days: list, today: Any) -> list[list]:
    """Days in order, consecutive empty days with the same gaps folded into one (from the day after tomorrow on)."""
    runs: list[list] = []
    for entry in days:
        empty = not entry.posts and not entry.problems and (entry.day - today).days >= 2
        previous = runs[-1] if runs else None
        if empty and previous and not previous[0].posts and not previous[0].problems \
                and (previous[0].day - today).days >= 2 and previous[0].gaps == entry.gaps:
            previous.append(entry)
        else:
            runs.append([entry])
    return runs


def _day_message(problem: Any) -> str:
    from cmday.textsafe import one_line

    # the day is already the heading: drop it from the message's start
    return one_line(problem.message.split(": ", 1)[-1] if problem.code == "too-many" else problem.message)


def _posts_table(posts: list, width: int, with_day: bool = False) -> Any:
    from rich.text import Text

    from cmday.cli.linetable import Column, LineTable
    from cmday.labels import state_label
    from cmday.textsafe import one_line

    table = LineTable([Column(), Column(max_width=10), Column(), Column(style="dim"), Column(flexible=True)], width, show_header=False)
    for post in posts:
        local = post.at.astimezone(post.at.tzinfo)
        when = f"{format_short_day(local.date())} {format_time(local)}" if with_day else format_time(local)
        status_style = "green" if post.status in ("ready", "scheduled", "published") else "yellow"
        text = Text(one_line(post.text) or "—")
        if post.problems:
            code = post.problems[0]
            mark, style = MARKS[post.severity or "warning"]
            more = f" +{len(post.problems) - 1}" if len(post.problems) > 1 else ""
            text = Text.assemble((f"{mark} {short_label(code)}{more} ", style), text)
        table.add_row(f"  {when}", one_line(post.platform), Text(state_label(post.status), style=status_style), post.key, text)
    return table



# -- check and due ------------------------------------------------------------------------------------


def check(
    options: Options,
    days: DaysOption = None,
    links: Annotated[bool, typer.Option("--links", help=_("Also check that links answer (a HEAD request each)."))] = False,
) -> None:
    from cmday.calendar.checks import check_plan, links_to_check
    from cmday.cli import output, render
    from cmday.errors import ExitCode
    from cmday.linkcheck import verify_links
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        results = []
        for project in session.workspace.select(options.project):
            day = session.day(project)
            answers, skipped = None, None
            if links and options.offline:
                skipped = _("links not checked: --offline")
            elif links:
                answers = verify_links(links_to_check(day.plan, session.now, days))
            problems = check_plan(day.plan, session.now, days, answers, skipped)
            results.append((day.header(), project, problems))
        if options.json:
            output.print_json({"projects": [{"project": p.slug, "problems": problems} for _h, p, problems in results]})
        else:
            for header, _project, problems in results:
                render.title(output.out, header, _("calendar check"))
                _print_problems(output.out, problems)
        if any(p.severity == "error" for _h, _p, problems in results for p in problems):
            raise typer.Exit(int(ExitCode.ATTENTION))
    finally:
        session.close()


def _print_problems(console: Any, problems: list) -> None:
    from rich.text import Text

    from cmday.textsafe import one_line

    if not problems:
        console.print(Text(_("Nothing to fix: the calendar is in order."), style="green"))
        return
    gaps: dict[str, list] = {}
    for problem in problems:
        if problem.code == "gap":
            gaps.setdefault(problem.platform, []).append(problem.day)
    for severity in MARKS:
        mark, style = MARKS[severity]
        for problem in problems:
            if problem.severity != severity or problem.code == "gap":
                continue
            key = f"  [{problem.post_key}]" if problem.post_key else ""
            console.print(Text.assemble((f"{mark} ", style), one_line(problem.message), (key, "dim")))
        if severity == "warning":
            for platform, days in gaps.items():
                shown = ", ".join(format_short_day(day) for day in days[:6]) + (" …" if len(days) > 6 else "")
                console.print(Text.assemble((f"{mark} ", style), ngettext("{platform}: nothing planned on {count} day: {days}",
                                                                          "{platform}: nothing planned on {count} days: {days}", len(days)).format(
                    platform=platform, count=len(days), days=shown)))
    counts = {severity: sum(1 for p in problems if p.severity == severity) for severity in MARKS}
    console.print()
    console.print(Text(_problem_counts(counts), style="dim"))


def due(options: Options) -> None:
    from rich.text import Text

    from cmday.calendar.plan import due as due_posts
    from cmday.cli import output
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        found = []
        for project in session.workspace.select(options.project):
            for planned in due_posts(session.day(project).plan, session.now):
                found.append((project, planned))
        if options.json:
            output.print_json({"due": [_due_json(project, planned) for project, planned in found]})
            return
        if not found:
            output.out.print(Text(_("Nothing is due."), style="green"))
            return
        for project, planned in found:
            extra = _(" (last try failed: {error})").format(error=planned.publication_error) if planned.publication == "failed" else ""
            output.out.print(Text.assemble(
                (f"{project.slug} ", "dim"), (planned.key, "bold"), f"  {_when(planned.local)}  {planned.platform}  ",
                output.safe(planned.post.text.split("\n")[0][:60]), (extra, "red"),
            ))
        output.message(_("publish one with `cmday publish KEY`"), style="dim")
    finally:
        session.close()


def _due_json(project: Any, planned: Any) -> dict:
    return {
        "project": project.slug,
        "key": planned.key,
        "at": planned.at,
        "platform": planned.platform,
        "source": planned.post.source,
        "status": planned.status,
        "text": planned.post.text,
        "link": planned.post.link,
        "media": planned.post.media,
        "publication": planned.publication,
        "error": planned.publication_error,
    }


# -- add, import, export ------------------------------------------------------------------------------------


def add(
    options: Options,
    at: Annotated[
        str | None,
        typer.Option("--at", help=_("When, local time: 2026-11-25T10:00, 25/11/2026 10:00, 10:00, tomorrow 9:00 or in 2h."), show_default=False),
    ] = None,
    platform: Annotated[str | None, typer.Option("--platform", help=_("The platform: mastodon, bluesky, instagram..."), show_default=False)] = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help=_("Or the source id (account) it goes out from."), show_default=False)] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help=_("The post's text."), show_default=False)] = None,
    link: Annotated[str | None, typer.Option("--link", help=_("A link to go with it."), show_default=False)] = None,
    media: Annotated[
        list[str] | None, typer.Option("--media", help=_("A media file, relative to the workspace (repeat for more)."), show_default=False)
    ] = None,
    alt: Annotated[
        list[str] | None,
        typer.Option("--alt", help=_("The alt text of a --media file, what screen readers say (one per file, in the same order)."), show_default=False),
    ] = None,
    campaign: Annotated[str, typer.Option("--campaign", help=_("Its campaign."))] = "",
    owner: Annotated[str, typer.Option("--owner", help=_("Who prepares it."))] = "",
    status: Annotated[str, typer.Option("--status", help=_("idea, draft, ready, scheduled or published."))] = "draft",
    post_id: Annotated[str | None, typer.Option("--id", help=_("Its key, instead of a hash (keeps it across edits)."), show_default=False)] = None,
    tag: Annotated[bool, typer.Option("--utm", help=_("Tag the link with UTM (source = platform, campaign = --campaign)."))] = False,
) -> None:
    from cmday.calendar.adding import NewPost, add_post
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.labels import state_label
    from cmday.session import Session
    from cmday.typed import read_moment

    session = Session(options.workspace, options.demo, options.lang)
    try:
        project = session.workspace.default_project(options.project)
        if at is None and text is None and _interactive():
            at, platform, text, link, status = _ask_post(project, platform, source)
        if at is None:
            raise UsageError(_("--at is required (there is no terminal to ask on)"), hint=_("e.g. --at 2026-11-25T10:00"))
        zone = session.workspace.project_zone(project)
        moment = read_moment(at, "--at", session.now, zone, future=True)
        if moment.said_back:
            output.message(moment.said_back, style="dim")
        # a local reading stays a local time in the file, as the CM writes posts; an offset or a span stays an instant
        when = moment.at.replace(tzinfo=None) if moment.at.tzinfo is zone else moment.at
        new = NewPost(when, text or "", platform, source, link, media or [], alt or [], campaign, owner, status, post_id, tag)
        added = add_post(session.workspace, project, session.store, new, session.now, session.protocol(project), session.language)
        if options.json:
            output.print_json({"added": added.post, "file": added.file, "problems": added.problems})
            return
        output.message(_("added {key}: {when} {platform} ({status}) to {file}").format(
            key=added.post.key, when=_when(added.post.at), platform=added.post.platform,
            status=state_label(added.post.status), file=added.file))
        for problem in added.problems:
            mark, _style = MARKS[problem.severity]
            output.message(f"{mark} {problem.message}", style="yellow")
    finally:
        session.close()


def _ask_post(project: Any, platform: str | None, source: str | None) -> tuple[str, str | None, str, str | None, str]:
    """The questions `cmday calendar add` asks on a terminal when given no flags."""

    def valid_when(value: str) -> str:
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        from cmday.errors import UsageError
        from cmday.typed import read_moment

        try:
            read_moment(value, _("When"), datetime.now(UTC), ZoneInfo("UTC"), future=True)
        except UsageError as error:
            raise typer.BadParameter(error.message) from None
        return value

    at = typer.prompt(_("When (local time, 2026-11-25T10:00 or 25/11/2026 10:00)"), value_proc=valid_when)
    if not source:
        platforms = project.publishing_platforms()
        platform = typer.prompt(_("Platform"), default=platform or (platforms[0] if platforms else "mastodon"))
    text = typer.prompt(_("Text"))
    link = typer.prompt(_("Link (empty for none)"), default="", show_default=False) or None
    status = typer.prompt(_("Status (idea, draft, ready, scheduled)"), default="draft")
    return at, platform, text, link, status


def import_posts(
    options: Options,
    file: Annotated[Path, typer.Argument(metavar="FILE", help=_("A .csv, .xlsx or .ics file."))],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=_("csv, xlsx or ics (default: by the file's extension)."), show_default=False)] = None,
    platform: Annotated[str | None, typer.Option("--platform", help=_("The platform of rows or events that name none."), show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Show what would be added; write nothing."))] = False,
) -> None:
    from cmday.calendar.adding import import_posts as add_from_file
    from cmday.cli import output
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        project = session.workspace.default_project(options.project)
        result = add_from_file(session.workspace, session.day(project).plan, file, fmt, platform, dry_run)
        if options.json:
            output.print_json({"added": [k for k, _p in result.added], "already_there": result.already_there,
                               "file": result.file if result.written else None, "dry_run": dry_run})
            return
        count, skipped = len(result.added), result.already_there
        if dry_run:
            for key, post in result.added:
                output.message(f"+ {key}  {post.at.isoformat(timespec='minutes')}  {project.post_platform(post)}  {post.text[:50]}")
            output.message(ngettext("dry run: {count} post would be added to {file}", "dry run: {count} posts would be added to {file}", count).format(
                count=count, file=result.file) + _already_there(skipped))
        else:
            output.message(ngettext("{count} post added to {file}", "{count} posts added to {file}", count).format(count=count, file=result.file)
                           + _already_there(skipped))
    finally:
        session.close()


def export(
    options: Options,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help=_("csv, xlsx or ics (default: from --out's extension, else csv)."), show_default=False)
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=_("Write to this file instead of stdout."), show_default=False)] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help=_("CSV separator: , or ; or \\t (default: your language's Excel: ; in Spanish)."), show_default=False)
    ] = None,
) -> None:
    from cmday.calendar.exchange import export_csv, export_ics, export_xlsx
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.files import write_atomically
    from cmday.report import speaking
    from cmday.session import Session
    from cmday.sheets import csv_bytes, dialect

    chosen = (fmt or (out.suffix.lstrip(".").lower() if out is not None else "") or "csv").lower()
    if chosen not in ("csv", "ics", "xlsx"):
        raise UsageError(_("unknown format {fmt!r}; use csv, xlsx or ics").format(fmt=fmt or chosen))
    if delimiter is not None and delimiter not in (",", ";", "\\t", "\t"):
        raise UsageError(_("the delimiter must be , or ; or \\t"))
    if chosen == "xlsx" and out is None:
        raise UsageError(_("an Excel workbook needs a file: add --out plan.xlsx"))
    session = Session(options.workspace, options.demo, options.lang)
    try:
        project = session.workspace.default_project(options.project)
        plan = session.day(project).plan
        if chosen == "ics":
            language = project.project.language or session.language
            with speaking(language):  # the calendar's name and each SUMMARY in the project's words
                data = export_ics(plan, session.now, language)
        elif chosen == "xlsx":
            data = export_xlsx(plan)
        else:
            form = dialect(session.language, "\t" if delimiter in ("\\t", "\t") else delimiter)
            text = export_csv(plan, form.delimiter)
            data = csv_bytes(text, form) if out is not None else text.encode("utf-8")  # the BOM tells Excel it is UTF-8
        if out is None:
            sys.stdout.write(data.decode("utf-8"))
            sys.stdout.flush()
            return
        try:
            write_atomically(out, data)
        except OSError as error:
            raise UsageError(_("cannot write {file}: {reason}").format(file=out, reason=error.strerror)) from None
        output.message(ngettext("{count} post written to {file}", "{count} posts written to {file}", len(plan.posts)).format(count=len(plan.posts), file=out))
    finally:
        session.close()


# -- utm ------------------------------------------------------------------------------------------------


def utm(
    options: Options,
    url: Annotated[str, typer.Argument(metavar="URL", help=_("The page to link to."))],
    source: Annotated[str, typer.Option("--source", "-s", help=_("utm_source: where the link is posted (mastodon, bluesky, newsletter...)."))],
    campaign: Annotated[str, typer.Option("--campaign", "-c", help=_("utm_campaign: the campaign's name."))],
    medium: Annotated[
        str | None, typer.Option("--medium", "-m", help=_("utm_medium (default: the project's [utm] medium, else social)."), show_default=False)
    ] = None,
    content: Annotated[str | None, typer.Option("--content", help=_("utm_content: tells apart links in one campaign."), show_default=False)] = None,
    term: Annotated[str | None, typer.Option("--term", help=_("utm_term: the keyword, for paid search."), show_default=False)] = None,
) -> None:
    from cmday.cli import output
    from cmday.models import Utm
    from cmday.utm import build_utm, own_domain

    project = _utm_project(options, url)
    rules = project.utm if project is not None else Utm()
    tagged = build_utm(url, source, campaign, medium, content, term, rules)
    own = own_domain(url, rules)
    if options.json:
        output.print_json({
            "url": tagged.url,
            "project": project.slug if project else None,
            "own_domain": own,
            "changes": [{"tag": tag, "given": given, "written": written} for tag, given, written in tagged.changes],
        })
        return
    for tag, given, written in tagged.changes:
        output.message(_("{tag}: {given!r} written as {written!r} (naming rules)").format(tag=tag, given=given, written=written), style="dim")
    if rules.domains and not own:
        output.message(_("note: this link is not to the brand's own domains ({domains})").format(domains=", ".join(rules.domains)), style="dim")
    output.out.print(tagged.url, soft_wrap=True)


def _utm_project(options: Options, url: str) -> Any:
    """The project whose `[utm]` rules apply: --project, the one owning the URL's domain, the default; or none."""
    from cmday.errors import ConfigError
    from cmday.session import Session
    from cmday.utm import own_domain
    from cmday.workspace import find_workspace

    if options.workspace is None and not options.demo and options.project is None:
        try:
            find_workspace(None)
        except ConfigError:
            return None  # no workspace here: the link is built with the default rules
    session = Session(options.workspace, options.demo, options.lang)
    workspace = session.workspace
    if options.project:
        return workspace.select(options.project)[0]
    owners = [p for p in workspace.projects.values() if own_domain(url, p.utm)]
    if len(owners) == 1:
        return owners[0]
    slug = workspace.config.default_project
    if slug:
        return workspace.projects[slug]
    return next(iter(workspace.projects.values())) if len(workspace.projects) == 1 else None


# -- publish --------------------------------------------------------------------------------------------


def publish(
    options: Options,
    post: Annotated[str, typer.Argument(metavar="POST", help=_("The post's key (as `cmday calendar` shows it), or its start."))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Show what would be sent; send nothing."))] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Publish without asking (needed without a terminal)."))] = False,
) -> None:
    from rich.text import Text

    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.publishing import post_to_publish, prepare_publication
    from cmday.publishing import publish as publish_post
    from cmday.session import Session

    if options.offline and not dry_run:
        raise UsageError(_("publish and --offline contradict each other"), hint=_("drop --offline, or use --dry-run"))
    session = Session(options.workspace, options.demo, options.lang)
    try:
        plans = [session.day(project).plan for project in session.workspace.select(options.project)]
        plan, planned = post_to_publish(plans, post)
        publishing, source = prepare_publication(plan, planned, session.now, session.store)
        preview = {
            "project": publishing.project, "key": publishing.key, "platform": publishing.platform, "source": publishing.source,
            "text": publishing.text, "link": publishing.link, "media": [str(m) for m in publishing.media],
            "alt": publishing.alts, "at": publishing.at,
        }
        if dry_run:
            if options.json:
                output.print_json({"dry_run": True, "post": preview, "sent": None})
            else:
                _print_preview(output.out, publishing)
                output.message(_("dry run: nothing was sent"))
            return
        if not yes:
            if not _interactive():
                raise UsageError(_("nothing sent: confirm with --yes (there is no terminal to ask on)"))
            _print_preview(output.out, publishing)
            from cmday.cli import prompts

            if not prompts.confirm(_("Publish it now on {platform} ({source})?").format(platform=publishing.platform, source=publishing.source), default=False):
                output.message(_("nothing sent"))
                return
        delivery = publish_post(session.workspace, plan, publishing, source, session.store, session.now)
        sent = delivery.sent
        if options.json:
            output.print_json({"dry_run": False, "post": preview, "sent": {"remote_id": sent.remote_id, "url": sent.url},
                               "found_from_earlier_attempt": delivery.found})
        elif source.platform == "demo":
            output.message(_("demo: nothing was sent to {platform}; in your own workspace this post would be published there. {key}: published").format(
                platform=publishing.platform, key=publishing.key))
        elif delivery.found:
            output.message(_("{key} was already on {platform} from an earlier attempt, not posted again").format(
                key=publishing.key, platform=publishing.platform), style="green")
            output.out.print(Text(sent.url or ""), soft_wrap=True)
        else:
            output.message(_("published {key} on {platform}").format(key=publishing.key, platform=publishing.platform), style="green")
            output.out.print(Text(sent.url or ""), soft_wrap=True)
    finally:
        session.close()


def _print_preview(console: Any, publishing: Any) -> None:
    from rich.text import Text

    from cmday.cli.output import safe

    planned_for = _when(publishing.at)
    console.print(Text.assemble(
        (f"{publishing.key} ", "bold"), (f"{publishing.platform} · {publishing.source} · ", "dim"),
        (_("planned for {when}").format(when=planned_for), "dim"),
    ))
    console.print(safe(publishing.text))
    if publishing.link:
        console.print(Text.assemble((_("link: "), "dim"), safe(publishing.link)))
    for path, alt in zip(publishing.media, publishing.alts or [""] * len(publishing.media), strict=False):
        console.print(Text.assemble((_("media: "), "dim"), safe(str(path))))
        if alt:
            console.print(Text.assemble(("  ", ""), (_("alt: "), "dim"), safe(alt)))
