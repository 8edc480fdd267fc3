"""`cmday checklist`, `done`, `skip`, `undo`: the routine's tasks for today."""

from __future__ import annotations

from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.i18n import _

RoutineArgument = Annotated[
    str | None,
    typer.Argument(help=_("morning, check or close (default: the one for this time of day)."), show_default=False),
]
ChecklistOption = Annotated[
    str | None,
    typer.Option("--checklist", "-c", help=_("The checklist the item belongs to, when its id is in several."), show_default=False),
]


def register(app: typer.Typer) -> None:
    command(app, "checklist", help=_("Show today's checklist with automatic items evaluated."))(checklist)
    command(app, "done", help=_("Tick a checklist item as done today."))(done)
    command(app, "skip", help=_("Skip a checklist item today, saying why."))(skip)
    command(app, "undo", help=_("Take back today's done or skip mark on an item."))(undo)


def checklist(options: Options, routine: RoutineArgument = None) -> None:
    from cmday import routine as views
    from cmday.checklists import ROUTINES
    from cmday.cli import output, render
    from cmday.errors import UsageError
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        project = session.workspace.default_project(options.project)
        day = session.day(project)
        name = routine or _routine_for_now(day)
        if name not in ROUTINES:
            raise UsageError(_("unknown checklist {name!r}; use one of: {names}").format(name=name, names=", ".join(ROUTINES)))
        view = views.checklist_view(day, name)
        if options.json:
            output.print_json(view)
        else:
            render.checklist(output.out, view)
    finally:
        session.close()


def _routine_for_now(day) -> str:
    """Morning until three hours into the workday, close from an hour before its end, check in between."""
    from datetime import datetime, timedelta

    local = day.now.astimezone(day.zone)
    def at(moment):
        return datetime.combine(local.date(), moment, tzinfo=day.zone)

    if local < at(day.project.routine.workday_start) + timedelta(hours=3):
        return "morning"
    if local >= at(day.project.routine.workday_end) - timedelta(hours=1):
        return "close"
    return "check"


def _mark(options: Options, item_id: str, checklist_name: str | None, status: str | None, note: str) -> None:
    from cmday.checklists import ROUTINES, load_checklist
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.session import Session

    if status == "skipped" and not note.strip():
        raise UsageError(_("skipping needs a reason: --why \"...\""))
    session = Session(options.workspace, options.demo, options.lang)
    try:
        project = session.workspace.default_project(options.project)
        day = session.day(project)
        names = [checklist_name] if checklist_name else list(ROUTINES)
        lists = {n: load_checklist(n, day.language, session.workspace.root) for n in names}
        holding = [n for n, items in lists.items() if any(i.id == item_id for i in items)]
        if not holding:
            known = sorted({i.id for items in lists.values() for i in items})
            raise UsageError(
                _("no checklist item {item!r}").format(item=item_id), hint=_("items: {ids}").format(ids=", ".join(known))
            )
        if len(holding) > 1:
            preferred = _routine_for_now(day)
            if preferred not in holding:
                raise UsageError(
                    _("{item!r} is in several checklists ({names})").format(item=item_id, names=", ".join(holding)),
                    hint=_("say which with --checklist"),
                )
            holding = [preferred]
        name = holding[0]
        today = day.today.isoformat()
        if status is None:
            if not session.store.clear_checklist_mark(project.slug, today, name, item_id):
                raise UsageError(_("{item!r} has no mark today in the {name} checklist").format(item=item_id, name=name))
            output.message(_("{item} in {name}: mark taken back").format(item=item_id, name=name))
            return
        session.store.set_checklist_mark(project.slug, today, name, item_id, status, note, session.now)
        shown = _("done") if status == "done" else _("skipped")
        output.message(_("{item} in {name}: {status}").format(item=item_id, name=name, status=shown))
    finally:
        session.close()


def done(
    options: Options,
    item: Annotated[str, typer.Argument(help=_("The item's id, as `cmday checklist` shows it."))],
    note: Annotated[str, typer.Option("--note", "-n", help=_("A note to keep with the mark."))] = "",
    checklist_name: ChecklistOption = None,
) -> None:
    _mark(options, item, checklist_name, "done", note)


def skip(
    options: Options,
    item: Annotated[str, typer.Argument(help=_("The item's id, as `cmday checklist` shows it."))],
    why: Annotated[str, typer.Option("--why", help=_("Why it is skipped today (required)."))],
    checklist_name: ChecklistOption = None,
) -> None:
    _mark(options, item, checklist_name, "skipped", why)


def undo(
    options: Options,
    item: Annotated[str, typer.Argument(help=_("The item's id, as `cmday checklist` shows it."))],
    checklist_name: ChecklistOption = None,
) -> None:
    _mark(options, item, checklist_name, None, "")
