"""The workspace and project files as validated models (what `cmday.toml` and `projects/*.toml` may hold)."""

from __future__ import annotations

import functools
import operator
from datetime import date, datetime, time
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from cmday.modelbase import SLUG_PATTERN, Strict, check_timezone
from cmday.sources import PLATFORMS, source_model

Language = Literal["en", "es"]
PUBLISHING_PLATFORMS = ("mastodon", "bluesky")


def check_state_url(value: str | None) -> str | None:
    """A shared state names its database, never its password: the TOML goes to git."""
    from cmday.i18n import _

    if value is None:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise ValueError(_("this must be a PostgreSQL URL such as postgresql://cmday@db.example/cmday"))
    if parts.password is not None:
        raise ValueError(
            _("the password must not be in the file: put it in CMDAY_STATE_PASSWORD (or the secrets file) "
              "and write the URL without it")
        )
    return value


class TeamMember(Strict):
    """One CM of a team sharing the state: `handle` is how commands name them (`cmday assign 42 ana`)."""

    name: str
    handle: Annotated[str, Field(pattern=SLUG_PATTERN)]


class WorkspaceConfig(Strict):
    """`cmday.toml`: who works here and the defaults for every project."""

    owner: str = ""
    default_project: str | None = None
    timezone: str = "UTC"
    language: Language | None = None
    # sources a sweep fetches at once: an agency's sixty answer in about the time of a few
    fetch_concurrency: Annotated[int, Field(ge=1, le=256)] = 64
    state: str | None = None  # a team's shared state, "postgresql://user@host/db"; without it, the local SQLite file
    team: list[TeamMember] = []

    _timezone = field_validator("timezone")(check_timezone)
    _state = field_validator("state")(check_state_url)


class ProjectInfo(Strict):
    name: str
    slug: Annotated[str, Field(pattern=SLUG_PATTERN)] | None = None
    language: Language | None = None  # None: the workspace's language
    timezone: str | None = None
    client: str = ""
    protocol: str | None = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class Knowledge(Strict):
    """The brand questionnaire from the practice texts' social media toolkit."""

    services: list[str] = []
    audience: str = ""
    competitors: list[str] = []
    push_topics: list[str] = []
    taboo_topics: list[str] = []
    what_people_say: str = ""
    voice: str = ""
    notes: str = ""


class Objective(Strict):
    kpi: str
    target: float
    period: Literal["week", "month", "quarter", "year"] = "month"
    description: str = ""


class Listen(Strict):
    brand: list[str] = []
    competitors: list[str] = []
    sector: list[str] = []
    urgent: list[str] = []


class Routine(Strict):
    """How often the routine expects things to happen."""

    sweep_hours: Annotated[float, Field(gt=0)] = 3
    workday_start: time = time(9, 0)
    workday_end: time = time(18, 0)


# One model per platform, each in its platform's home (cmday/sources/<platform>/settings.py), named by the registry:
# a new platform is its package and its line in cmday.sources.PLATFORMS, never an edit here.
Source = Annotated[functools.reduce(operator.or_, map(source_model, PLATFORMS)), Field(discriminator="platform")]


