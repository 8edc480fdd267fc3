"""Indicators per project and period, computed once from the state: what `cmday kpi` shows and the monthly report tells."""

from __future__ import annotations

import bisect
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cmday.clock import day_bounds
from cmday.errors import UsageError
from cmday.i18n import _
from cmday.mention import StoredMention
from cmday.settings import WEEKDAYS
from cmday.store import Escalation, KpiValue, Store

if TYPE_CHECKING:
    from cmday.calendar.plan import Plan
    from cmday.models import Post, Project

WEEK_HISTORY = 8  # weeks in a weekly trend (sparkline)
MONTH_HISTORY = 6  # months in a monthly trend
NOTABLE = 5  # praise and complaints shown in the report
PEOPLE = 10  # people worth engaging listed
BEST_POSTS = 5
# Raw payloads are read (for likes and boosts) only for this many candidates per category: a big month stays fast.
REACTION_CANDIDATES = 200

# (key, unit, which way is better); the order is the order people read them in.
COMPUTED: tuple[tuple[str, str, str | None], ...] = (
    ("mentions_in", "count", None),
    ("answered_share", "ratio", "up"),
    ("response_time_median_minutes", "minutes", "down"),
    ("response_time_p90_minutes", "minutes", "down"),
    ("sla_breaches", "count", "down"),
    ("crises", "count", "down"),
    ("escalations", "count", None),
    ("posts_published", "count", "up"),
    ("posts_planned", "count", None),
)
COMPUTED_KEYS = tuple(key for key, _unit, _better in COMPUTED)
# Sums over days: a month's objective says nothing about a week. Shares, times and snapshots hold for any period.
ADDITIVE = frozenset({"mentions_in", "sla_breaches", "crises", "escalations", "posts_published", "posts_planned"})
GROWING_FAMILIES = frozenset({"followers", "reach", "impressions", "engagement", "clicks", "visits", "likes", "subscribers"})
POST_METRICS_FAMILY = "post"  # post.<post key>.<metric>: favourites, boosts, replies... of one published post
SNAPSHOT_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9@_:+-][A-Za-z0-9@_:+.-]*)+")
HANDLED_STATES = ("ignored", "linked")


