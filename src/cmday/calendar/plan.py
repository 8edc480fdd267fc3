"""The plan: a project's posts from its file's `[[posts]]` and its calendar sheet, merged, keyed, with the state's publications."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cmday import files
from cmday.calendar.dates import post_instant
from cmday.clock import day_bounds
from cmday.errors import ConfigError, UsageError
from cmday.i18n import _

if TYPE_CHECKING:
    from cmday.calendar.exchange import CsvFormat
    from cmday.models import Post, Project
    from cmday.protocol import Protocol
    from cmday.store import Store
    from cmday.workspace import Workspace

READY_STATUSES = ("ready", "scheduled", "published")
UNREADY_STATUSES = ("idea", "draft")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class PlannedPost:
    """A post as the calendar holds it: where it was written, its instant, its key, and what cmday did with it."""

    key: str
    post: Post
    at: datetime  # the instant, in UTC
    local: datetime  # the same instant in the project's time zone (a time in a DST gap shows as it will happen)
    platform: str
    origin: str  # "projects/acme.toml posts[3]" or "calendar.csv:7"
    status: str  # as written, or "published" once cmday published it
    url: str | None = None  # where it was published, from the state
    publication: str | None = None  # sending | published | failed, from the state
    publication_error: str | None = None

    @property
    def text(self) -> str:
        return self.post.text

    @property
    def link(self) -> str | None:
        return self.post.link


@dataclass
class Plan:
    """One project's calendar: every post, from `[[posts]]` and from its CSV, with the state's publications."""

    project: Project
    zone: ZoneInfo
    root: Path
    posts: list[PlannedPost]
    project_file: str
    csv_path: Path | None = None
    csv_format: CsvFormat | None = None
    alt_text_severity: str = "warning"  # of a file without alt text: the protocol's `alt_text` rule says

    def find(self, wanted: str) -> PlannedPost | None:
        """A post by its key, or by an unambiguous start of it."""
        exact = [p for p in self.posts if p.key == wanted]
        if exact:
            return exact[0]
        starts = [p for p in self.posts if p.key.startswith(wanted)] if len(wanted) >= 4 else []
        if len(starts) > 1:
            raise UsageError(
                _("{key!r} is the start of several posts' keys: {keys}").format(
                    key=wanted, keys=", ".join(p.key for p in starts[:5])
                ),
                hint=_("type more of the key"),
            )
        return starts[0] if starts else None

    def between(self, start: datetime, end: datetime) -> list[PlannedPost]:
        return sorted((p for p in self.posts if start <= p.at < end), key=lambda p: (p.at, p.platform))

    def on(self, day: date) -> list[PlannedPost]:
        return self.between(*day_bounds(day, self.zone))

    def active_platforms(self) -> list[str]:
        return self.project.publishing_platforms()

    def publishes_on(self, day: date) -> bool:
        weekdays = self.project.calendar.weekdays
        return weekdays is None or WEEKDAYS[day.weekday()] in weekdays


def post_key(post: Post, platform: str) -> str:
    """The post's stable key: its `id`, or a hash of time, channel and the start of its text.

    The hash stays the same while `at`, `source`/`platform` and the first 40 characters of the text do;
    give the post an `id` to edit those freely after publishing.
    """
    if post.id:
        return post.id
    basis = "|".join((post.at.isoformat(), post.source or "", platform, " ".join(post.text.split())[:40]))
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:8]


def load_plan(
    workspace: Workspace,
    project: Project,
    store: Store | None = None,
    missing_csv_ok: bool = False,
    protocol: Protocol | None = None,
    language: str | None = None,
) -> Plan:
    """Every post of the project (file and CSV), with what the state says cmday published.

    `missing_csv_ok` lets `cmday calendar add` start the CSV the project names. The `protocol`, in the
    project's language (else `language`, the session's), sets how the checks weigh a file without alt text.
    """
    root = workspace.root
    zone = workspace.project_zone(project)
    project_file = files.shown_path(workspace.project_files.get(project.slug), root) or f"projects/{project.slug}.toml"
    plan = Plan(project=project, zone=zone, root=root, posts=[], project_file=project_file)
    if protocol is not None:
        from cmday.conduct import alt_text_rule

        rule = alt_text_rule(protocol, project.project.language or language or workspace.config.language or "en")
        plan.alt_text_severity = rule.severity if rule is not None else plan.alt_text_severity
    for index, post in enumerate(project.posts, start=1):
        plan.posts.append(_planned(post, project, zone, f"{project_file} posts[{index}]"))
    if project.calendar.file:
        plan.csv_path = root / project.calendar.file
        if not plan.csv_path.is_file():
            if not missing_csv_ok:  # `calendar add` may create the sheet it names
                raise ConfigError(
                    _("{file}: calendar.file: {csv} not found").format(file=project_file, csv=project.calendar.file),
                    hint=_("create it (`cmday calendar add` starts one) or fix the path: it is relative to the workspace"),
                )
        else:
            from cmday.calendar.exchange import read_csv_posts  # the sheet's reader, which itself reads post keys from here

            shown = files.shown_path(plan.csv_path, root)
            rows, plan.csv_format = read_csv_posts(files.read_bytes(plan.csv_path, files.CALENDAR_SHEET, shown), shown, project)
            for post, line in rows:
                plan.posts.append(_planned(post, project, zone, f"{shown}:{line}"))
    if store is not None:
        published = {p.post_key: p for p in store.publications(project.slug)}
        for planned in plan.posts:
            record = published.get(planned.key)
            if record is None:
                continue
            planned.publication = record.status
            planned.publication_error = record.error
            if record.status == "published":
                planned.status, planned.url = "published", record.url
    plan.posts.sort(key=lambda p: (p.at, p.platform, p.key))
    return plan


def _planned(post: Post, project: Project, zone: ZoneInfo, origin: str) -> PlannedPost:
    platform = project.post_platform(post)
    # UTC for arithmetic: datetimes sharing one tzinfo compare and subtract by wall time, wrong across DST changes
    at = post_instant(post.at, zone).astimezone(UTC)
    return PlannedPost(post_key(post, platform), post, at, at.astimezone(zone), platform, origin, post.status)


def due(plan: Plan, now: datetime) -> list[PlannedPost]:
    """Ready or scheduled posts whose time has come and that cmday has not published."""
    return [p for p in plan.posts if p.at <= now and p.status in ("ready", "scheduled")]
