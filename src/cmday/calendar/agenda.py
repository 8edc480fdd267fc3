"""The agenda: today and the coming days, one entry per post, with each day's gaps and the checks' problems."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cmday.calendar.checks import SEVERITIES, Problem, check_plan, empty_days
from cmday.calendar.plan import Plan, PlannedPost
from cmday.clock import day_bounds


@dataclass
class AgendaPost:
    key: str
    at: datetime
    platform: str
    source: str | None
    status: str
    text: str
    link: str | None
    media: list[str]
    alt: list[str]  # the alt text of each file, in the order of `media`; "" where none is written
    campaign: str
    owner: str
    url: str | None
    origin: str
    problems: list[str]  # problem codes, worst first
    severity: str  # of the worst problem: error, warning, info, or "" when there is none


@dataclass
class AgendaDay:
    day: date
    posts: list[AgendaPost]
    gaps: list[str]  # active platforms with nothing planned that day
    problems: list[Problem]  # about the day rather than one post: too many, tomorrow not ready


@dataclass
class AgendaView:
    project: str
    name: str
    timezone: str
    now: datetime
    today: date
    days: int
    overdue: list[AgendaPost]
    agenda: list[AgendaDay]
    problems: list[Problem]
    counts: dict[str, int]


def agenda_post(planned: PlannedPost, problems: list[Problem]) -> AgendaPost:
    post = planned.post
    own = [p for p in problems if p.post_key == planned.key]  # check_plan sorts them worst first
    return AgendaPost(
        planned.key, planned.local, planned.platform, post.source, planned.status, post.text, post.link, list(post.media),
        [post.media_alt.get(m, "") for m in post.media],
        post.campaign, post.owner, planned.url, planned.origin, [p.code for p in own], own[0].severity if own else "",
    )


def agenda(plan: Plan, now: datetime, days: int | None = None, problems: list[Problem] | None = None) -> AgendaView:
    """Today and the next `days` days, one entry per post, with the days' gaps and the checks' problems."""
    days = days or plan.project.calendar.horizon_days
    today = now.astimezone(plan.zone).date()
    problems = check_plan(plan, now, days) if problems is None else problems
    by_post: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        if problem.post_key:
            by_post[problem.post_key].append(problem)
    gaps = empty_days(plan, today, days)
    start = day_bounds(today, plan.zone)[0]
    overdue = [agenda_post(p, by_post[p.key]) for p in plan.posts if p.at < start and p.status != "published"]
    entries = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        entries.append(AgendaDay(
            day,
            [agenda_post(p, by_post[p.key]) for p in plan.on(day)],
            [platform for platform, empty in gaps.items() if day in empty],
            [p for p in problems if p.post_key is None and p.day == day and p.code != "gap"],
        ))
    counts = Counter(p.severity for p in problems)
    return AgendaView(
        plan.project.slug, plan.project.name, plan.zone.key, now, today, days, overdue, entries, problems,
        {severity: counts.get(severity, 0) for severity in SEVERITIES},
    )
