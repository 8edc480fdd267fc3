"""The monthly client report: one computation (cmday.indicators), rendered as Markdown or self-contained HTML."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cmday import files
from cmday.errors import ConfigError
from cmday.i18n import _, active_language, ngettext, set_language
from cmday.indicators import (
    ADDITIVE,
    ARROWS,
    COMPUTED_KEYS,
    BusinessHours,
    Indicator,
    Indicators,
    MentionNote,
    Period,
    compute,
    reaches,
    sparkline,
)

if TYPE_CHECKING:
    from cmday.calendar.plan import Plan
    from cmday.models import Project
from cmday.store import Store
from cmday.textsafe import clean, one_line

TEMPLATES = Path(__file__).parent / "templates"
QUOTE_LIMIT = 280  # characters of a mention quoted in the report
ESCALATIONS_SHOWN = 15
MARKS = {"met": "✔", "missed": "✘", "on-track": "↗", "behind": "↘", "unknown": "·"}


@dataclass
class Recommendations:
    text: str | None  # the CM's Markdown
    source: str | None  # the file it came from (relative to the workspace); None when written inline
    missing: str | None  # the file the project names, when it does not exist yet


@dataclass
class ObjectiveLine:
    kpi: str
    label: str
    period: str
    target: float
    value: float | None
    unit: str
    met: bool | None
    description: str
    on_track: bool | None = None  # the period is in progress: on track or behind, never "not met" yet

    @property
    def status(self) -> str:
        """met | missed | on-track | behind | unknown: the HTML row's class and the mark beside it."""
        if self.met is not None:
            return "met" if self.met else "missed"
        if self.on_track is not None:
            return "on-track" if self.on_track else "behind"
        return "unknown"


@dataclass
class EscalationLine:
    """Escalations that read the same, told once: how many, from when to when."""

    text: str  # the mention escalated, quoted
    count: int
    first: datetime
    last: datetime
    target: str = ""  # whom it went to: the team's copy, or the client's when the project says so
    channel: str = ""  # the team's copy only
    note: str = ""  # the team's copy only: internal words never reach the client


@dataclass
class MemberReplies:
    """The team's copy: how one CM answered in the month (from the reply log)."""

    member: str
    replies: int
    median_minutes: float | None
    templates: dict[str, int]  # template name -> times used; "" is a reply written by hand


def replies_by_member(store: Store, slug: str, since: datetime, until: datetime, names: dict[str, str]) -> list[MemberReplies]:
    """Every reply sent in [since, until), grouped by who sent it (a name when the team lists them), most replies first."""
    from cmday.indicators import median

    grouped: dict[str, list] = {}
    for sent in store.reply_log(slug, since, until):
        grouped.setdefault(sent.sent_by, []).append(sent)
    lines = [
        MemberReplies(
            member=names.get(handle, handle) or "-",
            replies=len(sent),
            median_minutes=median([s.minutes for s in sent]),
            templates=dict(Counter(s.template for s in sent).most_common()),
        )
        for handle, sent in grouped.items()
    ]
    return sorted(lines, key=lambda line: (-line.replies, line.member))


@dataclass
class MonthlyReport:
    """Everything the report says, computed before it is written in any format."""

    indicators: Indicators
    language: str
    project_name: str
    client: str
    owner: str
    objectives: list[ObjectiveLine]
    recommendations: Recommendations
    generated_at: datetime
    internal: bool = False  # the team's copy: escalation notes, contacts and channels included
    escalations: list[EscalationLine] = field(default_factory=list)
    contact_names: dict[str, str] = field(default_factory=dict)  # contact key -> name, shown when allowed
    drafts: list = field(default_factory=list)  # cmday.drafts.Draft: drafted from the figures, the CM's topics left out
    by_member: list[MemberReplies] = field(default_factory=list)  # the team's copy only: who answered what

    def contact(self, key: str) -> str:
        """Whom something went to, as this copy may say it: the key for the team, a name (or nothing) for the client."""
        if self.internal:
            return key
        return self.contact_names.get(key, "")


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Write in the project's language, then give the process its own back."""
    before = active_language()
    set_language(language)
    try:
        yield
    finally:
        set_language(before)


def load_recommendations(project: Project, root: Path, period: Period) -> Recommendations:
    """`[report] recommendations`: a Markdown file relative to the workspace (`{month}` becomes 2026-11), or the text."""
    setting = (project.report.recommendations or "").strip()
    if not setting:
        return Recommendations(None, None, None)
    if "\n" not in setting and re.search(r"\.(md|markdown|txt)$", setting, re.IGNORECASE):
        relative = setting.replace("{month}", period.label)
        path = root / relative
        if not path.is_file():
            return Recommendations(None, None, relative)
        try:
            return Recommendations(files.read_text(path, files.RECOMMENDATIONS, relative), relative, None)
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                _("{file}: the report's recommendations cannot be read ({reason})").format(file=relative, reason=error),
                hint=_("save the file as UTF-8 text"),
            ) from None
    return Recommendations(setting, None, None)


