"""`cmday kpi`, `kpi set`, `kpi export`: the weekly sheet of indicators."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmday.cli.common import Options, command, group_default
from cmday.i18n import _, ngettext

WeekOption = Annotated[
    str | None, typer.Option("--week", help=_("An ISO week, such as 2026-W47 (default: this week)."), show_default=False)
]
MonthOption = Annotated[str | None, typer.Option("--month", help=_("A month, such as 2026-11."), show_default=False)]


def register(app: typer.Typer) -> None:
    kpi_app = typer.Typer(help=_("Indicators: this week or month against the previous one and the objectives."))
    group_default(kpi_app, help=_("Indicators: this week or month against the previous one and the objectives."))(show)
    command(kpi_app, "set", help=_("Enter a figure no API gives, such as followers.instagram 12840."))(set_value)
    command(kpi_app, "export", help=_("Write the indicators of several periods as CSV or an Excel workbook (one sheet per period)."))(export)
    app.add_typer(kpi_app, name="kpi")


def _open(options: Options):
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    project = session.workspace.default_project(options.project)
    return session, project, session.workspace.project_zone(project)


def show(options: Options, week: WeekOption = None, month: MonthOption = None) -> None:
    from cmday.calendar.plan import load_plan
    from cmday.cli import output
    from cmday.indicators import choose_period, compute

    session, project, zone = _open(options)
    try:
        period = choose_period(week, month, session.now.astimezone(zone).date())
        figures = compute(load_plan(session.workspace, project), session.store, period, session.now)
        if options.json:
            output.print_json(figures.as_json())
        else:
            render(output.out, figures, session.language)
    finally:
        session.close()


def render(console, figures, language: str) -> None:
    """The indicators as a table: this period, the previous one, the change, the objective, the trend."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from cmday.indicators import sparkline
    from cmday.report import Words
    from cmday.textsafe import one_line

    words = Words(language, figures.timezone)
    period = figures.period
    title = _("week {period}") if period.kind == "week" else _("month {period}")
    console.print()
    console.print(
        Text.assemble(
            (one_line(figures.name), "bold"),
            ("  ·  " + title.format(period=period.label), ""),
            (f"  ({words.short_day(period.start)} – {words.short_day(period.last_day)} {period.last_day.year})", "dim"),
        )
    )
    if figures.in_progress:
        # a partial period against a whole one: sums look low; say so before anyone reads the change column
        console.print(Text(_("In progress: {span}; compared with the whole {previous}.").format(
            span=words.span(figures), previous=figures.previous_period.label), style="yellow"))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column(_("Indicator"), overflow="fold")
    table.add_column(words.short_period(period) + ("*" if figures.in_progress else ""), justify="right", no_wrap=True)
    table.add_column(words.short_period(figures.previous_period), justify="right", no_wrap=True, style="dim")
    table.add_column(_("Change"), justify="right", no_wrap=True)
    table.add_column(_("Target"), justify="right", no_wrap=True)
    table.add_column(_("Trend"), no_wrap=True)
    for indicator in figures.indicators:
        good = None
        if indicator.trend in ("up", "down") and indicator.better:
            good = indicator.trend == indicator.better
        change_style = "" if good is None else "green" if good else "red"
        target = Text("")
        if indicator.target is not None:
            if indicator.met is not None:
                mark, style = ("✔", "green") if indicator.met else ("✘", "red")
            elif indicator.on_track is not None:
                mark, style = ("↗", "green") if indicator.on_track else ("↘", "yellow")
            else:
                mark, style = "", ""
            target = Text.assemble(words.number(indicator.target, indicator.unit) + " ", (mark, style))
        table.add_row(
            Text(one_line(indicator.label, 40)),
            Text(words.number(indicator.value, indicator.unit), style="bold"),
            Text(words.number(indicator.previous, indicator.unit)),
            Text(words.change(indicator), style=change_style),
            target,
            Text(sparkline(indicator.series, indicator.unit), style="cyan"),
        )
    console.print(table)

    details = figures.details
    categories: dict[str, int] = {}
    for name, count in details.by_category.items():  # the shipped categories in the CM's language
        categories[words.category(name)] = categories.get(words.category(name), 0) + count
    for label, counts in ((_("By platform"), details.by_platform), (_("By category"), categories)):
        if counts:
            shown = " · ".join(f"{one_line(name, 20)} {words.number(count)}" for name, count in counts.items())
            console.print(Text.assemble((label + ": ", "dim"), shown), soft_wrap=False)
    if details.people:
        console.print()
        console.print(Text(_("People worth engaging"), style="bold cyan"))
        for person in details.people[:5]:
            unanswered = person.unanswered
            waiting = " · " + ngettext("{count} unanswered", "{count} unanswered", unanswered).format(count=unanswered) if unanswered else ""
            console.print(
                Text.assemble(
                    "  ", one_line(person.author, 36), ("  " + one_line(person.platform, 20), "dim"),
                    "  " + ngettext("{count} mention", "{count} mentions", person.mentions).format(count=person.mentions), (waiting, "yellow"),
                )
            )
    if figures.business_hours is not None:
        console.print(Text(_("Response times count working hours only ({hours}).").format(hours=words.hours(figures.business_hours)), style="dim"))


