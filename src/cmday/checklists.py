"""Checklists: the routine's tasks for morning, check and close, and their state for one day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cmday.errors import ConfigError, UsageError
from cmday.i18n import _, ngettext
from cmday.settings import WEEKDAYS
from cmday.shipped import shipped_dir
from cmday.workspace import parse_file

if TYPE_CHECKING:
    from cmday.models import ChecklistItem

ROUTINES = ("morning", "check", "close")


class Facts(Protocol):
    """What the automatic items are judged on. `routine.Day` provides them, each computed only when an item asks."""

    urgent_open: int
    past_sla: int
    open_total: int
    crisis_now: bool
    failing_sources: list[str]
    last_sweep: datetime | None
    source_count: int
    sweep_hours: float
    now: datetime
    today_missing: list[str]
    tomorrow_missing: list[str]
    horizon_empty_days: int
    horizon_days: int


@dataclass
class ChecklistEntry:
    id: str
    text: str
    automatic: bool
    status: str  # manual: open | done | skipped; automatic: ok | failing (or done/skipped when marked by hand)
    detail: str = ""
    note: str = ""


def load_checklist(routine: str, language: str, workspace_root: Path | None) -> list[ChecklistItem]:
    """The shipped checklist in `language`, then the workspace's additions, replacements and drops."""
    if routine not in ROUTINES:
        raise UsageError(
            _("unknown checklist {name!r}; use one of: {names}").format(name=routine, names=", ".join(ROUTINES))
        )
    shipped = shipped_dir("checklists") / f"{routine}.{language}.toml"
    if not shipped.is_file():
        shipped = shipped_dir("checklists") / f"{routine}.en.toml"
    items = {item.id: item for item in parse_file(shipped, "ChecklistFile").items}
    if workspace_root is not None:
        for name in (f"{routine}.toml", f"{routine}.{language}.toml"):
            own = workspace_root / "checklists" / name
            if own.exists():  # not is_file(): a pipe or a folder in its place is refused by name, not skipped
                override = parse_file(own, "ChecklistFile", workspace_root)
                for dropped in override.drop:
                    if dropped not in items:
                        raise ConfigError(
                            _("{file}: drop names {item!r}, which is not in the {routine} checklist").format(
                                file=f"checklists/{name}", item=dropped, routine=routine
                            ),
                            hint=_("known items: {ids}").format(ids=", ".join(items)),
                        )
                    del items[dropped]
                for item in override.items:
                    items[item.id] = item
    return list(items.values())


def applies_on(item: ChecklistItem, day: date) -> bool:
    return item.weekdays is None or WEEKDAYS[day.weekday()] in item.weekdays


def evaluate(check: str, facts: Facts) -> tuple[bool, str]:
    """One automatic item: whether it holds, and a short reason when it does not."""
    if check == "no_urgent_open":
        return facts.urgent_open == 0, ngettext("{count} urgent open", "{count} urgent open", facts.urgent_open).format(count=facts.urgent_open)
    if check == "no_crisis":
        return not facts.crisis_now, _("crisis under way")
    if check == "sources_healthy":
        return not facts.failing_sources, _("failing: {sources}").format(sources=", ".join(facts.failing_sources))
    if check == "swept_recently":
        if facts.source_count == 0:
            return False, _("the project has no [[sources]] yet")
        if facts.last_sweep is None:
            return False, _("not every source has answered a sweep yet")
        hours = (facts.now - facts.last_sweep).total_seconds() / 3600
        return hours <= facts.sweep_hours, _("last sweep {hours:.0f} h ago").format(hours=hours)
    if check == "nothing_past_sla":
        return facts.past_sla == 0, ngettext("{count} past its response time", "{count} past their response time", facts.past_sla).format(count=facts.past_sla)
    if check == "inbox_clear":
        return facts.open_total == 0, ngettext("{count} still open", "{count} still open", facts.open_total).format(count=facts.open_total)
    if check == "today_ready":
        return not facts.today_missing, _("not ready: {platforms}").format(platforms=", ".join(facts.today_missing))
    if check == "tomorrow_ready":
        return not facts.tomorrow_missing, _("not ready: {platforms}").format(
            platforms=", ".join(facts.tomorrow_missing)
        )
    if check == "horizon_covered":
        empty = facts.horizon_empty_days
        said = ngettext("{empty} of the next {days} days has nothing planned", "{empty} of the next {days} days have nothing planned", empty)
        return empty == 0, said.format(empty=empty, days=facts.horizon_days)
    raise ValueError(check)


def entries(items: list[ChecklistItem], day: date, marks: dict, facts: Facts) -> list[ChecklistEntry]:
    """Today's checklist: marks by hand win; automatic items are judged on the facts."""
    result = []
    for item in items:
        if not applies_on(item, day):
            continue
        mark = marks.get(item.id)
        if mark is not None:
            result.append(ChecklistEntry(item.id, item.text, item.auto is not None, mark.status, note=mark.note))
        elif item.auto:
            try:
                holds, reason = evaluate(item.auto, facts)
            except ConfigError:  # the calendar it is judged on could not be read: the view says why
                holds, reason = False, _("the calendar could not be read")
            result.append(ChecklistEntry(item.id, item.text, True, "ok" if holds else "failing", "" if holds else reason))
        else:
            result.append(ChecklistEntry(item.id, item.text, False, "open"))
    return result