def build(
    plan: Plan, store: Store, period: Period, now: datetime, language: str, owner: str = "",
    internal: bool = False, contacts: dict[str, str] | None = None, team: dict[str, str] | None = None,
) -> MonthlyReport:
    """The report's content for one month; call it inside `speaking(language)` so labels are in that language.

    The default is the client's copy; `internal` is the team's, with escalation notes, contacts and channels.
    `contacts` maps contact keys to names, shown in the client's copy only when `[report] show_contacts` says so.
    """
    project, root = plan.project, plan.root
    figures = compute(plan, store, period, now)
    objectives = []
    for objective in project.objectives:
        indicator = figures.get(objective.kpi)
        value = None
        if indicator is not None and (objective.period == period.kind or objective.kpi not in ADDITIVE):
            value = indicator.value
        met = on_track = None
        if value is not None and not figures.in_progress:
            met = reaches(value, objective.target, indicator.better)
        elif value is not None and figures.days_counted:
            share = figures.days_counted / figures.days
            expected = objective.target * share if objective.kpi in ADDITIVE else objective.target  # a sum: pro rata
            on_track = reaches(value, expected, indicator.better)
        objectives.append(
            ObjectiveLine(
                kpi=objective.kpi,
                label=indicator.label if indicator else objective.kpi,
                period=objective.period,
                target=objective.target,
                value=value,
                unit=indicator.unit if indicator else "count",
                met=met,
                description=objective.description,
                on_track=on_track,
            )
        )
    recommendations = load_recommendations(project, root, period)
    drafted = []
    if project.report.drafts:
        from cmday.drafts import draft, not_covered

        drafted = not_covered(draft(figures, objectives, Words(language, figures.timezone), project.calendar.weekdays), recommendations.text)
    return MonthlyReport(
        indicators=figures,
        language=language,
        project_name=project.name,
        client=project.project.client,
        owner=owner,
        objectives=objectives,
        recommendations=recommendations,
        generated_at=now,
        internal=internal,
        escalations=group_escalations(figures.details.escalations, internal, contacts or {}, project.report.show_contacts),
        contact_names=dict(contacts or {}) if project.report.show_contacts else {},
        drafts=drafted,
        by_member=replies_by_member(store, project.slug, *period.bounds(plan.zone), team or {}) if internal else [],
    )


def client_details(report: MonthlyReport):
    """The report's details as `--json` gives them: in the client's copy, no escalation note, contact or channel."""
    from dataclasses import replace

    details = report.indicators.details
    if report.internal:
        return details
    hidden = {"target": "", "channel": "", "note": ""}
    return replace(
        details,
        escalations=[replace(x, target=report.contact(x.target), channel="", note="") for x in details.escalations],
        crises=[replace(c, timeline=[replace(t, **hidden) if t.event in ("escalated", "ignored", "snoozed") else t for t in c.timeline])
                for c in details.crises],
    )


def _templates_used(line: MemberReplies) -> str:
    return ", ".join(f"{name or _('by hand')} {count}" for name, count in line.templates.items())


def group_escalations(escalations, internal: bool, contacts: dict[str, str], show_contacts: bool) -> list[EscalationLine]:
    """One line per escalation that reads the same: fourteen times "the coffee was cold" is one line with 14."""
    lines: dict[tuple[str, ...], EscalationLine] = {}
    for escalation in sorted(escalations, key=lambda x: x.at):
        text = _quote(escalation.mention.text) if escalation.mention else ""
        if internal:
            key: tuple[str, ...] = (text, escalation.target, escalation.channel, one_line(escalation.note))
            target, channel, note = escalation.target, escalation.channel, one_line(escalation.note)
        else:
            target = contacts.get(escalation.target, "") if show_contacts else ""
            key, channel, note = (text, target), "", ""
        line = lines.get(key)
        if line is None:
            lines[key] = EscalationLine(text, 1, escalation.at, escalation.at, target, channel, note)
        else:
            line.count += 1
            line.last = escalation.at
    return list(lines.values())


# -- words and numbers in the report's language ---------------------------------------------------