POST_STATUSES = ("idea", "draft", "ready", "scheduled", "published")
PostStatus = Literal["idea", "draft", "ready", "scheduled", "published"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Count = Annotated[int, Field(ge=0)]
PerPlatform = Count | dict[str, Count]  # one number for every platform, or {mastodon = 2, bluesky = 3}


class Post(Strict):
    """One entry of the publication calendar."""

    at: datetime  # local time in the project's time zone, or with an offset
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")] | None = None  # else a hash is the key
    source: str | None = None
    platform: str | None = None
    text: str = ""
    link: str | None = None
    media: list[str] = []  # the files' paths; `{ path = "...", alt = "..." }` puts the alt text in media_alt
    media_alt: dict[str, str] = {}  # alt text by file path: part of the post, what screen readers say
    campaign: str = ""
    owner: str = ""
    status: PostStatus = "draft"

    @field_validator("at", mode="before")
    @classmethod
    def _date_only_is_midnight(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(0))
        return value

    @field_validator("media", mode="before")
    @classmethod
    def _one_file_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _alt_text_beside_its_file(cls, data: object) -> object:
        if not isinstance(data, dict) or not isinstance(data.get("media"), list):
            return data
        paths, alts = [], dict(data.get("media_alt") or {})
        for entry in data["media"]:
            if isinstance(entry, dict) and set(entry) <= {"path", "alt"} and isinstance(entry.get("path"), str):
                paths.append(entry["path"])
                if isinstance(entry.get("alt"), str) and entry["alt"].strip():
                    alts[entry["path"]] = entry["alt"].strip()
            else:
                paths.append(entry)  # a plain path, or something the field's own check refuses with its place
        return {**data, "media": paths, **({"media_alt": alts} if alts else {})}

    @field_validator("link", mode="before")
    @classmethod
    def _blank_link_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _names_a_channel(self) -> Post:
        if not self.source and not self.platform:
            raise ValueError("a post needs `source` (a source id) or `platform`")
        return self


class Calendar(Strict):
    """`[calendar]`: where the posts live besides `[[posts]]`, and what the checks expect of them."""

    platforms: list[str] | None = None
    file: str | None = None  # a CSV beside the projects (relative to the workspace), kept in a spreadsheet
    horizon_days: Annotated[int, Field(ge=1, le=365)] = 14
    ideal_horizon_days: Annotated[int, Field(ge=1, le=365)] = 28
    weekdays: list[Weekday] | None = None  # the days the brand publishes; None: every day
    min_per_day: PerPlatform = 1
    max_per_day: PerPlatform = 3
    min_gap_minutes: PerPlatform = 60
    text_limits: dict[str, Annotated[int, Field(gt=0)]] = {}  # e.g. {mastodon = 1000} for an instance's own limit

    @field_validator("platforms")
    @classmethod
    def _lowercase_platforms(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [p.strip().lower() for p in value]

    def per_platform(self, setting: str, platform: str) -> int:
        value = getattr(self, setting)
        if isinstance(value, dict):
            return value.get(platform, _CALENDAR_DEFAULTS[setting])
        return value


_CALENDAR_DEFAULTS = {"min_per_day": 1, "max_per_day": 3, "min_gap_minutes": 60}


class Utm(Strict):
    """`[utm]`: the brand's own web domains, the defaults and the naming rules of its UTM tags."""

    domains: list[str] = []
    medium: str = "social"
    lowercase: bool = True
    no_spaces: bool = True
    campaigns: list[str] = []  # the allowed campaign names; empty: any name that follows the rules

    @field_validator("domains")
    @classmethod
    def _bare_hosts(cls, value: list[str]) -> list[str]:
        hosts = []
        for domain in value:
            host = urlsplit(domain if "//" in domain else f"//{domain}").hostname or ""
            if not host:
                raise ValueError(f"{domain!r} is not a domain name such as 'acme.example'")
            hosts.append(host.lower().removeprefix("www."))
        return hosts


class Report(Strict):
    """`[report]`: the monthly client report's recommendations, and how response times are counted."""

    # A Markdown file relative to the workspace (`{month}` becomes 2026-11), or the recommendations themselves.
    recommendations: str | None = None
    # Count response times in working minutes only; None: yes when [routine] sets workday_start or workday_end.
    business_hours: bool | None = None
    business_days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    # The client's copy names whom an escalation went to (the contact's name in the protocol); the team's always does.
    show_contacts: bool = False
    # Recommendations drafted from the month's figures, after the CM's own (which win on the same topic).
    drafts: bool = True


class Project(Strict):
    """One brand or client: `projects/<slug>.toml`."""

    project: ProjectInfo
    knowledge: Knowledge = Field(default_factory=Knowledge)
    objectives: list[Objective] = []
    listen: Listen = Field(default_factory=Listen)
    routine: Routine = Field(default_factory=Routine)
    calendar: Calendar = Field(default_factory=Calendar)
    utm: Utm = Field(default_factory=Utm)
    sources: list[Source] = []
    posts: list[Post] = []
    report: Report = Field(default_factory=Report)

    @model_validator(mode="after")
    def _references_hold(self) -> Project:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"two sources have the id {source.id!r}; each id must be unique in the project")
            seen.add(source.id)
        for post in self.posts:
            if post.source and post.source not in seen:
                raise ValueError(f"a post names source {post.source!r}, which is not among [[sources]]")
        return self

    @property
    def slug(self) -> str:
        assert self.project.slug is not None, "the loader sets the slug"
        return self.project.slug

    @property
    def name(self) -> str:
        return self.project.name

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def post_platform(self, post: Post) -> str:
        if post.platform:
            return post.platform
        source = self.source(post.source or "")
        return source.platform if source else "?"

    def publishing_platforms(self) -> list[str]:
        """The platforms the calendar must feed: set in [calendar], else those of publishing sources."""
        if self.calendar.platforms is not None:
            return list(self.calendar.platforms)
        return sorted({s.platform for s in self.sources if s.enabled and s.platform in PUBLISHING_PLATFORMS})