# -- periods -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """An ISO week (2026-W47) or a calendar month (2026-11), in the project's own days."""

    kind: str  # "week" | "month"
    start: date

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.shifted(1).start

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week, _day = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    def shifted(self, count: int) -> Period:
        if self.kind == "week":
            return Period("week", self.start + timedelta(weeks=count))
        months = self.start.year * 12 + self.start.month - 1 + count
        return Period("month", date(months // 12, months % 12 + 1, 1))

    @property
    def previous(self) -> Period:
        return self.shifted(-1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants the period starts and ends at in `zone` (DST days included as they are)."""
        return day_bounds(self.start, zone)[0], day_bounds(self.end, zone)[0]

    def __str__(self) -> str:
        return self.label


def period_of(kind: str, day: date) -> Period:
    if kind == "week":
        return Period("week", day - timedelta(days=day.weekday()))
    return Period("month", day.replace(day=1))


def parse_period(text: str, kind: str | None = None) -> Period:
    """`2026-W47` or `2026-11`; `kind` says which one an option expects."""
    value = text.strip()
    week = re.fullmatch(r"(\d{4})-?[Ww](\d{1,2})", value)
    month = re.fullmatch(r"(\d{4})-(\d{1,2})", value)
    if week and kind in (None, "week"):
        try:
            return Period("week", date.fromisocalendar(int(week[1]), int(week[2]), 1))
        except ValueError:
            raise UsageError(_("{value!r} is not a week of that year; weeks run 01 to 52 or 53").format(value=text)) from None
    if month and kind in (None, "month"):
        if not 1 <= int(month[2]) <= 12:
            raise UsageError(_("{value!r} is not a month; use YYYY-MM, such as 2026-11").format(value=text))
        return Period("month", date(int(month[1]), int(month[2]), 1))
    if kind == "week":
        raise UsageError(_("{value!r} is not a week; use an ISO week such as 2026-W47").format(value=text))
    if kind == "month":
        raise UsageError(_("{value!r} is not a month; use YYYY-MM, such as 2026-11").format(value=text))
    raise UsageError(_("{value!r} is not a period; use a week such as 2026-W47 or a month such as 2026-11").format(value=text))


def choose_period(week: str | None, month: str | None, today: date, default: str = "week") -> Period:
    """The period a command asks for with --week or --month; else the one `today` is in."""
    if week and month:
        raise UsageError(_("give --week or --month, not both"))
    if week:
        return parse_period(week, "week")
    if month:
        return parse_period(month, "month")
    return period_of(default, today)


# -- snapshots entered by hand or fetched ---------------------------------------------------


def check_snapshot_key(key: str) -> str:
    """A key `cmday kpi set` may write: `family.name` (followers.instagram), never a computed indicator."""
    value = key.strip()
    if value in COMPUTED_KEYS:
        raise UsageError(
            _("{key} is computed from the state and cannot be set by hand").format(key=value),
            hint=_("set snapshots such as followers.instagram"),
        )
    if not SNAPSHOT_KEY.fullmatch(value):
        raise UsageError(
            _("unknown kpi key format {key!r}; use family.name in lowercase, such as followers.instagram").format(key=key)
        )
    return value


def snapshot_label(key: str) -> str:
    """The words a snapshot is shown with: the families cmday takes from the platforms' account figures are
    named; one the CM made up (`kpi set newsletter.subscribers`) shows as typed."""
    family, _dot, rest = key.partition(".")
    if family == "followers":
        return _("Followers · {account}").format(account=rest)
    if family == "following":
        return _("Following · {account}").format(account=rest)
    if family == "posts":
        return _("Posts · {account}").format(account=rest)
    return key


# -- working time ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessHours:
    start: time
    end: time
    days: tuple[str, ...]  # mon ... sun


def business_hours(project: Project) -> BusinessHours | None:
    """The working hours response times are counted in, when the project sets them."""
    report = project.report
    setting = report.business_hours
    if setting is None:
        setting = bool({"workday_start", "workday_end"} & project.routine.model_fields_set) or (
            "business_days" in report.model_fields_set
        )
    if not setting:
        return None
    days = tuple(day for day in WEEKDAYS if day in report.business_days)
    return BusinessHours(project.routine.workday_start, project.routine.workday_end, days)


class WorkingClock:
    """Minutes between two instants: all of them, or only those inside working hours (weekends and DST as they fall)."""

    def __init__(self, hours: BusinessHours | None, zone: ZoneInfo, since: datetime, until: datetime) -> None:
        self.hours = hours
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._before: list[float] = []  # working seconds before each window
        if hours is None:
            return
        working = {WEEKDAYS.index(d) for d in hours.days}
        day = since.astimezone(zone).date() - timedelta(days=1)
        last = until.astimezone(zone).date() + timedelta(days=1)
        total = 0.0
        while day <= last:
            if day.weekday() in working:
                opens = datetime.combine(day, hours.start, tzinfo=zone).timestamp()
                closes_on = day if hours.end > hours.start else day + timedelta(days=1)  # a night shift ends next day
                closes = datetime.combine(closes_on, hours.end, tzinfo=zone).timestamp()
                if closes > opens:
                    self._starts.append(opens)
                    self._ends.append(closes)
                    self._before.append(total)
                    total += closes - opens
            day += timedelta(days=1)

    def _worked(self, moment: float) -> float:
        index = bisect.bisect_right(self._starts, moment) - 1
        if index < 0:
            return 0.0
        end = self._ends[index]
        return self._before[index] + (moment if moment < end else end) - self._starts[index]

    def minutes(self, since: datetime, until: datetime) -> float:
        if self.hours is None:
            # timestamps, not `until - since`: two datetimes in one zone subtract as wall clocks, DST ignored
            return max(until.timestamp() - since.timestamp(), 0.0) / 60
        return max(self._worked(until.timestamp()) - self._worked(since.timestamp()), 0.0) / 60


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value at or below which `share` of them fall (no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(math.ceil(share * len(ordered)) - 1, 0)], 1)


# -- the data objects ------------------------------------------------------------------------


@dataclass
class Indicator:
    key: str
    label: str
    value: float | None
    previous: float | None
    target: float | None
    unit: str  # count | ratio | minutes
    trend: str | None  # up | down | flat
    series: list[float | None]
    better: str | None  # up | down | None: neither
    met: bool | None  # None while the period is in progress: see `on_track`
    on_track: bool | None = None  # a period in progress: at this pace, the objective (pro rata for sums) is reached


@dataclass
class MentionNote:
    """One mention as a report quotes it. `author` and `text` came from a network: escape them."""

    id: int
    platform: str
    kind: str
    category: str
    author: str
    text: str
    url: str
    created_at: datetime
    state: str
    answered_at: datetime | None
    response_minutes: float | None
    late: bool
    escalated: bool
    reactions: int | None = None


@dataclass
class Person:
    """Someone worth engaging: ranked by how they spoke well of the brand, asked and were answered, or shared it."""

    author: str
    platform: str
    mentions: int
    answered: int
    unanswered: int
    last_at: datetime
    praise: int = 0
    questions_answered: int = 0
    shares: int = 0
    followers: int | None = None

    @property
    def score(self) -> int:
        return 2 * self.praise + self.questions_answered + self.shares


@dataclass
class TimelineEvent:
    at: datetime
    event: str  # arrived | escalated | answered | ignored | published
    mention_id: int | None
    detail: str
    # an escalation's whom, how and internal note: the team's report shows them, the client's does not
    target: str = ""
    channel: str = ""
    note: str = ""


@dataclass
class CrisisEpisode:
    start: datetime
    end: datetime
    days: list[date]
    mentions: list[MentionNote]
    answered: int
    escalated: int
    first_response_minutes: float | None
    timeline: list[TimelineEvent]


@dataclass
class PostResult:
    key: str
    at: datetime
    platform: str
    text: str
    url: str | None
    planned: bool
    engagement: dict[str, float] = field(default_factory=dict)
    total: float | None = None


@dataclass
class EscalationNote:
    at: datetime
    target: str
    channel: str
    note: str
    delivered: bool
    mention: MentionNote | None


@dataclass
class Details:
    """What the period's figures are made of: for the report and `--json`, never needed for a trend."""

    by_platform: dict[str, int]
    by_category: dict[str, int]
    by_kind: dict[str, int]
    response_by_platform: dict[str, dict[str, float | int | None]]
    response_buckets: dict[str, int]
    answerable: int
    answered: int
    open_now: int
    crises: list[CrisisEpisode]
    escalations: list[EscalationNote]
    posts: list[PostResult]
    posts_missed: int
    praise: list[MentionNote]
    complaints: list[MentionNote]
    people: list[Person]
    # what recommendations are drafted from: the same breakdowns for the previous period, and where late answers fall
    previous_by_platform: dict[str, int] = field(default_factory=dict)
    previous_by_category: dict[str, int] = field(default_factory=dict)
    previous_response_by_platform: dict[str, float | None] = field(default_factory=dict)
    late_by_hour: dict[int, int] = field(default_factory=dict)  # local hour a late mention came in -> how many
    published_by_weekday: dict[str, int] = field(default_factory=dict)  # mon..sun -> posts published


@dataclass
class Indicators:
    project: str
    name: str
    timezone: str
    period: Period
    periods: list[Period]  # the trend's periods, oldest first, ending with `period`
    business_hours: BusinessHours | None
    computed_at: datetime
    indicators: list[Indicator]
    details: Details
    days_counted: int = 0  # days of the period that have begun: fewer than `days` while it is in progress
    days: int = 0

    @property
    def in_progress(self) -> bool:
        return self.days_counted < self.days

    def get(self, key: str) -> Indicator | None:
        return next((i for i in self.indicators if i.key == key), None)

    @property
    def previous_period(self) -> Period:
        return self.period.previous

    def as_json(self, details: bool = False) -> dict:
        """The `cmday kpi --json` shape (`details` adds what the report is made of)."""
        data: dict = {
            "period": self.period.label,
            "project": self.project,
            "kind": self.period.kind,
            "start": self.period.start.isoformat(),
            "end": self.period.last_day.isoformat(),
            "previous_period": self.previous_period.label,
            "series_periods": [p.label for p in self.periods],
            "in_progress": self.in_progress,
            "days_counted": self.days_counted,
            "days": self.days,
            "timezone": self.timezone,
            "business_hours": None
            if self.business_hours is None
            else {
                "start": self.business_hours.start.strftime("%H:%M"),
                "end": self.business_hours.end.strftime("%H:%M"),
                "days": list(self.business_hours.days),
            },
            "indicators": [
                {
                    "key": i.key,
                    "label": i.label,
                    "value": i.value,
                    "previous": i.previous,
                    "target": i.target,
                    "unit": i.unit,
                    "trend": i.trend,
                    "series": i.series,
                    "better": i.better,
                    "met": i.met,
                    "on_track": i.on_track,
                }
                for i in self.indicators
            ],
            "breakdown": {
                "platform": self.details.by_platform,
                "category": self.details.by_category,
                "kind": self.details.by_kind,
            },
            "people": [
                {"author": p.author, "platform": p.platform, "mentions": p.mentions, "answered": p.answered,
                 "unanswered": p.unanswered, "last_at": p.last_at.isoformat(), "praise": p.praise,
                 "questions_answered": p.questions_answered, "shares": p.shares, "followers": p.followers}
                for p in self.details.people
            ],
        }
        if details:
            data["details"] = self.details  # dataclasses: the CLI's JSON printer turns them into objects
        return data


# -- computing -------------------------------------------------------------------------------


@dataclass
class _Bucket:
    mentions: list[StoredMention] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    published: list[PostResult] = field(default_factory=list)
    planned: int = 0
    # the answerable mentions that were answered, each with its response minutes: timed once, read by
    # the figures, the breakdowns and the comparison (the working clock is the costly part of a report)
    answered: list[tuple[StoredMention, float]] = field(default_factory=list)
    answerable: int = 0

    def time_answers(self, clock: WorkingClock) -> None:
        answerable = [m for m in self.mentions if _answerable(m)]
        self.answerable = len(answerable)
        self.answered = [
            (m, clock.minutes(m.created_at, m.answered_at)) for m in answerable if m.answered_at is not None
        ]


def compute(plan: Plan, store: Store, period: Period, now: datetime, history: int | None = None) -> Indicators:
    """Every indicator of `period`, its previous period, objective and trend: the one computation.

    `plan` is the calendar as `cmday.calendar.plan.load_plan` reads it (`[[posts]]` and the calendar sheet
    together): the posts planned and published here are the ones `cmday calendar` shows.
    """
    project, zone = plan.project, plan.zone
    count = max(history or (WEEK_HISTORY if period.kind == "week" else MONTH_HISTORY), 2)
    periods = [period.shifted(offset) for offset in range(1 - count, 1)]
    starts = [p.bounds(zone)[0] for p in periods]
    since, until = starts[0], period.bounds(zone)[1]
    slug = project.slug

    buckets = [_Bucket() for _p in periods]

    def bucket_of(moment: datetime) -> _Bucket | None:
        if moment < since or moment >= until:
            return None
        return buckets[bisect.bisect_right(starts, moment) - 1]

    # full rows only for the reported period; earlier periods are only counted and timed, from a lighter query
    reported = starts[-1]
    mentions: list = store.trend_mentions(slug, since, reported)
    mentions += [m for m in store.mentions(slug, states=None, since=reported, until=until) if m.state != "linked"]
    for mention in mentions:
        bucket = bucket_of(mention.created_at)
        if bucket is not None:
            bucket.mentions.append(mention)
    escalations = store.escalations(slug, since, until)
    for escalation in escalations:
        bucket = bucket_of(escalation.at)
        if bucket is not None:
            bucket.escalations.append(escalation)

    calendar = [(planned.key, planned.at, planned.platform, planned.post) for planned in plan.posts]
    by_key = {key: (at, platform, post) for key, at, platform, post in calendar}
    publications = [p for p in store.publications(slug) if p.status == "published"]
    published_keys = {p.post_key for p in publications}
    for publication in publications:
        bucket = bucket_of(publication.at)
        if bucket is not None:
            planned = by_key.get(publication.post_key)
            platform = planned[1] if planned else _platform_of_key(publication.post_key)
            text = planned[2].text if planned else ""
            bucket.published.append(PostResult(publication.post_key, publication.at, platform, text, publication.url, planned is not None))
    for key, at, platform, post in calendar:
        bucket = bucket_of(at)
        if bucket is None:
            continue
        if post.status != "idea":
            bucket.planned += 1
        if post.status == "published" and key not in published_keys:  # published by hand, marked in the calendar
            bucket.published.append(PostResult(key, at, platform, post.text, post.link, True))

    hours = business_hours(project)
    latest = max([until] + [m.answered_at for m in mentions if m.answered_at is not None])
    clock = WorkingClock(hours, zone, since, latest)
    for bucket in buckets:
        bucket.time_answers(clock)

    values = [_values(bucket, zone, now) for bucket in buckets]
    kept = store.kpi_values(slug)  # all of them: a post's reactions are often fetched after the period ended
    snapshots = _snapshot_series([v for v in kept if v.day < period.end.isoformat()], periods)

    today = now.astimezone(zone).date()
    days = (period.end - period.start).days
    counted = 0 if today < period.start else days if today >= period.end else (today - period.start).days + 1
    share = counted / days

    indicators = []
    for key, unit, better in COMPUTED:
        series = [v[key] for v in values]
        indicators.append(_indicator(project, period, key, _label(key), unit, better, series, share))
    for key, series in snapshots.items():
        family = key.partition(".")[0]
        indicators.append(
            _indicator(project, period, key, snapshot_label(key), "count", "up" if family in GROWING_FAMILIES else None, series, share)
        )

    details = _details(project, store, zone, buckets[-1], clock, now, period, calendar, escalations, _post_metrics(kept))
    _compare(details, buckets[-2], buckets[-1], zone, now)
    return Indicators(
        project=slug,
        name=project.name,
        timezone=str(zone),
        period=period,
        periods=periods,
        business_hours=hours,
        computed_at=now,
        indicators=indicators,
        details=details,
        days_counted=counted,
        days=days,
    )


def _label(key: str) -> str:
    labels = {
        "mentions_in": _("Mentions in"),
        "answered_share": _("Answered"),
        "response_time_median_minutes": _("Response time (median)"),
        "response_time_p90_minutes": _("Response time (90th pct.)"),
        "sla_breaches": _("Late (past response time)"),
        "crises": _("Crises"),
        "escalations": _("Escalations"),
        "posts_published": _("Posts published"),
        "posts_planned": _("Posts planned"),
    }
    return labels.get(key, key)


def _platform_of_key(key: str) -> str:
    return key.rsplit("-", 1)[-1] if "-" in key else "?"


def _answerable(mention: StoredMention) -> bool:
    """Needs an answer: not spam, not set aside with a reason."""
    return mention.category != "spam" and mention.state not in HANDLED_STATES


def _late(mention: StoredMention, now: datetime) -> bool:
    if mention.sla_due is None or mention.category == "spam":
        return False
    if mention.answered_at is not None:
        return mention.answered_at > mention.sla_due
    return mention.state in ("open", "snoozed") and now > mention.sla_due


def _episodes(mentions: list[StoredMention], zone: ZoneInfo) -> list[list[StoredMention]]:
    """Crisis-category mentions grouped into episodes: runs of consecutive days with one or more."""
    crisis = sorted((m for m in mentions if m.category == "crisis"), key=lambda m: m.created_at)
    episodes: list[list[StoredMention]] = []
    last_day: date | None = None
    for mention in crisis:
        day = mention.created_at.astimezone(zone).date()
        if last_day is None or (day - last_day).days > 1:
            episodes.append([])
        episodes[-1].append(mention)
        last_day = day
    return episodes


def _values(bucket: _Bucket, zone: ZoneInfo, now: datetime) -> dict[str, float | None]:
    mentions = bucket.mentions
    answerable = bucket.answerable
    minutes = [minutes for _mention, minutes in bucket.answered]
    return {
        "mentions_in": len(mentions),
        "answered_share": round(len(minutes) / answerable, 4) if answerable else None,
        "response_time_median_minutes": median(minutes),
        "response_time_p90_minutes": percentile(minutes, 0.9),
        "sla_breaches": sum(1 for m in mentions if _late(m, now)),
        "crises": len(_episodes(mentions, zone)),
        "escalations": len(bucket.escalations),
        "posts_published": len(bucket.published),
        "posts_planned": bucket.planned,
    }


def _target(project: Project, key: str, kind: str) -> float | None:
    """The project's objective for `key`: one set for this kind of period, or for any when the figure is not a sum."""
    same = [o.target for o in project.objectives if o.kpi == key and o.period == kind]
    if same:
        return same[-1]
    if key not in ADDITIVE:
        other = [o.target for o in project.objectives if o.kpi == key]
        return other[-1] if other else None
    return None


def reaches(value: float, target: float, better: str | None) -> bool:
    return value <= target if better == "down" else value >= target


def _indicator(
    project: Project, period: Period, key: str, label: str, unit: str, better: str | None, series: list[float | None],
    share: float = 1.0,
) -> Indicator:
    """`share`: how much of the period has begun; below 1 an objective is on track or behind, not met or missed."""
    value, previous = series[-1], series[-2]
    target = _target(project, key, period.kind)
    trend = None
    if value is not None and previous is not None:
        trend = "up" if value > previous else "down" if value < previous else "flat"
    met = on_track = None
    if target is not None and value is not None:
        if share >= 1:
            met = reaches(value, target, better)
        elif share > 0:
            on_track = reaches(value, target * share if key in ADDITIVE else target, better)  # a sum: pro rata
    return Indicator(key, label, value, previous, target, unit, trend, series, better, met, on_track)


def _snapshot_series(values: list[KpiValue], periods: list[Period]) -> dict[str, list[float | None]]:
    """Each snapshot key's value at the end of each period: the latest one dated inside it or before it."""
    by_key: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for value in values:  # oldest first per key
        if value.key.partition(".")[0] != POST_METRICS_FAMILY:
            by_key[value.key].append((value.day, value.value))
    series: dict[str, list[float | None]] = {}
    for key in sorted(by_key):
        days = [day for day, _value in by_key[key]]
        row: list[float | None] = []
        for period in periods:
            index = bisect.bisect_left(days, period.end.isoformat()) - 1
            row.append(_number(by_key[key][index][1]) if index >= 0 else None)
        series[key] = row
    return series


def _number(value: float) -> float:
    return int(value) if float(value).is_integer() else round(value, 2)


# -- what the figures are made of --------------------------------------------------------------


def _author(mention: StoredMention) -> str:
    return mention.author_handle or mention.author_name


def _note(mention: StoredMention, clock: WorkingClock, now: datetime, escalated: set[int]) -> MentionNote:
    minutes = clock.minutes(mention.created_at, mention.answered_at) if mention.answered_at else None
    return MentionNote(
        id=mention.id,
        platform=mention.platform,
        kind=mention.kind,
        category=mention.category,
        author=_author(mention),
        text=mention.text,
        url=mention.url,
        created_at=mention.created_at,
        state=mention.state,
        answered_at=mention.answered_at,
        response_minutes=round(minutes, 1) if minutes is not None else None,
        late=_late(mention, now),
        escalated=mention.id in escalated or mention.state == "escalated",
    )


def _payload(raw: str | None) -> dict | None:
    """A stored platform payload as the JSON object it should be; None when there is none or it is not one."""
    if not raw:
        return None
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def reactions(raw: str | None) -> int | None:
    """Likes, boosts and replies a post got, when the platform's payload carries them (Mastodon, Bluesky)."""
    payload = _payload(raw)
    if payload is None:
        return None
    counters = (
        "favourites_count", "reblogs_count", "replies_count",  # Mastodon status
        "likeCount", "repostCount", "replyCount", "quoteCount",  # Bluesky post view
    )
    for candidate in (payload, payload.get("status"), payload.get("post")):
        if isinstance(candidate, dict):
            found = [candidate[c] for c in counters if isinstance(candidate.get(c), int)]
            if found:
                return sum(found)
    return None


def _notable(
    store: Store, mentions: list[StoredMention], category: str, clock: WorkingClock, now: datetime,
    escalated: set[int], frequency: Counter,
) -> list[MentionNote]:
    """The praise or complaints with the most attention: reactions where the platform says, then
    escalated, urgent, late, and from people who wrote often."""
    chosen = [m for m in mentions if m.category == category]

    def heuristic(m: StoredMention) -> tuple:
        return (m.id in escalated or m.state == "escalated", m.urgent, _late(m, now), frequency[(m.platform, _author(m))], m.created_at)

    chosen.sort(key=heuristic, reverse=True)
    notes: list[MentionNote] = []
    seen: set[str] = set()
    for mention in chosen:
        if len(notes) >= REACTION_CANDIDATES:
            break
        if mention.text in seen:  # the same words twice (a copy-paste, a campaign) are one notable mention
            continue
        seen.add(mention.text)
        note = _note(mention, clock, now, escalated)
        note.reactions = reactions(store.raw_payload(mention.id))
        notes.append(note)
    notes.sort(key=lambda n: n.reactions or 0, reverse=True)  # stable: the heuristic order breaks ties
    return notes[:NOTABLE]


# Authors that are nobody in particular: not a person to engage (compared folded, without accents).
ANONYMOUS = frozenset({"anonymous", "anonimo", "anonima", "unknown", "desconocido", "desconocida", "anon", "guest", "invitado"})
ALERT_PLATFORMS = frozenset({"rss", "google-alerts"})  # news and alert feeds: their "authors" are newspapers


def _anonymous(author: str) -> bool:
    from cmday.protocol import fold

    bare = fold(author).strip().lstrip("@").strip()
    return not bare or bare in ANONYMOUS


def _followers(raw: str | None) -> int | None:
    """The author's followers, when the platform's payload says (a Mastodon account, a Bluesky profile)."""
    payload = _payload(raw)
    if payload is None:
        return None
    for holder in (payload, payload.get("status"), payload.get("post")):
        if not isinstance(holder, dict):
            continue
        for key in ("account", "author"):
            account = holder.get(key)
            if isinstance(account, dict):
                for counter in ("followers_count", "followersCount"):
                    if isinstance(account.get(counter), int):
                        return account[counter]
    return None


def _people(store: Store, mentions: list[StoredMention]) -> list[Person]:
    """People worth engaging: who praised, asked and was answered, or shared the brand's posts.

    Left out: whoever complained or was part of a crisis in the period, anonymous authors and
    alert sources (a newspaper in a Google Alert is no one to befriend).
    """
    difficult = {(m.platform, _author(m)) for m in mentions if m.category in ("complaint", "crisis")}
    grouped: dict[tuple[str, str], list[StoredMention]] = defaultdict(list)
    for mention in mentions:
        if mention.category == "spam" or mention.kind == "alert" or mention.platform in ALERT_PLATFORMS:
            continue
        grouped[(mention.platform, _author(mention))].append(mention)
    for key in [k for k in grouped if k in difficult or _anonymous(k[1])]:  # once per author, not per mention
        del grouped[key]
    people = []
    for (platform, author), written in grouped.items():
        person = Person(
            author, platform, len(written),
            answered=sum(1 for m in written if m.answered_at is not None),
            unanswered=sum(1 for m in written if m.answered_at is None and _answerable(m) and m.state != "escalated"),
            last_at=max(m.created_at for m in written),
            praise=sum(1 for m in written if m.category == "praise"),
            questions_answered=sum(1 for m in written if m.category in ("question", "request") and m.answered_at is not None),
            shares=sum(1 for m in written if m.kind == "quote"),
        )
        if person.score:
            people.append(person)
    people.sort(key=lambda p: (-p.score, -p.mentions, p.author))
    shortlist = people[: PEOPLE * 3]
    for person in shortlist:  # followers only for the shortlist: reading payloads is the slow part
        latest = max(grouped[(person.platform, person.author)], key=lambda m: m.created_at)
        person.followers = _followers(store.raw_payload(latest.id))
    shortlist.sort(key=lambda p: (-p.score, -(p.followers or 0), -p.mentions, p.author))
    return shortlist[:PEOPLE]


def _crisis(
    episode: list[StoredMention], escalations: list[Escalation], publications: list[PostResult],
    clock: WorkingClock, zone: ZoneInfo, now: datetime,
) -> CrisisEpisode:
    ids = {m.id for m in episode}
    own = [e for e in escalations if e.mention_id in ids]
    escalated = {e.mention_id for e in own}
    notes = [_note(m, clock, now, escalated) for m in episode]
    timeline = [TimelineEvent(m.created_at, "arrived", m.id, _author(m)) for m in episode]
    timeline += [TimelineEvent(e.at, "escalated", e.mention_id, "", e.target, e.channel, e.note) for e in own]
    for mention in episode:
        if mention.answered_at is not None:
            timeline.append(TimelineEvent(mention.answered_at, "answered", mention.id, _author(mention)))
        elif mention.state in ("ignored", "snoozed") and mention.state_at is not None:
            timeline.append(TimelineEvent(mention.state_at, mention.state, mention.id, "", note=mention.state_reason))  # the reason is the team's
    start = episode[0].created_at
    end = max(event.at for event in timeline)
    for post in publications:  # what was published while it lasted
        if start <= post.at <= end + timedelta(hours=24):
            timeline.append(TimelineEvent(post.at, "published", None, post.text or post.url or post.key))
    timeline.sort(key=lambda e: e.at)
    answers = [m.answered_at for m in episode if m.answered_at is not None]
    days = sorted({m.created_at.astimezone(zone).date() for m in episode})
    return CrisisEpisode(
        start=start,
        end=end,
        days=days,
        mentions=notes,
        answered=len(answers),
        escalated=len(escalated | {m.id for m in episode if m.state == "escalated"}),
        first_response_minutes=round(clock.minutes(start, min(answers)), 1) if answers else None,
        timeline=timeline,
    )


RESPONSE_BUCKETS = ((15, "under_15_min"), (60, "15_to_60_min"), (240, "1_to_4_h"), (1440, "4_to_24_h"), (math.inf, "over_24_h"))


def _details(
    project: Project, store: Store, zone: ZoneInfo, bucket: _Bucket, clock: WorkingClock, now: datetime,
    period: Period, calendar: list[tuple[str, datetime, str, Post]], escalations: list[Escalation],
    metrics: dict[str, dict[str, float]],
) -> Details:
    mentions = bucket.mentions
    escalated_ids = {e.mention_id for e in escalations}

    def counted(values) -> dict[str, int]:
        return dict(sorted(Counter(values).items(), key=lambda item: (-item[1], item[0])))

    by_platform: dict[str, list[float]] = defaultdict(list)
    buckets = {name: 0 for _limit, name in RESPONSE_BUCKETS}
    for mention, minutes in bucket.answered:
        by_platform[mention.platform].append(minutes)
        buckets[next(name for limit, name in RESPONSE_BUCKETS if minutes < limit)] += 1

    posts = bucket.published
    for post in posts:
        post.engagement = metrics.get(post.key, {})
        post.total = sum(post.engagement.values()) if post.engagement else None
    if any(p.total is not None for p in posts):
        posts.sort(key=lambda p: (p.total or 0, p.at), reverse=True)
    else:
        posts.sort(key=lambda p: p.at)
    published_keys = {p.key for p in posts}
    start, end = period.bounds(zone)
    missed = sum(
        1 for key, at, _platform, post in calendar
        if start <= at < min(end, now) and post.status != "idea" and key not in published_keys
    )

    frequency = Counter((m.platform, _author(m)) for m in mentions)
    by_id = {m.id: m for m in mentions}
    return Details(
        by_platform=counted(m.platform for m in mentions),
        by_category=counted(m.category for m in mentions),
        by_kind=counted(m.kind for m in mentions),
        response_by_platform={
            platform: {"answered": len(values), "median_minutes": median(values), "p90_minutes": percentile(values, 0.9)}
            for platform, values in sorted(by_platform.items(), key=lambda item: (-len(item[1]), item[0]))
        },
        response_buckets=buckets,
        answerable=bucket.answerable,
        answered=len(bucket.answered),
        open_now=sum(1 for m in mentions if m.state in ("open", "snoozed")),
        crises=[_crisis(e, escalations, bucket.published, clock, zone, now) for e in _episodes(mentions, zone)],
        escalations=[
            EscalationNote(e.at, e.target, e.channel, e.note, e.delivered, _escalated_note(store, e, by_id, clock, now, escalated_ids))
            for e in bucket.escalations
        ],
        posts=posts[:BEST_POSTS] if any(p.total is not None for p in posts) else posts,
        posts_missed=missed,
        praise=_notable(store, mentions, "praise", clock, now, escalated_ids, frequency),
        complaints=_notable(store, mentions, "complaint", clock, now, escalated_ids, frequency),
        people=_people(store, mentions),
    )


def _compare(details: Details, previous: _Bucket, current: _Bucket, zone: ZoneInfo, now: datetime) -> None:
    """The previous period's breakdowns beside this one's, and when late answers and posts fall: what drafts are made of."""
    details.previous_by_platform = dict(Counter(m.platform for m in previous.mentions))
    details.previous_by_category = dict(Counter(m.category for m in previous.mentions))
    times: dict[str, list[float]] = defaultdict(list)
    for mention, minutes in previous.answered:
        times[mention.platform].append(minutes)
    details.previous_response_by_platform = {platform: median(values) for platform, values in times.items()}
    details.late_by_hour = dict(Counter(m.created_at.astimezone(zone).hour for m in current.mentions if _late(m, now)))
    details.published_by_weekday = dict(Counter(WEEKDAYS[p.at.astimezone(zone).weekday()] for p in current.published))


def _escalated_note(
    store: Store, escalation: Escalation, by_id: dict[int, StoredMention], clock: WorkingClock, now: datetime, escalated: set[int]
) -> MentionNote | None:
    mention = by_id.get(escalation.mention_id) or store.mention(escalation.mention_id)
    return _note(mention, clock, now, escalated) if mention else None


def _post_metrics(values: list[KpiValue]) -> dict[str, dict[str, float]]:
    """post.<key>.<metric> snapshots: the latest value of each metric of each post."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for value in values:  # oldest first per key: the last one wins
        family, _dot, rest = value.key.partition(".")
        if family == POST_METRICS_FAMILY and "." in rest:
            key, metric = rest.rsplit(".", 1)
            found[key][metric] = _number(value.value)
    return found


def sparkline(series: list[float | None], unit: str = "count") -> str:
    """The trend in eight unicode blocks (▁ to █); a gap where a period has no figure.

    Scaled to the series' own range, except shares, drawn from 0 to 100% so a small dip looks small.
    """
    blocks = "▁▂▃▄▅▆▇█"
    known = [v for v in series if v is not None]
    if not known:
        return " " * len(series)
    low, high = (0.0, 1.0) if unit == "ratio" else (min(known), max(known))
    span = high - low
    return "".join(
        " " if v is None else blocks[len(blocks) // 2 - 1] if span == 0 else blocks[round((v - low) / span * (len(blocks) - 1))]
        for v in series
    )


ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