class Words:
    """Numbers, dates and recurring phrases in one language (Babel for the numbers and dates)."""

    def __init__(self, language: str, timezone: str) -> None:
        self.language = language
        self.zone = ZoneInfo(timezone)

    @classmethod
    def of(cls, report: MonthlyReport) -> Words:
        return cls(report.language, report.indicators.timezone)

    def number(self, value: float | None, unit: str = "count") -> str:
        from cmday.i18n import format_number, format_percent

        if value is None:
            return "–"
        if unit == "ratio":
            return format_percent(value, language=self.language)
        if unit == "minutes":
            return self.duration(value)
        return format_number(value, language=self.language)

    def duration(self, minutes: float) -> str:
        """As a person says it: "25 min", "10 h 47 min", "2 h"; never "647,1 min"."""
        whole = int(round(minutes))
        hours, rest = divmod(whole, 60)
        if not hours:
            return _("{minutes} min").format(minutes=rest)
        if not rest:
            return _("{hours} h").format(hours=hours)
        return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)

    def span(self, figures: Indicators) -> str:
        """The days the figures cover: "November 1, 2026 to November 30, 2026", or "1–1 December, month in progress"."""
        from babel.dates import format_date

        period = figures.period
        if not figures.in_progress:
            return _("{start} to {end}").format(start=self.day(period.start), end=self.day(period.last_day))
        last = period.start + timedelta(days=max(figures.days_counted - 1, 0))
        if period.kind == "month":
            return _("{first}–{last} {month}, month in progress").format(
                first=period.start.day, last=last.day, month=format_date(period.start, "LLLL", locale=self.language)
            )
        return _("{first} – {last}, week in progress ({counted} of {days} days)").format(
            first=self.short_day(period.start), last=self.short_day(last), counted=figures.days_counted, days=figures.days
        )

    def change(self, indicator: Indicator) -> str:
        from cmday.i18n import format_number

        if indicator.value is None or indicator.previous is None:
            return "–"
        difference = indicator.value - indicator.previous
        arrow = ARROWS[indicator.trend or "flat"]
        if indicator.unit == "ratio":
            points = round(difference * 100, 1)
            shown = _("{points} pts").format(points=format_number(abs(points), language=self.language))
        elif indicator.unit == "minutes":
            shown = self.duration(abs(difference))
        else:
            shown = format_number(abs(round(difference, 2)), language=self.language)
        sign = "+" if difference > 0 else "−" if difference < 0 else "±"
        return f"{arrow} {sign}{shown}"

    def month(self, period: Period, title: bool = False) -> str:
        """"noviembre de 2026" in a sentence, "Noviembre de 2026" as a title."""
        from babel.dates import format_skeleton

        text = format_skeleton("yMMMM", period.start, locale=self.language)
        return text[:1].upper() + text[1:] if title else text

    def short_period(self, period: Period) -> str:
        from babel.dates import format_date

        if period.kind == "week":
            return f"W{period.start.isocalendar()[1]:02d}"
        return format_date(period.start, "LLL", locale=self.language)

    def short_day(self, day: date) -> str:
        from babel.dates import format_date

        return format_date(day, "d MMM", locale=self.language)

    def day(self, day: date) -> str:
        from babel.dates import format_date

        return format_date(day, "long", locale=self.language)

    def moment(self, moment: datetime) -> str:
        from babel.dates import format_date

        from cmday.i18n import format_time

        local = moment.astimezone(self.zone)
        return f"{format_date(local.date(), 'd MMM', locale=self.language)} {format_time(local, language=self.language)}"

    def hours(self, hours: BusinessHours) -> str:
        """Working hours as people write them: "09:00–18:00, lun, mar, mié, jue, vie"."""
        from babel.dates import get_day_names

        from cmday.settings import WEEKDAYS

        names = get_day_names("abbreviated", locale=self.language)
        days = ", ".join(names[WEEKDAYS.index(day)] for day in hours.days)
        return f"{hours.start:%H:%M}–{hours.end:%H:%M}, {days}"

    def met(self, met: bool | None, on_track: bool | None = None) -> str:
        if met is not None:
            return _("met") if met else _("not met")
        if on_track is not None:
            return _("on track") if on_track else _("behind")
        return _("no figure")

    def event(self, event: str) -> str:
        return {
            "arrived": _("came in"),
            "escalated": _("escalated"),
            "answered": _("answered"),
            "ignored": _("set aside"),
            "snoozed": _("snoozed"),
            "published": _("published"),
        }.get(event, event)

    def state(self, note: MentionNote) -> str:
        if note.answered_at is not None and note.response_minutes is not None:
            text = _("answered in {time}").format(time=self.number(note.response_minutes, "minutes"))
            return text + (" · " + _("late") if note.late else "")
        if note.escalated:
            return _("escalated")
        if note.state == "ignored":
            return _("set aside")
        return _("still open") + (" · " + _("late") if note.late else "")

    def category(self, name: str) -> str:
        """The shipped protocol's categories in the client's words; a project's own ones as they are named."""
        return {
            "crisis": _("crisis"),
            "complaint": _("complaints"),
            "question": _("questions"),
            "request": _("requests"),
            "praise": _("praise"),
            "mention": _("mentions"),
            "spam": _("spam"),
        }.get(name, name)

    def kind(self, name: str) -> str:
        return {
            "mention": _("mentions"),
            "reply": _("replies"),
            "quote": _("quotes"),
            "dm": _("direct messages"),
            "search": _("search hits"),
            "alert": _("alerts"),
            "import": _("imported"),
            "email": _("emails"),
        }.get(name, name)

    def bucket(self, name: str) -> str:
        return {
            "under_15_min": _("under 15 min"),
            "15_to_60_min": _("15 to 60 min"),
            "1_to_4_h": _("1 to 4 hours"),
            "4_to_24_h": _("4 to 24 hours"),
            "over_24_h": _("over 24 hours"),
        }.get(name, name)


def summary_lines(report: MonthlyReport, words: Words) -> list[str]:
    """The summary a busy client reads: a sentence per fact, numbers as the indicators give them."""
    figures = report.indicators
    lines = []

    def value(key: str) -> Indicator:
        found = figures.get(key)
        assert found is not None
        return found

    came = value("mentions_in")
    line = ngettext("{count} mention came in", "{count} mentions came in", int(came.value or 0)).format(count=words.number(came.value))
    if came.previous is not None:
        line += " " + _("({change} against {previous})").format(change=words.change(came), previous=words.month(figures.previous_period))
    lines.append(line + ".")
    share, median, p90 = value("answered_share"), value("response_time_median_minutes"), value("response_time_p90_minutes")
    if share.value is not None:
        lines.append(
            _("{share} of those needing an answer were answered; half of them within {median}, nine in ten within {p90}.").format(
                share=words.number(share.value, "ratio"),
                median=words.number(median.value, "minutes"),
                p90=words.number(p90.value, "minutes"),
            )
        )
    late = value("sla_breaches")
    if late.value:
        lines.append(
            ngettext(
                "{count} was answered after its response time, or is still waiting past it.",
                "{count} were answered after their response time, or are still waiting past it.",
                int(late.value),
            ).format(count=words.number(late.value))
        )
    crises, escalations = value("crises"), value("escalations")
    if crises.value:
        lines.append(_("Crises: {crises}; escalations: {escalations}.").format(crises=words.number(crises.value), escalations=words.number(escalations.value)))
    else:
        lines.append(_("No crisis this month; escalations: {escalations}.").format(escalations=words.number(escalations.value)))
    published, planned = int(value("posts_published").value or 0), int(value("posts_planned").value or 0)
    lines.append(
        ngettext("{count} post published", "{count} posts published", published).format(count=words.number(published))
        + ", "
        + ngettext("{count} planned in the calendar.", "{count} planned in the calendar.", planned).format(count=words.number(planned))
    )
    met = [o for o in report.objectives if o.met is not None]
    if met:
        lines.append(_("Objectives met: {met} of {total}.").format(met=sum(1 for o in met if o.met), total=len(met)))
    on_track = [o for o in report.objectives if o.on_track is not None]
    if on_track:
        lines.append(_("Objectives on track so far: {count} of {total}.").format(count=sum(1 for o in on_track if o.on_track), total=len(on_track)))
    return lines


