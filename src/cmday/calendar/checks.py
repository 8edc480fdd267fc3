"""The calendar's checks: every post's time, readiness, media, text and links, and the plan's gaps, saturation and horizon."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cmday.calendar.dates import local_time_problem, offset_text, span_text, when_text
from cmday.calendar.plan import READY_STATUSES, UNREADY_STATUSES, Plan, PlannedPost
from cmday.clock import day_bounds
from cmday.i18n import _, format_short_day, format_time, ngettext
from cmday.labels import state_label
from cmday.utm import REQUIRED_UTM, naming_breaks, own_domain, utm_tags, utm_value

if TYPE_CHECKING:
    from cmday.models import Post, Project, Utm

SEVERITIES = ("error", "warning", "info")
NOT_READY_WINDOW = timedelta(hours=24)

_LINK = re.compile(r"https?://[^\s<>\"']+")


def taboo_hits(text: str, project: Project) -> list[str]:
    """The project's taboo topics a text touches (accent- and case-insensitive, whole words).

    The one place the calendar asks; it defers to the protocol's conduct checks so there is one copy of the rule.
    """
    from cmday.conduct import taboo_hits as conduct_taboo_hits

    return conduct_taboo_hits(text, project)


def text_limit(platform: str, project: Project) -> int | None:
    from cmday.conduct import PLATFORM_LIMITS

    return project.calendar.text_limits.get(platform) or PLATFORM_LIMITS.get(platform)


def whole_text(text: str, link: str | None) -> str:
    """What a post publishes: its text, with the link added when the text does not hold it."""
    return text if not link or link in text else (f"{text}\n\n{link}" if text else link)


@dataclass
class Problem:
    """One thing wrong with the calendar: about one post (its key), one day and platform, or the whole plan."""

    severity: str  # error | warning | info
    code: str
    message: str
    post_key: str | None = None
    day: date | None = None
    platform: str | None = None


PROBLEM_CODES = (
    "past", "dst-gap", "dst-ambiguous", "not-ready", "tomorrow-missing", "media-missing", "alt-missing", "link-broken", "empty",
    "too-long", "taboo", "utm-missing", "utm-naming", "utm-mismatch", "too-many", "too-close", "gap",
    "horizon-short", "duplicate", "links-not-checked",
)
# Problems that stop `cmday publish` when they are errors (the others are about timing or the calendar as a whole);
# `alt-missing` is one where the protocol's `alt_text` rule says so.
BLOCKING = ("media-missing", "alt-missing", "empty", "too-long", "taboo")


def check_plan(
    plan: Plan,
    now: datetime,
    days: int | None = None,
    links: dict[str, str | None] | None = None,
    links_skipped: str | None = None,
) -> list[Problem]:
    """Every problem of the calendar from now to `days` ahead (the horizon by default), errors first.

    `links` holds what HEAD requests found (URL -> None when it answered, else why not); it is
    gathered apart (`verify_links`) so the checks stay plain and offline.
    """
    settings = plan.project.calendar
    zone = plan.zone
    today = now.astimezone(zone).date()
    horizon = days or settings.horizon_days
    until = day_bounds(today + timedelta(days=horizon), zone)[1]
    tomorrow = today + timedelta(days=1)
    soon = day_bounds(tomorrow, zone)[1]  # the "tomorrow" check covers everything due before tomorrow ends
    problems: list[Problem] = []
    for planned in plan.posts:
        if planned.status == "published" or planned.at >= until:
            continue
        if planned.at < now:
            problems.append(_past(plan, planned, now))  # nothing else matters for a post whose time is gone
        else:
            problems.extend(post_problems(plan, planned, now, soon, links or {}))
    problems.extend(_duplicates(plan))
    problems.extend(_tomorrow(plan, tomorrow))
    problems.extend(_saturation(plan, today, until))
    problems.extend(_horizon(plan, today, horizon))
    if links_skipped:
        problems.append(Problem("info", "links-not-checked", links_skipped))
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    return sorted(problems, key=lambda p: (rank[p.severity], p.day or date.min, p.platform or "", p.code))


def _said(planned: PlannedPost) -> str:
    return f"{when_text(planned.local)} {planned.platform}"


def _past(plan: Plan, planned: PlannedPost, now: datetime) -> Problem:
    missed = planned.status in ("ready", "scheduled")  # meant to go out; a stale draft is housekeeping
    message = _("was due {ago} ago and is not published (status: {status})").format(ago=span_text(now - planned.at), status=state_label(planned.status))
    return Problem("error" if missed else "warning", "past", f"{_said(planned)}: {message}", planned.key, planned.local.date(), planned.platform)


def post_problems(plan: Plan, planned: PlannedPost, now: datetime, soon: datetime, links: dict[str, str | None]) -> list[Problem]:
    """What is wrong with one unpublished post: its time, readiness, media, text and links."""
    post, project = planned.post, plan.project
    local = planned.local
    day = local.date()
    said = _said(planned)

    def problem(severity: str, code: str, message: str) -> Problem:
        return Problem(severity, code, f"{said}: {message}", planned.key, day, planned.platform)

    found: list[Problem] = []
    if planned.at >= now:
        kind = local_time_problem(post.at, plan.zone)
        if kind == "gap":
            found.append(problem("error", "dst-gap", _(
                "{time} does not exist in {zone} that day: the clocks jump forward an hour; as written it would go out at {actual}"
            ).format(time=format_time(post.at), zone=plan.zone.key, actual=f"{format_time(local)} {local.strftime('%Z')}")))
        elif kind == "ambiguous":
            found.append(problem("warning", "dst-ambiguous", _(
                "{time} happens twice in {zone} that day: the clocks go back an hour; cmday takes the first one ({offset}); "
                "write the offset to choose, e.g. {example}"
            ).format(
                time=format_time(post.at), zone=plan.zone.key, offset=offset_text(local),
                example=post.at.replace(tzinfo=None).isoformat() + offset_text(post.at.replace(tzinfo=plan.zone, fold=1)),
            )))
    if planned.at >= now and planned.at - now < NOT_READY_WINDOW and planned.status in UNREADY_STATUSES:
        found.append(problem("error", "not-ready", _("due in {span} and still {status}").format(
            span=span_text(planned.at - now), status=state_label(planned.status))))
    urgent = planned.at < soon
    for media in post.media:
        path = Path(media).expanduser()
        if not (path if path.is_absolute() else plan.root / path).is_file():
            found.append(problem("error" if urgent else "warning", "media-missing",
                                 _("media file {file} not found (relative to the workspace)").format(file=media)))
        elif not post.media_alt.get(media):
            found.append(problem(plan.alt_text_severity, "alt-missing",
                                 _("{file} has no alt text: people using screen readers miss it; write "
                                   "media = [{{ path = \"{file}\", alt = \"...\" }}]").format(file=media)))
    if planned.status in ("ready", "scheduled") and not post.text.strip() and not post.media:
        found.append(problem("error", "empty", _("ready but has no text and no media")))
    from cmday.sources import count_words, text_rules

    over = text_rules(planned.platform).overrun(whole_text(post.text, post.link), text_limit(planned.platform, project))
    if over:
        length, limit, unit = over
        found.append(problem("error", "too-long", _("{length}, over the {limit} {platform} allows").format(
            length=count_words(length, unit), limit=limit, platform=planned.platform)))
    hits = taboo_hits(post.text, project)
    if hits:
        found.append(problem("error", "taboo", _("touches a taboo topic: {topics}").format(topics=", ".join(hits))))
    for link in post_links(post):
        found.extend(problem(*said_link) for said_link in _link_problems(link, planned, project.utm))
        if link in links and links[link]:
            found.append(problem("error" if urgent else "warning", "link-broken",
                                 _("link {link} does not answer: {reason}").format(link=link, reason=links[link])))
    return found


def post_links(post: Post) -> list[str]:
    """Every link of a post: its `link`, then those written in its text."""
    found = [link.rstrip(".,;:!?)]}»…") for link in _LINK.findall(post.text)]  # "see https://x.example/a." ends before the dot
    if post.link and post.link not in found:
        found.insert(0, post.link)
    return found


def _link_problems(link: str, planned: PlannedPost, rules: Utm) -> list[tuple[str, str, str]]:
    if not own_domain(link, rules):
        return []
    tags = utm_tags(link)
    missing = [key for key in REQUIRED_UTM if not tags.get(key)]
    if missing:
        return [("warning", "utm-missing", _("link {link} to the brand's site lacks {tags}; `cmday utm` builds it").format(
            link=link, tags=", ".join(missing)))]
    said = [("warning", "utm-naming", _("link {link}: {what}").format(link=link, what=what)) for what in naming_breaks(tags, rules)]
    source = tags["utm_source"].lower()
    if source != planned.platform and source in _known_platforms():
        said.append(("warning", "utm-mismatch", _("link tagged utm_source={source} but the post goes to {platform}").format(
            source=source, platform=planned.platform)))
    campaign = planned.post.campaign
    if campaign and tags["utm_campaign"] != utm_value(campaign, rules):
        said.append(("warning", "utm-mismatch", _("link tagged utm_campaign={tagged} but the post's campaign is {campaign}").format(
            tagged=tags["utm_campaign"], campaign=campaign)))
    return said


def _known_platforms() -> set[str]:
    from cmday.conduct import PLATFORM_LIMITS
    from cmday.sources import PLATFORMS

    return set(PLATFORM_LIMITS) | set(PLATFORMS) | {"threads", "youtube", "pinterest"}


def _duplicates(plan: Plan) -> list[Problem]:
    counts = Counter(p.key for p in plan.posts)
    found = []
    for key, count in counts.items():
        if count > 1:
            places = [p.origin for p in plan.posts if p.key == key]
            first = next(p for p in plan.posts if p.key == key)
            found.append(Problem("warning", "duplicate", ngettext("{count} post has the key {key}: {places}; give one an id",
                                                                  "{count} posts share the key {key}: {places}; give one an id", count).format(
                count=count, key=key, places=", ".join(places)), key, first.local.date(), first.platform))
    return found


def _tomorrow(plan: Plan, tomorrow: date) -> list[Problem]:
    if not plan.publishes_on(tomorrow):
        return []
    posts = plan.on(tomorrow)
    found = []
    for platform in plan.active_platforms():
        wanted = plan.project.calendar.per_platform("min_per_day", platform)
        ready = sum(1 for p in posts if p.platform == platform and p.status in READY_STATUSES)
        if ready < wanted:
            found.append(Problem("error", "tomorrow-missing",
                                 ngettext("tomorrow ({day}) {platform} has {ready} of the {wanted} ready post it needs",
                                          "tomorrow ({day}) {platform} has {ready} of the {wanted} ready posts it needs", wanted).format(
                day=format_short_day(tomorrow), platform=platform, ready=ready, wanted=wanted), None, tomorrow, platform))
    return found


def _saturation(plan: Plan, today: date, until: datetime) -> list[Problem]:
    found = []
    counted = [p for p in plan.posts if p.status != "idea" and day_bounds(today, plan.zone)[0] <= p.at < until]
    by_day: dict[tuple[str, date], list[PlannedPost]] = defaultdict(list)
    for planned in counted:
        by_day[(planned.platform, planned.local.date())].append(planned)
    for (platform, day), posts in sorted(by_day.items(), key=lambda item: (item[0][1], item[0][0])):
        most = plan.project.calendar.per_platform("max_per_day", platform)
        if most and len(posts) > most:  # 0: no limit
            found.append(Problem("warning", "too-many", ngettext("{day} {platform}: {count} post, more than the {most} a day the project allows",
                                                          "{day} {platform}: {count} posts, more than the {most} a day the project allows", len(posts)).format(
                day=format_short_day(day), platform=platform, count=len(posts), most=most), None, day, platform))
    by_platform: dict[str, list[PlannedPost]] = defaultdict(list)
    for planned in counted:
        by_platform[planned.platform].append(planned)
    for platform, posts in by_platform.items():
        gap = timedelta(minutes=plan.project.calendar.per_platform("min_gap_minutes", platform))
        posts.sort(key=lambda p: p.at)
        for before, after in zip(posts, posts[1:], strict=False):
            if after.at - before.at < gap and after.key != before.key:
                found.append(Problem("warning", "too-close",
                                     _("{time} {platform}: {minutes} min after the post at {before}; the project wants {gap} min between posts").format(
                    time=when_text(after.local), platform=platform, minutes=int((after.at - before.at).total_seconds() // 60),
                    before=format_time(before.local), gap=int(gap.total_seconds() // 60)), after.key, after.local.date(), platform))
    return found


def empty_days(plan: Plan, today: date, days: int) -> dict[str, list[date]]:
    """Per active platform, the publishing days from tomorrow to `days` ahead with nothing planned on it."""
    planned: set[tuple[str, date]] = {(p.platform, p.local.date()) for p in plan.posts}
    result: dict[str, list[date]] = {}
    for platform in plan.active_platforms():
        result[platform] = [
            day for offset in range(1, days + 1)
            if plan.publishes_on(day := today + timedelta(days=offset)) and (platform, day) not in planned
        ]
    return result


def _horizon(plan: Plan, today: date, horizon: int) -> list[Problem]:
    found = []
    for platform, days in empty_days(plan, today, horizon).items():
        for day in days:
            found.append(Problem("warning", "gap", _("{day} {platform}: nothing planned").format(
                day=format_short_day(day), platform=platform), None, day, platform))
    ideal = plan.project.calendar.ideal_horizon_days
    furthest = max((p.local.date() for p in plan.posts), default=None)
    covered = (furthest - today).days if furthest else 0
    if covered < ideal:
        found.append(Problem("info", "horizon-short",
                             ngettext("planned {covered} day ahead; aim for {horizon} at least, {ideal} is ideal",
                                      "planned {covered} days ahead; aim for {horizon} at least, {ideal} is ideal", max(covered, 0)).format(
            covered=max(covered, 0), horizon=plan.project.calendar.horizon_days, ideal=ideal)))
    return found


def links_to_check(plan: Plan, now: datetime, days: int | None = None) -> list[str]:
    """The links of the unpublished posts from now to `days` ahead, for `cmday.linkcheck.verify_links`."""
    until = day_bounds(now.astimezone(plan.zone).date() + timedelta(days=days or plan.project.calendar.horizon_days), plan.zone)[1]
    return sorted({link for p in plan.posts if now <= p.at < until and p.status != "published" for link in post_links(p.post)})
