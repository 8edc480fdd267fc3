"""Rich renderings of the routine's views: one function per view, fed the same object `--json` prints."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.text import Text

from cmday.cli.linetable import Column, LineTable
from cmday.i18n import _, ngettext
from cmday.labels import category_label, routine_label, state_label
from cmday.routine import (
    BrokenView,
    ChecklistView,
    CheckView,
    CloseView,
    CrisisBanner,
    FileProblem,
    Header,
    MentionLine,
    MorningView,
    PostLine,
    SourceProblem,
)
from cmday.textsafe import one_line

if TYPE_CHECKING:
    from cmday.checklists import ChecklistEntry

STATUS_MARKS = {
    "ok": ("✔", "green"),
    "done": ("✔", "green"),
    "failing": ("✘", "bold red"),
    "skipped": ("–", "yellow"),
    "open": ("☐", ""),
}


def age(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // 1440}d"


def local(moment: datetime, header: Header, with_day: bool = False) -> str:
    """A moment in the project's time zone: the time alone today, with the day otherwise, in the user's language."""
    from zoneinfo import ZoneInfo

    from cmday.i18n import format_short_day

    shown = moment.astimezone(ZoneInfo(header.timezone))
    if with_day or shown.date() != header.day:
        return f"{format_short_day(shown.date())} {shown:%H:%M}"
    return f"{shown:%H:%M}"


def title(console: Console, header: Header, routine_label: str) -> None:
    console.print()
    console.print(
        Text.assemble(
            (one_line(header.name), "bold"),
            (f"  ·  {routine_label}  ·  ", "dim"),
            (local(header.now, header, with_day=True) + f" {header.timezone}", "dim"),
        )
    )


def section(console: Console, label: str, count: int | None = None, compact: bool = False) -> None:
    if not compact:
        console.print()
    suffix = f" ({count})" if count is not None else ""
    console.print(Text(label + suffix, style="bold cyan"))


def crisis_panel(console: Console, crisis: CrisisBanner, header: Header) -> None:
    from rich import box
    from rich.panel import Panel

    count = len(crisis.mentions)
    reason = (
        ngettext("{count} open mention with crisis words", "{count} open mentions with crisis words", count).format(count=count)
        if crisis.reason == "words"
        else ngettext("a spike of {count} complaint", "a spike of {count} complaints", count).format(count=count)
    )
    body = [
        Text(reason, style="bold"),
        Text(_("Stop everything else: look at it on a big screen, tell the team and the client, agree the answer.")),
        Text(""),
        mention_table(crisis.mentions[:5], header, console.width - 4),
    ]
    if crisis.escalate_to:
        first = crisis.mentions[0].id
        steps = "  ".join(f"cmday escalate {first} --to {target}" for target in crisis.escalate_to)
        body += [Text(""), Text.assemble((_("Escalate: "), "bold"), steps)]
    console.print(Panel(Group(*body), title=Text(_("CRISIS"), style="bold white on red"), border_style="red", box=box.HEAVY))


DASHBOARD_ROWS = 15


def mention_rows(console: Console, mentions: list[MentionLine], header: Header, hint: str) -> None:
    """A dashboard shows the first rows only; the whole list is one command away."""
    console.print(mention_table(mentions[:DASHBOARD_ROWS], header, console.width))
    if len(mentions) > DASHBOARD_ROWS:
        console.print(Text(_("… and {count} more: {hint}").format(count=len(mentions) - DASHBOARD_ROWS, hint=hint), style="dim"))


def mention_table(mentions: list[MentionLine], header: Header, width: int, show_state: bool = False) -> LineTable:
    """`show_state`: each line says its state (`inbox --state all` lists answered and open ones together)."""
    table = LineTable(
        [
            Column("#", justify="right"),
            Column(_("age"), justify="right"),
            Column(_("where"), max_width=13),
            Column(_("who"), max_width=16 if width < 120 else 32),  # wide: whole handles
            Column(_("what"), flexible=True),
        ],
        width,
    )
    for mention in mentions:
        flag = "!" if mention.urgent else ("+" if mention.past_sla else "")
        style = "red" if mention.urgent else ("yellow" if mention.past_sla else "")
        before = [(f"{state_label(mention.state)} · ", "cyan")] if show_state and mention.state else []
        if mention.assignee:
            before.append((f"→{one_line(mention.assignee)} ", "magenta"))
        if mention.hidden:
            before.append((_("hidden") + " ", "yellow"))
        what = Text.assemble(*before, (f"{category_label(mention.category)} ", "dim"), one_line(mention.text))
        table.add_row(
            Text(f"{flag}{mention.id}", style=style),
            Text(_("future?"), style="bold yellow") if mention.dated_in_future else Text(age(mention.age_minutes), style=style),
            Text(one_line(mention.platform)),
            Text(one_line(mention.author.shown)),
            what,
        )
    return table


def posts_table(posts: list[PostLine], header: Header, width: int) -> LineTable:
    table = LineTable([Column(), Column(max_width=12), Column(), Column(flexible=True)], width, show_header=False)
    from cmday.cli.calendar import short_label

    for post in posts:
        status_style = "green" if post.status in ("ready", "scheduled", "published") else "yellow"
        text = Text(one_line(post.text))
        if post.problem:
            text = Text.assemble((f"⚠ {short_label(post.problem)} ", "bold yellow"), text)
        table.add_row(local(post.at, header), one_line(post.platform), Text(state_label(post.status), style=status_style), text)
    return table


def checklist_table(entries: list[ChecklistEntry], width: int) -> LineTable:
    table = LineTable([Column(), Column(style="dim"), Column(flexible=True, wrap=True)], width, show_header=False)
    for entry in entries:
        mark, style = STATUS_MARKS.get(entry.status, ("?", ""))
        text = Text(one_line(entry.text))
        if entry.detail:
            text.append(f"  ({one_line(entry.detail)})", style="red")
        if entry.note:
            text.append(f"  — {one_line(entry.note)}", style="dim")
        table.add_row(Text(mark, style=style), entry.id, text)
    return table


def source_problems(console: Console, problems: list[SourceProblem]) -> None:
    for problem in problems:
        if problem.warning:
            console.print(Text.assemble(("⚠ ", "bold yellow"), (one_line(problem.error, 300), "yellow")))
            continue
        hint = "  " + _("(set its credentials: cmday auth {source})").format(source=problem.source) if problem.needs_auth else ""
        console.print(
            Text.assemble(
                ("⚠ ", "bold red"),
                (_("source {source} failed: ").format(source=problem.source), "red"),
                one_line(problem.error, 200),
                hint,
            )
        )


def broken(console: Console, view: BrokenView) -> None:
    """A project whose file does not load: its banner in place of its dashboard, the others shown in full."""
    from rich.panel import Panel

    body = [Text(one_line(view.problem.error, 400), style="bold")]
    if view.problem.hint:
        body.append(Text.assemble((_("hint: "), "dim"), one_line(view.problem.hint, 400)))
    body.append(Text(_("Its dashboard is not shown until the file is fixed; the other projects are.")))
    console.print()
    console.print(
        Panel(
            Group(*body),
            title=Text(_("{project}: cannot be read").format(project=one_line(view.project)), style="bold yellow"),
            border_style="yellow",
        )
    )


def file_problems(console: Console, problems: list[FileProblem], except_part: str | None = None) -> None:
    """The files of a project that could not be read (protocol, checklist): that part only is missing."""
    for problem in problems:
        if problem.part == except_part:
            continue
        label = {
            "protocol": _("the protocol could not be read, the default one is used: "),
            "checklist": _("the checklist could not be read: "),
            "calendar": _("the calendar could not be read: "),
        }.get(problem.part, "")
        console.print(Text.assemble(("⚠ ", "bold yellow"), (label, "yellow"), one_line(problem.error, 300)))
        if problem.hint:
            console.print(Text.assemble("  ", (_("hint: "), "dim"), one_line(problem.hint, 300)))


def calendar_unreadable(console: Console, problems: list[FileProblem]) -> bool:
    """In a calendar section: the reason it could not be read, when it could not."""
    problem = next((p for p in problems if p.part == "calendar"), None)
    if problem is None:
        return False
    console.print(Text.assemble(("⚠ ", "bold yellow"), (_("the calendar could not be read: "), "yellow"), one_line(problem.error, 300)))
    if problem.hint:
        console.print(Text.assemble("  ", (_("hint: "), "dim"), one_line(problem.hint, 300)))
    return True


def counts(values: dict[str, int]) -> Text:
    return Text("  ·  ".join(f"{one_line(k)} {v}" for k, v in values.items()) or "—")


def morning(console: Console, view: MorningView) -> None:
    header = view.header
    title(console, header, routine_label("morning"))
    source_problems(console, view.source_problems)
    file_problems(console, view.file_problems, except_part="calendar")
    if view.crisis:
        crisis_panel(console, view.crisis, header)
    if view.yours:
        section(console, _("Yours"), len(view.yours))
        mention_rows(console, view.yours, header, "cmday inbox --mine")
    section(console, _("Urgent first"), len(view.urgent))
    if view.urgent:
        mention_rows(console, view.urgent, header, "cmday inbox")
    else:
        console.print(Text(_("Nothing urgent. Good morning."), style="green"))
    section(console, _("Since the last close ({since})").format(since=local(view.since, header, with_day=True)))
    console.print(Text.assemble((_("came in: "), "dim"), str(view.incoming_total)))
    console.print(Text.assemble((_("by platform: "), "dim"), counts(view.incoming_by_platform)))
    console.print(Text.assemble((_("by category: "), "dim"), counts({category_label(k): v for k, v in view.incoming_by_category.items()})))
    section(console, _("Today's calendar"), len(view.today))
    if calendar_unreadable(console, view.file_problems):
        pass
    elif view.today:
        console.print(posts_table(view.today, header, console.width))
    else:
        console.print(Text(_("Nothing planned for today."), style="yellow"))
    section(console, _("Morning checklist"))
    console.print(checklist_table(view.checklist, console.width))
    footer(console, _("! urgent  + past its response time  ·  tick items with `cmday done ID`  ·  `cmday inbox`"))


def check(console: Console, view: CheckView) -> None:
    header = view.header
    title(console, header, routine_label("check"))
    source_problems(console, view.source_problems)
    file_problems(console, view.file_problems)
    if view.crisis:
        crisis_panel(console, view.crisis, header)
    section(console, _("New since {since}").format(since=local(view.since, header)), len(view.new))
    if view.new:
        mention_rows(console, view.new, header, "cmday inbox --since 3h")
    else:
        console.print(Text(_("Nothing new."), style="green"))
    section(console, _("Still unanswered from before"), len(view.older_open))
    if view.older_open:
        mention_rows(console, view.older_open, header, "cmday inbox")
    elif not view.new:
        console.print(Text(_("Inbox clear."), style="green"))
    else:
        console.print(Text(_("Nothing older is waiting."), style="green"))
    section(console, _("Check checklist"))
    console.print(checklist_table(view.checklist, console.width))
    footer(console, _("! urgent  + past its response time  ·  mark what you handled: `cmday mark ID answered`"))


def close(console: Console, view: CloseView) -> None:
    header = view.header
    title(console, header, routine_label("close"))
    source_problems(console, view.source_problems)
    file_problems(console, view.file_problems, except_part="calendar")
    section(console, _("Tomorrow"), len(view.tomorrow))
    if calendar_unreadable(console, view.file_problems):
        pass
    elif view.tomorrow:
        console.print(posts_table(view.tomorrow, header, console.width))
    if view.tomorrow_missing:
        console.print(
            Text(_("No ready post tomorrow on: {platforms}").format(platforms=", ".join(view.tomorrow_missing)), style="bold yellow")
        )
    elif view.tomorrow:
        console.print(Text(_("Every active platform has a ready post."), style="green"))
    section(console, _("Open overnight"), len(view.open_overnight))
    if view.open_overnight:
        mention_rows(console, view.open_overnight, header, "cmday inbox")
    else:
        console.print(Text(_("Nothing left open."), style="green"))
    section(console, _("The day"))
    summary = view.summary
    median = (
        _("{minutes:.0f} min").format(minutes=summary.median_response_minutes)
        if summary.median_response_minutes is not None
        else "—"
    )
    console.print(
        Text(
            _("in {came_in}  ·  answered {answered}  ·  still open {open}  ·  median response {median}").format(
                came_in=summary.came_in, answered=summary.answered, open=summary.still_open, median=median
            )
        )
    )
    section(console, _("Close checklist"))
    console.print(checklist_table(view.checklist, console.width))
    footer(console, _("Close recorded: tomorrow's morning shows what came in after now."))


def checklist(console: Console, view: ChecklistView) -> None:
    title(console, view.header, _("{name} checklist").format(name=routine_label(view.checklist_name)))
    console.print(checklist_table(view.checklist, console.width))


def footer(console: Console, text: str) -> None:
    """The legend: its `  ·  `-separated parts packed into lines, never a command broken across two."""
    console.print()
    lines = [""]
    for part in text.split("  ·  "):
        if lines[-1] and len(lines[-1]) + 5 + len(part) > console.width:
            lines.append(part)
        else:
            lines[-1] = f"{lines[-1]}  ·  {part}" if lines[-1] else part
    for line in lines:
        console.print(Text(line, style="dim"))


def earlier_line(count: int, earlier: list, zone, width: int) -> Text:
    """One line for `cmday work`: how often this author wrote before, and the last times with their state."""
    from cmday.i18n import format_short_day

    if not count:
        return Text(_("first mention from this author"), style="dim")
    head = ngettext("{count} earlier from this author", "{count} earlier from this author", count).format(count=count)
    times = [f"{format_short_day(m.created_at.astimezone(zone).date())} {state_label(m.state)}" for m in earlier]
    return Text(one_line(" · ".join([head, *times]), width - 1), style="dim")


def earlier_block(console: Console, count: int, earlier: list, zone) -> None:
    """For `cmday show`: the author's earlier mentions in this project, newest first, one line each."""
    from rich.table import Table

    from cmday.i18n import format_short_day

    console.print()
    if not count:
        console.print(Text(_("first mention from this author"), style="dim"))
        return
    console.print(Text(ngettext("{count} earlier from this author", "{count} earlier from this author", count).format(count=count), style="bold"))
    table = Table(box=None, show_header=False, pad_edge=False, width=console.width, expand=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    for mention in earlier:
        shown = mention.created_at.astimezone(zone)
        table.add_row(f"#{mention.id}", f"{format_short_day(shown.date())} {shown:%H:%M}", state_label(mention.state),
                      Text(one_line(mention.text), style="dim"))
    console.print(table)
    if count > len(earlier):
        more = count - len(earlier)
        console.print(Text(ngettext("… and {count} more", "… and {count} more", more).format(count=more), style="dim"))


# --compact: the same views, one line per section and per mention, for a small terminal or a glance


def _line(console: Console, *parts) -> None:
    console.print(Text.assemble(*parts), no_wrap=True, overflow="ellipsis")


def _compact_title(console: Console, header: Header, routine_label: str) -> None:
    _line(console, (one_line(header.name), "bold"), (f" · {routine_label} · ", "dim"),
          (local(header.now, header, with_day=True) + f" {header.timezone}", "dim"))


def _compact_crisis(console: Console, crisis: CrisisBanner | None) -> None:
    if crisis is None:
        return
    count = len(crisis.mentions)
    reason = (
        ngettext("{count} open mention with crisis words", "{count} open mentions with crisis words", count).format(count=count)
        if crisis.reason == "words"
        else ngettext("a spike of {count} complaint", "a spike of {count} complaints", count).format(count=count)
    )
    # the first step only (the others: the full view); a command is never cut: its own line when it does not fit
    step = f"cmday escalate {crisis.mentions[0].id} --to {crisis.escalate_to[0]}" if crisis.escalate_to else ""
    label = _("CRISIS")
    if step and len(label) + len(reason) + len(step) + 4 <= console.width:
        _line(console, (label, "bold white on red"), " ", (reason, "bold red"), " · " + step)
        return
    _line(console, (label, "bold white on red"), " ", (reason, "bold red"))
    if step:
        _line(console, "  " + step)


def _compact_mentions(console: Console, label: str, mentions: list[MentionLine], header: Header, hint: str, empty: str) -> None:
    if not mentions:
        _line(console, (label, "bold cyan"), ": ", (empty, "green"))
        return
    _line(console, (f"{label} ({len(mentions)})", "bold cyan"))
    table = mention_table(mentions[:DASHBOARD_ROWS], header, console.width)
    table.show_header = False
    console.print(table)
    if len(mentions) > DASHBOARD_ROWS:
        console.print(Text(_("… and {count} more: {hint}").format(count=len(mentions) - DASHBOARD_ROWS, hint=hint), style="dim"))


def _compact_posts(console: Console, label: str, posts: list[PostLine], header: Header, empty: str, problems: list[FileProblem]) -> None:
    unreadable = next((p for p in problems if p.part == "calendar"), None)
    if unreadable:
        _line(console, (label + ": ", "bold cyan"), (_("the calendar could not be read: "), "yellow"), one_line(unreadable.error, 300))
        return
    if not posts:
        _line(console, (label, "bold cyan"), ": ", (empty, "yellow"))
        return
    shown = " · ".join(f"{local(p.at, header)} {one_line(p.platform)} {state_label(p.status)}" + (" ⚠" if p.problem else "") for p in posts)
    _line(console, (f"{label} ({len(posts)}): ", "bold cyan"), shown)


def _compact_checklist(console: Console, label: str, entries: list[ChecklistEntry]) -> None:
    done = sum(1 for e in entries if e.status in ("ok", "done"))
    failing = [e.id for e in entries if e.status == "failing"]
    parts = [ngettext("{done} of {total} done", "{done} of {total} done", len(entries)).format(done=done, total=len(entries))]
    if failing:
        parts.append(ngettext("{count} failing: {items}", "{count} failing: {items}", len(failing)).format(count=len(failing), items=", ".join(failing)))
    _line(console, (label + ": ", "bold cyan"), (parts[0], ""), (" · " + parts[1] if failing else "", "red"))


def _compact_problems(console: Console, view, except_part: str | None = None) -> None:
    for problem in view.source_problems:
        _line(console, ("⚠ ", "bold red"), (_("source {source} failed: ").format(source=problem.source), "red"), one_line(problem.error, 200))
    for problem in view.file_problems:
        if problem.part != except_part:
            _line(console, ("⚠ ", "bold yellow"), one_line(problem.error, 300))


def morning_compact(console: Console, view: MorningView) -> None:
    header = view.header
    _compact_title(console, header, routine_label("morning"))
    _compact_problems(console, view, except_part="calendar")
    _compact_crisis(console, view.crisis)
    _compact_mentions(console, _("Urgent first"), view.urgent, header, "cmday inbox", _("Nothing urgent. Good morning."))
    by_platform = " · ".join(f"{one_line(k)} {v}" for k, v in view.incoming_by_platform.items())
    _line(console, (_("Since the last close ({since})").format(since=local(view.since, header, with_day=True)) + ": ", "bold cyan"),
          _("came in: ") + str(view.incoming_total), (f" · {by_platform}" if by_platform else "", "dim"))
    _compact_posts(console, _("Today's calendar"), view.today, header, _("Nothing planned for today."), view.file_problems)
    _compact_checklist(console, _("Morning checklist"), view.checklist)


def check_compact(console: Console, view: CheckView) -> None:
    header = view.header
    _compact_title(console, header, routine_label("check"))
    _compact_problems(console, view)
    _compact_crisis(console, view.crisis)
    _compact_mentions(console, _("New since {since}").format(since=local(view.since, header)), view.new, header, "cmday inbox --since 3h", _("Nothing new."))
    _compact_mentions(console, _("Still unanswered from before"), view.older_open, header, "cmday inbox", _("Nothing older is waiting."))
    _compact_checklist(console, _("Check checklist"), view.checklist)


def close_compact(console: Console, view: CloseView) -> None:
    header = view.header
    _compact_title(console, header, routine_label("close"))
    _compact_problems(console, view, except_part="calendar")
    _compact_posts(console, _("Tomorrow"), view.tomorrow, header, _("Nothing planned for tomorrow."), view.file_problems)
    if view.tomorrow_missing:
        _line(console, (_("No ready post tomorrow on: {platforms}").format(platforms=", ".join(view.tomorrow_missing)), "bold yellow"))
    _compact_mentions(console, _("Open overnight"), view.open_overnight, header, "cmday inbox", _("Nothing left open."))
    summary = view.summary
    median = _("{minutes:.0f} min").format(minutes=summary.median_response_minutes) if summary.median_response_minutes is not None else "—"
    day = _("in {came_in}  ·  answered {answered}  ·  still open {open}  ·  median response {median}").format(
        came_in=summary.came_in, answered=summary.answered, open=summary.still_open, median=median)
    _line(console, (_("The day") + ": ", "bold cyan"), day.replace("  ·  ", " · "))
    _compact_checklist(console, _("Close checklist"), view.checklist)