def _quote(text: str) -> str:
    return one_line(text, QUOTE_LIMIT)


# -- Markdown -------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # what can start emphasis, code, links or cells mid-line


def md(text: str | None) -> str:
    """Untrusted text for Markdown: one line, Markdown and HTML neutralised."""
    flat = one_line(text)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_link(url: str | None) -> str:
    """A link Markdown renders only for http(s), percent-encoded so that no `<`, `>`, quote or space can end it
    (a server's `<script>` in a post's URL stays inside the address); anything else gives no link at all."""
    from urllib.parse import quote, urlsplit

    address = clean(url or "").strip()
    try:
        parts = urlsplit(address)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return "<" + quote(address, safe="/:?#[]@!$&'*+,;=%-._~") + ">"


def render_markdown(report: MonthlyReport) -> str:
    words = Words.of(report)
    figures = report.indicators
    details = figures.details
    period = figures.period
    out: list[str] = []
    add = out.append

    add(f"# {md(report.project_name)} · {_('Monthly report')} · {words.month(period, title=True)}")
    add("")
    if report.internal:
        add(f"> **{_('Team copy: internal notes included, not for the client.')}**")
        add("")
    facts = []
    if report.client:
        facts.append(_("Client: {client}").format(client=md(report.client)))
    facts.append(_("Period: {span}").format(span=words.span(figures)))
    facts.append(_("Prepared on {day}").format(day=words.day(report.generated_at.astimezone(words.zone).date()))
                 + (f" · {md(report.owner)}" if report.owner else ""))
    add(" · ".join(facts))
    add("")
    add(f"## {_('Summary')}")
    add("")
    for line in summary_lines(report, words):
        add(f"- {line}")
    add("")

    add(f"## {_('Objectives')}")
    add("")
    if report.objectives:
        add(f"| {_('Objective')} | {_('Target')} | {_('Result')} | |")
        add("|---|---:|---:|---|")
        for objective in report.objectives:
            mark = MARKS[objective.status]
            add(
                f"| {md(objective.label)} | {words.number(objective.target, objective.unit)} | {words.number(objective.value, objective.unit)} | "
                f"{mark} {words.met(objective.met, objective.on_track)} |"
            )
    else:
        add(_("The project sets no objectives yet ([[objectives]] in its file)."))
    add("")

    add(f"## {_('Indicators')}")
    add("")
    last_months = ngettext("Last {count} month", "Last {count} months", len(figures.periods)).format(count=len(figures.periods))
    add(f"| {_('Indicator')} | {words.month(period, title=True)} | {words.month(figures.previous_period, title=True)} | "
        f"{_('Change')} | {_('Target')} | {last_months} |")
    add("|---|---:|---:|---:|---:|---|")
    for indicator in figures.indicators:
        add(
            f"| {md(indicator.label)} | {words.number(indicator.value, indicator.unit)} | {words.number(indicator.previous, indicator.unit)} | "
            f"{words.change(indicator)} | {words.number(indicator.target, indicator.unit) if indicator.target is not None else ''} | "
            f"`{sparkline(indicator.series, indicator.unit)}` |"
        )
    add("")

    add(f"## {_('What came in')}")
    add("")
    for title, counts in _breakdowns(details, words):
        if counts:
            add(f"**{title}:** " + " · ".join(f"{md(name)} {words.number(count)}" for name, count in counts.items()))
            add("")

    add(f"## {_('Response times')}")
    add("")
    add(_response_intro(report, words))
    add("")
    if details.response_by_platform:
        add(f"| {_('Platform')} | {_('Answered')} | {_('Median')} | {_('90th pct.')} |")
        add("|---|---:|---:|---:|")
        for platform, row in details.response_by_platform.items():
            add(f"| {md(platform)} | {words.number(row['answered'])} | {words.number(row['median_minutes'], 'minutes')} | "
                f"{words.number(row['p90_minutes'], 'minutes')} |")
        add("")
        add(" · ".join(f"{words.bucket(name)}: {words.number(count)}" for name, count in details.response_buckets.items()))
        add("")
    if report.by_member:
        add(f"| {_('Who answered')} | {_('Answered')} | {_('Median')} | {_('Templates')} |")
        add("|---|---:|---:|---|")
        for line in report.by_member:
            add(f"| {md(line.member)} | {words.number(line.replies)} | {words.number(line.median_minutes, 'minutes')} | {md(_templates_used(line))} |")
        add("")

    add(f"## {_('Best posts')}")
    add("")
    if details.posts:
        for index, post in enumerate(details.posts, 1):
            text = md(_quote(post.text)) if post.text else md(post.key)
            engagement = ""
            if post.engagement:
                engagement = " · " + ", ".join(f"{md(metric)} {words.number(value)}" for metric, value in post.engagement.items())
            link = md_link(post.url)
            link = f" · {link}" if link else ""
            add(f"{index}. {words.moment(post.at)} · {md(post.platform)}: {text}{engagement}{link}")
    else:
        add(_("No posts were published this month."))
    if details.posts_missed:
        add("")
        add(_missed(details.posts_missed, words))
    add("")

    add(f"## {_('Notable mentions')}")
    add("")
    for title, notes, empty in (
        (_("Praise"), details.praise, _("No praise this month.")),
        (_("Complaints"), details.complaints, _("No complaints this month.")),
    ):
        add(f"### {title}")
        add("")
        if not notes:
            add(empty)
        for note in notes:
            add(f"- «{md(_quote(note.text))}» · {md(note.author)} ({md(note.platform)}, {words.moment(note.created_at)}) · {words.state(note)}"
                + _md_reactions(note, words))
        add("")

    add(f"## {_('Crises and how they were handled')}")
    add("")
    if not details.crises:
        add(_("No crisis this month."))
        add("")
    for episode in details.crises:
        add(f"### {_crisis_title(episode, words)}")
        add("")
        add(_crisis_facts(episode, words))
        add("")
        for event in episode.timeline:
            detail = timeline_detail(event, report)
            add(f"- {words.moment(event.at)} · {words.event(event.event)}" + (f" · {md(detail)}" if detail else ""))
        add("")

    add(f"## {_('Escalations')}")
    add("")
    if not details.escalations:
        add(_("Nothing was escalated this month."))
    for line in report.escalations[:ESCALATIONS_SHOWN]:
        add(f"- {md(escalation_text(line, report, words))}")
    if len(report.escalations) > ESCALATIONS_SHOWN:
        more = len(report.escalations) - ESCALATIONS_SHOWN
        add("- " + ngettext("and {count} more", "and {count} more", more).format(count=words.number(more)))
    add("")

    add(f"## {_('People worth engaging')}")
    add("")
    if details.people:
        followers = any(p.followers is not None for p in details.people)
        add(f"| {_('Who')} | {_('Platform')} | {_('Praise')} | {_('Questions answered')} | {_('Shares')} |" + (f" {_('Followers')} |" if followers else ""))
        add("|---|---|---:|---:|---:|" + ("---:|" if followers else ""))
        for person in details.people:
            add(
                f"| {md(person.author)} | {md(person.platform)} | {words.number(person.praise)} | {words.number(person.questions_answered)} | "
                f"{words.number(person.shares)} |" + (f" {words.number(person.followers)} |" if followers else "")
            )
    else:
        add(_("Nobody stood out this month for praise, answered questions or shares."))
    add("")

    if report.recommendations.text or report.drafts:
        add(f"## {_('Recommendations')}")
        add("")
        if report.recommendations.text:
            add(report.recommendations.text.strip())
            add("")
        if report.drafts:
            add(f"### {_('From this month’s figures')}")
            add("")
            for item in report.drafts:
                add(f"- {md(item.text)}")
            add("")
    add("---")
    add(_("Figures computed by cmday from the local state on {day}.").format(day=words.day(report.generated_at.astimezone(words.zone).date())))
    return "\n".join(out) + "\n"