def set_value(
    options: Options,
    key: Annotated[str, typer.Argument(metavar="KEY", help=_("What the figure is: family.name, such as followers.instagram."))],
    value: Annotated[str, typer.Argument(metavar="VALUE", help=_("The figure as you write it: 12840, 12,840 or 3.5 in English; 12.840 or 3,5 in Spanish."))],
    on: Annotated[
        str | None, typer.Option("--date", help=_("The day it was taken, such as 2026-11-20 (default: today)."), show_default=False)
    ] = None,
) -> None:
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.indicators import check_snapshot_key
    from cmday.typed import read_day, read_number

    checked = check_snapshot_key(key)
    session, project, zone = _open(options)
    try:
        # the figure as typed in the session's language: `12.840` is twelve thousand in Spanish
        _check_account(checked, project)
        number = float(read_number(value, session.language, what=repr(value)))
        today = session.now.astimezone(zone).date()
        day = read_day(on, "--date", today) if on else today
        if day > today:
            raise UsageError(_("--date {day} is in the future; a figure is entered for a day that has come").format(day=day.isoformat()))
        session.store.set_kpi(project.slug, checked, day.isoformat(), number, "manual", session.now)
        shown = int(number) if number.is_integer() else number
        if options.json:
            output.print_json({"project": project.slug, "key": checked, "day": day.isoformat(), "value": shown, "origin": "manual"})
        else:
            output.message(_("{project}: {key} = {value} on {day}").format(project=project.slug, key=checked, value=shown, day=day.isoformat()))
    finally:
        session.close()


# The families whose second part names a network (followers.instagram): a typo there would start a new series.
ACCOUNT_FAMILIES = ("followers", "following", "posts", "reach", "impressions", "engagement")


def _check_account(key: str, project) -> None:
    from cmday.typed import choose_platform

    family, _dot, account = key.partition(".")
    if family in ACCOUNT_FAMILIES and "." not in account and account not in {s.id for s in project.sources}:
        choose_platform(account, [project], key)


def export(
    options: Options,
    format: Annotated[str | None, typer.Option("--format", help=_("csv or xlsx (default: from --out's extension, else csv)."), show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=_("Write to this file instead of standard output."), show_default=False)] = None,
    week: WeekOption = None,
    month: MonthOption = None,
    periods: Annotated[
        int | None,
        typer.Option("--periods", min=2, max=104, help=_("How many periods, ending with the chosen one (default: 8 weeks or 6 months)."), show_default=False),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help=_("CSV separator: , or ; or \\t (default: your language's Excel: ; in Spanish)."), show_default=False)
    ] = None,
) -> None:
    import sys

    from cmday.calendar.plan import load_plan
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.files import write_atomically
    from cmday.indicators import choose_period, compute
    from cmday.sheets import Sheet, csv_bytes, dialect, write_csv, write_workbook

    chosen = (format or (out.suffix.lstrip(".").lower() if out is not None else "") or "csv").lower()
    if chosen not in ("csv", "xlsx"):
        raise UsageError(_("unknown format {format!r}; use csv or xlsx").format(format=format or chosen))
    if delimiter is not None and delimiter not in (",", ";", "\\t", "\t"):
        raise UsageError(_("the delimiter must be , or ; or \\t"))
    if chosen == "xlsx" and out is None and not options.json:
        raise UsageError(_("an Excel workbook needs a file: add --out kpis.xlsx"))
    session, project, zone = _open(options)
    try:
        period = choose_period(week, month, session.now.astimezone(zone).date())
        figures = compute(load_plan(session.workspace, project), session.store, period, session.now, history=periods)
        header = ["project", "period", "start", "end", "key", "label", "value", "target", "unit"]

        def row(index: int, shown, indicator) -> list:
            return [project.slug, shown.label, shown.start, shown.last_day, indicator.key, indicator.label,
                    indicator.series[index], indicator.target, indicator.unit]

        by_period = [(shown, [row(index, shown, i) for i in figures.indicators]) for index, shown in enumerate(figures.periods)]
        if options.json and out is None:
            output.print_json({"rows": [dict(zip(header, values, strict=True)) for _shown, rows in by_period for values in rows]})
            return
        count = sum(len(rows) for _shown, rows in by_period)
        if chosen == "xlsx":
            shares = {header.index("value"), header.index("target")}
            data = write_workbook([
                Sheet(shown.label, header, rows,
                      percent_cells={(r, c) for r, values in enumerate(rows) if values[-1] == "ratio" for c in shares})
                for shown, rows in by_period
            ])
        else:
            form = dialect(session.language, "\t" if delimiter in ("\\t", "\t") else delimiter)
            text = write_csv(header, [values for _shown, rows in by_period for values in rows], form)
            if out is None:
                sys.stdout.write(text)
                return
            data = csv_bytes(text, form)
        try:
            write_atomically(out, data)
        except OSError as error:
            raise UsageError(_("cannot write {path}: {reason}").format(path=out, reason=error.strerror)) from None
        output.message(ngettext("{count} row written to {path}", "{count} rows written to {path}", count).format(count=count, path=out))
    finally:
        session.close()
