"""The routine's views: morning, check, close and checklist, each a plain data object built from the state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cmday import clock
from cmday.clock import day_bounds
from cmday.errors import ConfigError
from cmday.mention import Mention, StoredMention
from cmday.protocol import Protocol
from cmday.store import Store
from cmday.workspace import Workspace

if TYPE_CHECKING:
    from cmday.calendar.checks import Problem
    from cmday.calendar.plan import Plan, PlannedPost
    from cmday.checklists import ChecklistEntry
    from cmday.models import Project

READY_STATUSES = ("ready", "scheduled", "published")
DEFAULT_LOOKBACK = timedelta(hours=24)
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ a little; beyond this a date ahead of now is wrong

# The views are built, printed and rendered, never compared or shown whole: no generated __eq__ and __repr__,
# which every check and inbox would pay to define (exec'd code, ~0.15 ms a class).


@dataclass(eq=False, repr=False)
class Author:
    handle: str
    display_name: str
    url: str

    @property
    def shown(self) -> str:
        """How a list names the author: the handle, else the display name."""
        return self.handle or self.display_name


@dataclass(eq=False, repr=False)
class MentionLine:
    """A mention as every view shows it, on screen and in --json (`check`, `inbox`, `show`, `fetch`, `mark`).

    A post of a thread read from the platform is one too: not stored, so no id, state or category.
    """

    id: int | None
    project: str
    source: str
    platform: str
    platform_id: str
    kind: str
    author: Author
    text: str
    url: str
    created_at: datetime
    age_minutes: int
    dated_in_future: bool  # a clock or an export gone wrong: flagged, never shown as "0m" old
    state: str | None
    category: str | None
    priority: int | None
    urgent: bool
    past_sla: bool
    sla_due: datetime | None
    flags: list[str]
    hidden: bool = False  # hidden on its platform (Instagram, Facebook): only its author sees it
    assignee: str | None = None  # the team member who has it

    @classmethod
    def of(cls, mention: StoredMention, now: datetime) -> MentionLine:
        return cls(
            id=mention.id,
            project=mention.project,
            source=mention.source_id,
            platform=mention.platform,
            platform_id=mention.platform_id,
            kind=mention.kind,
            author=Author(mention.author_handle, mention.author_name, mention.author_url),
            text=mention.text,
            url=mention.url,
            created_at=mention.created_at,
            age_minutes=mention.age_minutes(now),
            dated_in_future=mention.created_at > now + FUTURE_SLACK,
            state=mention.state,
            category=mention.category,
            priority=mention.priority,
            urgent=mention.urgent,
            past_sla=mention.past_sla(now),
            sla_due=mention.sla_due,
            flags=list(mention.flags),
            hidden="hidden" in mention.flags,
            assignee=mention.assignee,
        )

    @classmethod
    def of_post(cls, post: Mention, around: StoredMention, now: datetime) -> MentionLine:
        """A post of `around`'s thread as its platform shows it now."""
        return cls(
            id=None,
            project=around.project,
            source=around.source_id,
            platform=post.platform,
            platform_id=post.platform_id,
            kind=post.kind,
            author=Author(post.author_handle, post.author_name, post.author_url),
            text=post.text,
            url=post.url,
            created_at=post.created_at,
            age_minutes=max(int((now - post.created_at).total_seconds() // 60), 0),
            dated_in_future=post.created_at > now + FUTURE_SLACK,
            state=None,
            category=None,
            priority=None,
            urgent=False,
            past_sla=False,
            sla_due=None,
            flags=list(post.flags),
            hidden="hidden" in post.flags,
        )


@dataclass(eq=False, repr=False)
class PostLine:
    at: datetime
    platform: str
    status: str
    text: str
    link: str | None
    problem: str = ""


@dataclass(eq=False, repr=False)
class SourceProblem:
    source: str
    platform: str
    error: str
    needs_auth: bool
    warning: bool = False  # it still works, but will not for long (a token about to end): `error` says what to do


@dataclass(eq=False, repr=False)
class CrisisBanner:
    reason: str
    mentions: list[MentionLine]
    escalate_to: list[str]  # who the protocol says to tell, in order


@dataclass(eq=False, repr=False)
class FileProblem:
    """A file that could not be read, shown in place of what it holds: the one-line error and what to do."""

    part: str  # project, protocol, calendar, checklist
    error: str
    hint: str | None = None

    @classmethod
    def of(cls, part: str, error: ConfigError) -> FileProblem:
        return cls(part, error.message, error.hint)


@dataclass(eq=False, repr=False)
class BrokenView:
    """A project whose file does not load: its banner takes the place of its dashboard."""

    project: str
    file: str
    problem: FileProblem
    routine: str = ""


@dataclass(eq=False, repr=False)
class Header:
    project: str
    name: str
    timezone: str
    now: datetime
    day: date


@dataclass(eq=False, repr=False)
class MorningView:
    header: Header
    since: datetime
    crisis: CrisisBanner | None
    urgent: list[MentionLine]
    incoming_total: int
    incoming_by_platform: dict[str, int]
    incoming_by_category: dict[str, int]
    today: list[PostLine]
    checklist: list[ChecklistEntry]
    source_problems: list[SourceProblem]
    file_problems: list[FileProblem] = field(default_factory=list)
    routine: str = "morning"
    yours: list[MentionLine] = field(default_factory=list)  # open and assigned to whoever runs the command


@dataclass(eq=False, repr=False)
class CheckView:
    header: Header
    since: datetime
    crisis: CrisisBanner | None
    new: list[MentionLine]
    older_open: list[MentionLine]
    checklist: list[ChecklistEntry]
    source_problems: list[SourceProblem]
    file_problems: list[FileProblem] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    routine: str = "check"


@dataclass(eq=False, repr=False)
class DaySummary:
    came_in: int
    answered: int
    still_open: int
    median_response_minutes: float | None


@dataclass(eq=False, repr=False)
class CloseView:
    header: Header
    tomorrow: list[PostLine]
    tomorrow_missing: list[str]
    open_overnight: list[MentionLine]
    summary: DaySummary
    checklist: list[ChecklistEntry]
    source_problems: list[SourceProblem]
    file_problems: list[FileProblem] = field(default_factory=list)
    routine: str = "close"


@dataclass(eq=False, repr=False)
class ChecklistView:
    header: Header
    checklist_name: str
    checklist: list[ChecklistEntry]


class Day:
    """One project on one day: the state, the calendar and the clock, read once for a view."""

    def __init__(
        self,
        workspace: Workspace,
        project: Project,
        store: Store,
        protocol: Protocol,
        now: datetime,
        language: str,
        file_problems: list[FileProblem] | None = None,
        user: str = "",
    ) -> None:
        self.workspace = workspace
        self.user = user  # who runs the command, as the team knows them: their mentions come first
        self.project = project
        self.store = store
        self.protocol = protocol
        self.now = now
        self.language = project.project.language or language
        self.zone: ZoneInfo = workspace.project_zone(project)
        self.today = now.astimezone(self.zone).date()
        # what could not be read (the project's protocol, its calendar, a checklist), the views saying so;
        # None: a command about one part (`cmday checklist`) stops on its error instead
        self.file_problems: list[FileProblem] | None = file_problems
        self._calendar_error: ConfigError | None = None

    @property
    def slug(self) -> str:
        return self.project.slug

    def header(self) -> Header:
        return Header(self.slug, self.project.name, str(self.zone), self.now, self.today)

    @cached_property
    def open_mentions(self) -> list[StoredMention]:
        return self.store.mentions(self.slug, states=("open",), now=self.now)

    def lines(self, mentions: list[StoredMention]) -> list[MentionLine]:
        return [MentionLine.of(m, self.now) for m in mentions]

    @cached_property
    def crisis(self) -> CrisisBanner | None:
        window = timedelta(minutes=self.protocol.crisis.window_minutes)
        recent = self.store.mentions(self.slug, states=None, since=self.now - window)
        from cmday.triage import detect_crisis  # only the views that show a crisis: not `cmday inbox`, which builds a Day for its header

        found = detect_crisis(self.protocol, self.open_mentions, recent, self.now)
        if not found:
            return None
        return CrisisBanner(found.reason, self.lines(found.mentions), self.protocol.escalation.routes.get("crisis", []))

    @cached_property
    def source_health(self) -> dict:
        return self.store.source_health(self.slug)

    @cached_property
    def source_problems(self) -> list[SourceProblem]:
        problems = []
        for source in self.project.sources:
            state = self.source_health.get(source.id)
            if source.enabled and state is not None and state.last_error:
                problems.append(SourceProblem(source.id, source.platform, state.last_error, state.needs_auth))
            elif source.enabled and source.platform in ("instagram", "facebook"):
                from cmday.sources.graph.token import source_token_notes  # a token about to end: days before it does

                for note in source_token_notes(source, state.cursor if state else None, self.now):
                    problems.append(SourceProblem(source.id, source.platform, note, False, warning=True))
        return problems

    @property
    def last_sweep(self) -> datetime | None:
        """When every enabled source last succeeded: the oldest of their last successes."""
        successes = [
            getattr(self.source_health.get(s.id), "last_success", None) for s in self.project.sources if s.enabled
        ]
        return None if not successes or None in successes else min(successes)

    @cached_property
    def plan(self) -> Plan:
        """The project's calendar: `[[posts]]` and its CSV, with what the state says was published."""
        from cmday.calendar.plan import load_plan  # the calendar's loading and checks: only for views that show it

        if self._calendar_error is not None:
            raise self._calendar_error
        try:
            return load_plan(self.workspace, self.project, self.store, protocol=self.protocol, language=self.language)
        except ConfigError as error:
            # said once in the view, whichever part asked first (a checklist item, today's posts)
            self._calendar_error = error
            if self.file_problems is not None:
                self.file_problems.append(FileProblem.of("calendar", error))
            raise

    @property
    def calendar_problem(self) -> ConfigError | None:
        """Why the calendar could not be read, for the views that show it in its place."""
        try:
            self.plan  # noqa: B018 - reading it loads the calendar, which is what may fail
        except ConfigError as error:
            return error
        return None

    def posts_or_nothing(self, day: date) -> list[PostLine]:
        """The day's posts, or none when the calendar could not be read (the view says why)."""
        return [] if self.calendar_problem else self.posts_on(day)

    @cached_property
    def post_problems(self) -> dict[str, list[Problem]]:
        """The calendar checks' problems (links not fetched: dashboards work offline), by post key."""
        from cmday.calendar.checks import check_plan

        found: dict[str, list[Problem]] = {}
        for problem in check_plan(self.plan, self.now):
            if problem.post_key:
                found.setdefault(problem.post_key, []).append(problem)
        return found

    def posts_on(self, day: date) -> list[PostLine]:
        return [
            PostLine(p.local, p.platform, p.status, p.post.text, p.post.link, self._problem(p, p.at))
            for p in self.plan.on(day)
        ]

    def _problem(self, post: PlannedPost, at: datetime) -> str:
        """The one flag a dashboard shows for a post: `past`, `not-ready`, or the code of the calendar check it fails."""
        if post.status == "published":
            return ""
        if at < self.now:
            return "past"
        from cmday.calendar.checks import NOT_READY_WINDOW
        from cmday.calendar.plan import UNREADY_STATUSES

        if post.status in UNREADY_STATUSES and at - self.now < NOT_READY_WINDOW:
            return "not-ready"
        errors = [p.code for p in self.post_problems.get(post.key, []) if p.severity == "error" and p.code != "past"]
        return errors[0] if errors else ""

    def missing_platforms(self, day: date) -> list[str]:
        """Active platforms with fewer ready posts on `day` than their `min_per_day` (none on days off)."""
        if not self.plan.publishes_on(day):
            return []
        posts = self.posts_on(day)
        return [
            platform
            for platform in self.project.publishing_platforms()
            if sum(1 for p in posts if p.platform == platform and p.status in READY_STATUSES)
            < self.project.calendar.per_platform("min_per_day", platform)
        ]

    @property
    def horizon_empty_days(self) -> int:
        """Publishing days of the horizon with nothing planned on some active platform (on any, without platforms)."""
        days = self.project.calendar.horizon_days
        if self.project.publishing_platforms():
            from cmday.calendar.checks import empty_days

            empty = empty_days(self.plan, self.today, days)
            return len({day for missing in empty.values() for day in missing})
        planned = {p.local.date() for p in self.plan.posts}
        return sum(
            1
            for offset in range(1, days + 1)
            if self.plan.publishes_on(day := self.today + timedelta(days=offset)) and day not in planned
        )

    # -- what the checklists' automatic items are judged on (checklists.Facts), each computed on demand

    @property
    def urgent_open(self) -> int:
        return sum(1 for m in self.open_mentions if m.urgent)

    @property
    def past_sla(self) -> int:
        return sum(1 for m in self.open_mentions if m.past_sla(self.now))

    @property
    def open_total(self) -> int:
        return len(self.open_mentions)

    @property
    def crisis_now(self) -> bool:
        return self.crisis is not None

    @property
    def failing_sources(self) -> list[str]:
        return [p.source for p in self.source_problems if not p.warning]  # a token about to end still works

    @property
    def source_count(self) -> int:
        return sum(1 for s in self.project.sources if s.enabled)

    @property
    def sweep_hours(self) -> float:
        return self.project.routine.sweep_hours

    @property
    def today_missing(self) -> list[str]:
        return self.missing_platforms(self.today)

    @property
    def tomorrow_missing(self) -> list[str]:
        return self.missing_platforms(self.today + timedelta(days=1))

    @property
    def horizon_days(self) -> int:
        return self.project.calendar.horizon_days

    def checklist(self, routine: str) -> list[ChecklistEntry]:
        from cmday import checklists as checklist_module  # the routine's views show one; `cmday inbox` builds a Day and shows none

        try:
            items = checklist_module.load_checklist(routine, self.language, self.workspace.root)
        except ConfigError as error:
            if self.file_problems is None:
                raise
            self.file_problems.append(FileProblem.of("checklist", error))
            return []
        marks = self.store.checklist_marks(self.slug, self.today.isoformat(), routine)
        return checklist_module.entries(items, self.today, marks, self)


def morning(day: Day) -> MorningView:
    since = day.store.last_run(day.slug, "close") or day.now - DEFAULT_LOOKBACK
    open_mentions = day.open_mentions
    yours = [m for m in open_mentions if day.user and m.assignee == day.user]
    urgent = sorted((m for m in open_mentions if m.urgent or m.past_sla(day.now)), key=lambda m: m not in yours)
    by_platform = day.store.count_by(day.slug, "platform", since, day.now + timedelta(seconds=1))
    return MorningView(
        header=day.header(),
        since=since,
        crisis=day.crisis,
        urgent=day.lines(urgent),
        incoming_total=sum(by_platform.values()),
        incoming_by_platform=by_platform,
        incoming_by_category=day.store.count_by(day.slug, "category", since, day.now + timedelta(seconds=1)),
        today=day.posts_or_nothing(day.today),
        checklist=day.checklist("morning"),
        source_problems=day.source_problems,
        file_problems=day.file_problems or [],
        yours=day.lines(yours),
    )


def check(day: Day) -> CheckView:
    since = (
        day.store.last_run(day.slug, "check")
        or day.store.last_run(day.slug, "morning")
        or day.now - timedelta(hours=day.project.routine.sweep_hours)
    )
    open_mentions = day.open_mentions
    new = [m for m in open_mentions if m.created_at >= since or m.fetched_at >= since]
    new_ids = {m.id for m in new}
    crisis = day.crisis
    problems = day.source_problems
    view = CheckView(
        header=day.header(),
        since=since,
        crisis=crisis,
        new=day.lines(new),
        older_open=day.lines([m for m in open_mentions if m.id not in new_ids]),
        checklist=day.checklist("check"),
        source_problems=problems,
        file_problems=day.file_problems or [],
    )
    view.attention = attention_lines(view)
    return view


def attention_lines(view: CheckView) -> list[str]:
    """What a cron job should wake the CM for: crisis, failing sources, urgent, late or new open mentions."""
    from cmday.i18n import _, ngettext
    from cmday.textsafe import one_line

    lines = [
        _("{project}: cannot read its {part}: {error}").format(project=view.header.project, part=part_label(p.part), error=p.error)
        for p in view.file_problems
    ]
    if view.crisis:
        count = len(view.crisis.mentions)
        said = ngettext("{project}: crisis ({count} mention)", "{project}: crisis ({count} mentions)", count)
        lines.append(said.format(project=view.header.project, count=count))
    for problem in view.source_problems:
        said = _("{project}: {warning}") if problem.warning else _("{project}: source {source} failing: {error}")
        lines.append(said.format(project=view.header.project, source=problem.source, error=one_line(problem.error, 80),
                                 warning=one_line(problem.error, 160)))
    new_ids = {m.id for m in view.new}
    for mention in view.new + view.older_open:
        if mention.urgent or mention.past_sla or mention.id in new_ids:
            reason = _("urgent") if mention.urgent else _("late") if mention.past_sla else _("new")
            lines.append(
                f"{view.header.project} #{mention.id} {reason} {mention.platform} {one_line(mention.author.shown, 30)}: {one_line(mention.text, 60)}"
            )
    return lines


def broken_attention(broken: BrokenView) -> str:
    """The `check --quiet` line for a project whose file does not load."""
    from cmday.i18n import _

    return _("{project}: not shown: {error}").format(project=broken.project, error=broken.problem.error)


def part_label(part: str) -> str:
    from cmday.i18n import _

    return {"protocol": _("protocol"), "calendar": _("calendar"), "checklist": _("checklist"), "project": _("project file")}.get(part, part)


def close(day: Day) -> CloseView:
    import statistics  # only `cmday close` takes a median (statistics brings decimal and fractions)

    start, _end = day_bounds(day.today, day.zone)
    tomorrow = day.today + timedelta(days=1)
    came_in = sum(day.store.count_by(day.slug, "platform", start, day.now + timedelta(seconds=1)).values())
    response = day.store.response_minutes(day.slug, start, day.now + timedelta(seconds=1))
    open_mentions = day.open_mentions
    return CloseView(
        header=day.header(),
        tomorrow=day.posts_or_nothing(tomorrow),
        tomorrow_missing=[] if day.calendar_problem else day.missing_platforms(tomorrow),
        open_overnight=day.lines(open_mentions),
        summary=DaySummary(
            came_in=came_in,
            answered=len(response),
            still_open=len(open_mentions),
            median_response_minutes=round(statistics.median(response), 1) if response else None,
        ),
        checklist=day.checklist("close"),
        source_problems=day.source_problems,
        file_problems=day.file_problems or [],
    )


def routine_view(day: Day, routine: str, *, counted: bool = True) -> MorningView | CheckView | CloseView:
    """The routine's view of the day; `counted` records the run, so that what arrives after it is new next time.

    A look that is not the CM's own (cron's `check --quiet`) leaves the last run as it was.
    """
    view = {"morning": morning, "check": check, "close": close}[routine](day)
    if counted:
        # the moment this run had seen everything, not when it started: a sweep may have taken a while
        day.store.record_run(day.slug, routine, clock.now())
    return view


def checklist_view(day: Day, routine: str) -> ChecklistView:
    return ChecklistView(day.header(), routine, day.checklist(routine))