def timeline_detail(event, report: MonthlyReport) -> str:
    """What a crisis timeline line adds: who wrote or what was published; for an escalation, whom it went to,
    how and the note only in the team's copy (the client's names a contact only when the project says so)."""
    if event.event == "escalated":
        if report.internal:
            return " · ".join(x for x in (event.target, event.channel, one_line(event.note)) if x)
        return report.contact(event.target)
    if event.event in ("ignored", "snoozed"):
        return one_line(event.note) if report.internal else ""
    return event.detail


def escalation_text(line: EscalationLine, report: MonthlyReport, words: Words) -> str:
    """"6 Nov – 30 Nov · 14 times · «The coffee was cold»", plus whom, how and the note in the team's copy."""
    if line.count == 1:
        when = words.moment(line.first)
    else:
        when = f"{words.short_day(line.first.astimezone(words.zone).date())} – {words.short_day(line.last.astimezone(words.zone).date())}"
        when += " · " + ngettext("{count} time", "{count} times", line.count).format(count=words.number(line.count))
    parts = [when]
    if line.text:
        parts.append(f"«{line.text}»")
    if line.target:
        parts.append(f"{line.target} ({line.channel})" if line.channel else line.target)
    if line.note:
        parts.append(line.note)
    return " · ".join(parts)


def _breakdowns(details, words: Words) -> list[tuple[str, dict[str, int]]]:
    """What came in by platform, category and kind, named in the report's language."""
    def named(counts: dict[str, int], name) -> dict[str, int]:
        renamed: dict[str, int] = {}
        for key, count in counts.items():
            renamed[name(key)] = renamed.get(name(key), 0) + count
        return renamed

    return [
        (_("By platform"), details.by_platform),
        (_("By category"), named(details.by_category, words.category)),
        (_("By kind"), named(details.by_kind, words.kind)),
    ]


def _reactions(count: int, words: Words) -> str:
    return ngettext("{count} reaction", "{count} reactions", count).format(count=words.number(count))


def _missed(count: int, words: Words) -> str:
    return ngettext("{count} planned post was not published.", "{count} planned posts were not published.", count).format(
        count=words.number(count)
    )


def _md_reactions(note: MentionNote, words: Words) -> str:
    return " · " + _reactions(note.reactions, words) if note.reactions else ""


def _response_intro(report: MonthlyReport, words: Words) -> str:
    figures = report.indicators
    median = figures.get("response_time_median_minutes")
    p90 = figures.get("response_time_p90_minutes")
    hours = figures.business_hours
    line = ngettext(
        "Median {median}, 90th percentile {p90}, over {answered} answered of {answerable} needing an answer.",
        "Median {median}, 90th percentile {p90}, over {answered} answered of {answerable} needing an answer.",
        figures.details.answerable,
    ).format(
        median=words.number(median.value if median else None, "minutes"),
        p90=words.number(p90.value if p90 else None, "minutes"),
        answered=words.number(figures.details.answered),
        answerable=words.number(figures.details.answerable),
    )
    if hours is not None:
        line += " " + _("Counted in working hours only ({hours}).").format(hours=words.hours(hours))
    return line


def _crisis_title(episode, words: Words) -> str:
    first, last = episode.days[0], episode.days[-1]
    if first == last:
        return _("Crisis on {day}").format(day=words.day(first))
    return _("Crisis from {start} to {end}").format(start=words.day(first), end=words.day(last))


def _crisis_facts(episode, words: Words) -> str:
    line = (
        ngettext("{count} mention", "{count} mentions", len(episode.mentions)).format(count=words.number(len(episode.mentions)))
        + "; "
        + ngettext("{count} answered", "{count} answered", episode.answered).format(count=words.number(episode.answered))
        + ", "
        + ngettext("{count} escalated.", "{count} escalated.", episode.escalated).format(count=words.number(episode.escalated))
    )
    if episode.first_response_minutes is not None:
        line += " " + _("First answer after {time}.").format(time=words.number(episode.first_response_minutes, "minutes"))
    return line


def missing_recommendations(report: MonthlyReport) -> str | None:
    """What the CM is told on the terminal when the report carries none of their own words (never the client's copy)."""
    if report.recommendations.text:
        return None
    missing = report.recommendations.missing
    if missing:
        return _("No recommendations were written for this month: {file} does not exist yet.").format(file=missing)
    return _("No recommendations were written for this month ([report] recommendations is not set in the project).")


def _is_web(url: str) -> bool:
    return url.startswith(("https://", "http://"))


# -- HTML -------------------------------------------------------------------------------------------------


def e(text: object) -> str:
    """Anything shown in HTML, escaped (mention text and author names came from a network)."""
    return html.escape(clean(str(text)), quote=True)


def _data(value: float | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def svg_columns(series: list[float | None], labels: list[str], unit: str, words: Words, title: str) -> str:
    """A small column chart of a trend, the current period darker: inline SVG, nothing fetched."""
    width, height, top, bottom = 300, 110, 16, 18
    slot = width / max(len(series), 1)
    known = [v for v in series if v is not None]
    ceiling = 1.0 if unit == "ratio" else max(known + [0]) or 1
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{e(title)}">']
    parts.append(f'<line x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" class="axis"/>')
    for index, (value, label) in enumerate(zip(series, labels, strict=False)):
        x = index * slot
        current = " current" if index == len(series) - 1 else ""
        if value is not None:
            bar = max((value / ceiling) * (height - top - bottom), 0 if value == 0 else 1.5)
            y = height - bottom - bar
            parts.append(f'<rect class="bar{current}" x="{x + slot * 0.2:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{bar:.1f}" rx="2"/>')
            parts.append(f'<text class="figure" x="{x + slot / 2:.1f}" y="{y - 3:.1f}">{e(_short(value, unit, words))}</text>')
        parts.append(f'<text class="tick{current}" x="{x + slot / 2:.1f}" y="{height - 5}">{e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_line(series: list[float | None], labels: list[str], unit: str, words: Words, title: str) -> str:
    """A small line chart for a running figure (followers): scaled to its own range, so growth shows."""
    width, height, top, bottom, side = 300, 110, 16, 18, 14
    slot = (width - 2 * side) / max(len(series) - 1, 1)
    known = [v for v in series if v is not None]
    low, high = (min(known), max(known)) if known else (0, 1)
    span = (high - low) or 1
    parts = [f'<svg class="chart line" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{e(title)}">']
    parts.append(f'<line x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" class="axis"/>')
    points = []
    for index, (value, label) in enumerate(zip(series, labels, strict=False)):
        x = side + index * slot
        current = " current" if index == len(series) - 1 else ""
        parts.append(f'<text class="tick{current}" x="{x:.1f}" y="{height - 5}">{e(label)}</text>')
        if value is None:
            continue
        y = height - bottom - 6 - (value - low) / span * (height - top - bottom - 12)
        points.append((x, y, value, current))
    if len(points) > 1:
        parts.append('<polyline class="trend" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y, _v, _c in points) + '"/>')
    for x, y, value, current in points:
        parts.append(f'<circle class="dot{current}" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
        parts.append(f'<text class="figure" x="{x:.1f}" y="{y - 6:.1f}">{e(_short(value, unit, words))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_rows(counts: dict[str, int], words: Words, title: str) -> str:
    """Horizontal bars for a breakdown (platforms, categories)."""
    rows = list(counts.items())
    width, row, label_width = 360, 20, 110
    height = row * len(rows) + 4
    ceiling = max([c for _n, c in rows] + [1])
    parts = [f'<svg class="chart rows" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{e(title)}">']
    for index, (name, count) in enumerate(rows):
        y = index * row + 2
        bar = (count / ceiling) * (width - label_width - 50)
        parts.append(f'<text class="name" x="{label_width - 6}" y="{y + 13}">{e(one_line(name, 18))}</text>')
        parts.append(f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{max(bar, 1.5):.1f}" height="{row - 7}" rx="2"/>')
        parts.append(f'<text class="count" x="{label_width + bar + 5:.1f}" y="{y + 13}">{e(words.number(count))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _short(value: float, unit: str, words: Words) -> str:
    from cmday.i18n import format_number, format_percent

    if unit == "ratio":
        return format_percent(value, language=words.language)
    if unit == "minutes":
        return format_number(round(value), language=words.language)
    if abs(value) >= 10_000:
        return format_number(round(value / 1000, 1), language=words.language) + "k"
    return format_number(value, language=words.language)


def render_html(report: MonthlyReport) -> str:
    words = Words.of(report)
    figures = report.indicators
    details = figures.details
    period = figures.period
    labels = [words.short_period(p) for p in figures.periods]
    title = f"{report.project_name} · {_('Monthly report')} · {words.month(period, title=True)}"
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    out: list[str] = []
    add = out.append

    add("<!DOCTYPE html>")
    add(f'<html lang="{e(report.language)}">')
    add("<head>")
    add('<meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add('<meta name="generator" content="cmday">')
    add(f"<title>{e(title)}</title>")
    add(f"<style>\n{css}</style>")
    add("</head>")
    add("<body>")
    add('<header class="cover">')
    if report.internal:
        add(f'<p class="internal">{e(_("Team copy: internal notes included, not for the client."))}</p>')
    add(f'<p class="kicker">{e(_("Monthly report"))}</p>')
    add(f"<h1>{e(report.project_name)}</h1>")
    add(f'<p class="period" data-period="{e(period.label)}">{e(words.month(period, title=True))}</p>')
    facts = []
    if report.client:
        facts.append(e(_("Client: {client}").format(client=report.client)))
    facts.append(e(_("Period: {span}").format(span=words.span(figures))))
    facts.append(e(_("Prepared on {day}").format(day=words.day(report.generated_at.astimezone(words.zone).date())))
                 + (f" · {e(report.owner)}" if report.owner else ""))
    add(f'<p class="facts">{" · ".join(facts)}</p>')
    add("</header>")

    add('<section id="summary">')
    add(f"<h2>{e(_('Summary'))}</h2>")
    add("<ul>" + "".join(f"<li>{e(line)}</li>" for line in summary_lines(report, words)) + "</ul>")
    add("</section>")

    add('<section id="objectives">')
    add(f"<h2>{e(_('Objectives'))}</h2>")
    if report.objectives:
        add(f'<table><thead><tr><th>{e(_("Objective"))}</th><th class="num">{e(_("Target"))}</th>'
            f'<th class="num">{e(_("Result"))}</th><th></th></tr></thead><tbody>')
        for objective in report.objectives:
            status = objective.status
            mark = MARKS[status]
            description = f'<div class="note">{e(objective.description)}</div>' if objective.description else ""
            add(
                f'<tr class="{status}"><td>{e(objective.label)}{description}</td>'
                f'<td class="num" data-objective="{e(objective.kpi)}" data-target="{_data(objective.target)}">'
                f'{e(words.number(objective.target, objective.unit))}</td>'
                f'<td class="num" data-objective-value="{e(objective.kpi)}" data-value="{_data(objective.value)}">'
                f'{e(words.number(objective.value, objective.unit))}</td>'
                f'<td class="status">{mark} {e(words.met(objective.met, objective.on_track))}</td></tr>'
            )
        add("</tbody></table>")
    else:
        add(f"<p>{e(_('The project sets no objectives yet ([[objectives]] in its file).'))}</p>")
    add("</section>")

    add('<section id="indicators">')
    add(f"<h2>{e(_('Indicators'))}</h2>")
    against = ngettext(
        "This month against {previous}, and the last {count} month.", "This month against {previous}, and the last {count} months.", len(figures.periods)
    ).format(previous=words.month(figures.previous_period), count=len(figures.periods))
    add(f'<p class="note">{e(against)}</p>')
    add('<div class="cards">')
    for indicator in figures.indicators:
        status = "" if indicator.met is None else " met" if indicator.met else " missed"
        add(f'<div class="card{status}" data-card="{e(indicator.key)}">')
        add(f'<div class="label">{e(indicator.label)}</div>')
        add(f'<div class="value" data-kpi="{e(indicator.key)}" data-value="{_data(indicator.value)}" data-unit="{e(indicator.unit)}">'
            f'{e(words.number(indicator.value, indicator.unit))}</div>')
        add(
            f'<div class="versus"><span data-previous="{e(indicator.key)}" data-value="{_data(indicator.previous)}">'
            f'{e(_("previous: {value}").format(value=words.number(indicator.previous, indicator.unit)))}</span>'
            f' <span class="change trend-{e(indicator.trend or "none")}">{e(words.change(indicator))}</span></div>'
        )
        if indicator.target is not None:
            add(f'<div class="target" data-target="{e(indicator.key)}" data-value="{_data(indicator.target)}">'
                f'{e(_("target: {value}").format(value=words.number(indicator.target, indicator.unit)))}'
                f' · {e(words.met(indicator.met, indicator.on_track))}</div>')
        chart = svg_columns if indicator.key in COMPUTED_KEYS else svg_line  # snapshots are running totals
        add(chart(indicator.series, labels, indicator.unit, words, indicator.label))
        add("</div>")
    add("</div>")
    add("</section>")

    add('<section id="incoming">')
    add(f"<h2>{e(_('What came in'))}</h2>")
    add('<div class="columns">')
    for title_text, counts in _breakdowns(details, words):
        if counts:
            add(f'<figure><figcaption>{e(title_text)}</figcaption>{svg_rows(counts, words, title_text)}</figure>')
    add("</div>")
    add("</section>")

    add('<section id="response">')
    add(f"<h2>{e(_('Response times'))}</h2>")
    add(f"<p>{e(_response_intro(report, words))}</p>")
    if details.response_by_platform:
        add(f'<table><thead><tr><th>{e(_("Platform"))}</th><th class="num">{e(_("Answered"))}</th><th class="num">{e(_("Median"))}</th>'
            f'<th class="num">{e(_("90th pct."))}</th></tr></thead><tbody>')
        for platform, row in details.response_by_platform.items():
            add(f'<tr><td>{e(platform)}</td><td class="num">{e(words.number(row["answered"]))}</td>'
                f'<td class="num">{e(words.number(row["median_minutes"], "minutes"))}</td>'
                f'<td class="num">{e(words.number(row["p90_minutes"], "minutes"))}</td></tr>')
        add("</tbody></table>")
        buckets = {words.bucket(name): count for name, count in details.response_buckets.items()}
        add(f'<figure><figcaption>{e(_("How long answers took"))}</figcaption>{svg_rows(buckets, words, _("How long answers took"))}</figure>')
    if report.by_member:
        add(f'<table class="internal"><thead><tr><th>{e(_("Who answered"))}</th><th class="num">{e(_("Answered"))}</th>'
            f'<th class="num">{e(_("Median"))}</th><th>{e(_("Templates"))}</th></tr></thead><tbody>')
        for line in report.by_member:
            add(f'<tr><td>{e(line.member)}</td><td class="num">{e(words.number(line.replies))}</td>'
                f'<td class="num">{e(words.number(line.median_minutes, "minutes"))}</td><td>{e(_templates_used(line))}</td></tr>')
        add("</tbody></table>")
    add("</section>")

    add('<section id="posts">')
    add(f"<h2>{e(_('Best posts'))}</h2>")
    if details.posts:
        add("<ol class=\"posts\">")
        for post in details.posts:
            text = e(_quote(post.text)) if post.text else f"<code>{e(post.key)}</code>"
            link = f' <a href="{e(post.url)}">{e(_("open"))}</a>' if post.url and _is_web(post.url) else ""
            engagement = ""
            if post.engagement:
                engagement = '<div class="note">' + " · ".join(f"{e(metric)} {e(words.number(value))}" for metric, value in post.engagement.items()) + "</div>"
            add(f'<li><span class="when">{e(words.moment(post.at))} · {e(post.platform)}</span> {text}{link}{engagement}</li>')
        add("</ol>")
    else:
        add(f"<p>{e(_('No posts were published this month.'))}</p>")
    if details.posts_missed:
        add(f'<p class="note">{e(_missed(details.posts_missed, words))}</p>')
    add("</section>")

    add('<section id="mentions">')
    add(f"<h2>{e(_('Notable mentions'))}</h2>")
    add('<div class="columns">')
    for title_text, notes, empty, css_class in (
        (_("Praise"), details.praise, _("No praise this month."), "praise"),
        (_("Complaints"), details.complaints, _("No complaints this month."), "complaint"),
    ):
        add(f'<div class="{css_class}"><h3>{e(title_text)}</h3>')
        if not notes:
            add(f"<p>{e(empty)}</p>")
        for note in notes:
            reactions = f' · {e(_reactions(note.reactions, words))}' if note.reactions else ""
            add(
                f'<blockquote><p>{e(_quote(note.text))}</p><footer>{e(note.author)} · {e(note.platform)} · '
                f"{e(words.moment(note.created_at))} · {e(words.state(note))}{reactions}</footer></blockquote>"
            )
        add("</div>")
    add("</div>")
    add("</section>")

    add('<section id="crises">')
    add(f"<h2>{e(_('Crises and how they were handled'))}</h2>")
    if not details.crises:
        add(f"<p>{e(_('No crisis this month.'))}</p>")
    for episode in details.crises:
        add('<div class="crisis">')
        add(f"<h3>{e(_crisis_title(episode, words))}</h3>")
        add(f"<p>{e(_crisis_facts(episode, words))}</p>")
        add('<ol class="timeline">')
        for event in episode.timeline:
            detail = timeline_detail(event, report)
            detail = f" · {e(one_line(detail, 120))}" if detail else ""
            add(f'<li class="event-{e(event.event)}"><span class="when">{e(words.moment(event.at))}</span> {e(words.event(event.event))}{detail}</li>')
        add("</ol>")
        add("</div>")
    add("</section>")

    add('<section id="escalations">')
    add(f"<h2>{e(_('Escalations'))}</h2>")
    if not details.escalations:
        add(f"<p>{e(_('Nothing was escalated this month.'))}</p>")
    else:
        add("<ul>")
        for line in report.escalations[:ESCALATIONS_SHOWN]:
            add(f'<li data-count="{line.count}">{e(escalation_text(line, report, words))}</li>')
        if len(report.escalations) > ESCALATIONS_SHOWN:
            more = len(report.escalations) - ESCALATIONS_SHOWN
            add(f"<li>{e(ngettext('and {count} more', 'and {count} more', more).format(count=words.number(more)))}</li>")
        add("</ul>")
    add("</section>")

    add('<section id="people">')
    add(f"<h2>{e(_('People worth engaging'))}</h2>")
    if details.people:
        followers = any(p.followers is not None for p in details.people)
        add(
            f'<table><thead><tr><th>{e(_("Who"))}</th><th>{e(_("Platform"))}</th><th class="num">{e(_("Praise"))}</th>'
            f'<th class="num">{e(_("Questions answered"))}</th><th class="num">{e(_("Shares"))}</th>'
            + (f'<th class="num">{e(_("Followers"))}</th>' if followers else "") + "</tr></thead><tbody>"
        )
        for person in details.people:
            add(
                f'<tr data-person="{e(person.author)}"><td>{e(person.author)}</td><td>{e(person.platform)}</td>'
                f'<td class="num">{e(words.number(person.praise))}</td>'
                f'<td class="num">{e(words.number(person.questions_answered))}</td><td class="num">{e(words.number(person.shares))}</td>'
                + (f'<td class="num">{e(words.number(person.followers))}</td>' if followers else "") + "</tr>"
            )
        add("</tbody></table>")
    else:
        add(f"<p>{e(_('Nobody stood out this month for praise, answered questions or shares.'))}</p>")
    add("</section>")

    if report.recommendations.text or report.drafts:
        add('<section id="recommendations">')
        add(f"<h2>{e(_('Recommendations'))}</h2>")
        if report.recommendations.text:
            add(f'<div class="recommendations">{markdown_to_html(report.recommendations.text)}</div>')
        if report.drafts:
            add(f"<h3>{e(_('From this month’s figures'))}</h3>")
            add('<ul class="drafts">' + "".join(f'<li data-topic="{e(item.topic)}">{e(item.text)}</li>' for item in report.drafts) + "</ul>")
        add("</section>")

    add(f'<footer class="colophon">'
        f'{e(_("Figures computed by cmday from the local state on {day}.").format(day=words.day(report.generated_at.astimezone(words.zone).date())))}'
        '</footer>')
    add("</body>")
    add("</html>")
    return "\n".join(out) + "\n"


def markdown_to_html(text: str) -> str:
    """The CM's recommendations as HTML: no raw HTML and no images, so nothing is fetched when the client opens it."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).disable("image")
    return parser.render(text)
