"""What the settings files may hold, as pydantic models: `cmday.toml`, `projects/*.toml`, `protocols/*.toml`, `checklists/*.toml`.

Only validating a file loads this module: commands read each file's record (cmday.settings), not its model.
"""

from __future__ import annotations

import functools
import operator
from datetime import date, datetime, time
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from cmday.modelbase import Strict, check_env_name, check_timezone
from cmday.settings import AUTOMATIC_CHECKS, SLUG_PATTERN, WEEKDAYS, CalendarBehaviour, Language, ProjectBehaviour
from cmday.sources import PLATFORMS, source_model


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


class Calendar(CalendarBehaviour, Strict):
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


class Project(ProjectBehaviour, Strict):
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


# `protocols/*.toml`: what cmday.protocol merges into the response protocol


class CategoryRule(Strict):
    priority: Annotated[int, Field(ge=1, le=9)] = 5
    sla_minutes: Annotated[int, Field(gt=0)] = 480
    urgent: bool = False
    words: list[str] = []
    patterns: list[str] = []

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        import regex

        for pattern in patterns:
            try:
                regex.compile(pattern, regex.V0)  # the engine triage runs them with
            except regex.error as error:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {error}") from None
        return patterns


class CrisisRule(Strict):
    window_minutes: Annotated[int, Field(gt=0)] = 120
    complaints: Annotated[int, Field(gt=0)] = 5


class Template(Strict):
    """A named reply: placeholders {author}, {brand}, {link}, {agent} and any key of [values]."""

    category: str
    text: str
    language: Language | None = None
    description: str = ""


ConductCheck = Literal["require_words", "forbid_words", "shouting", "taboo", "length", "utm", "saturation", "alt_text"]


class ConductRule(Strict):
    """A check a draft can fail, with the message that says why (the practice texts' rules of conduct)."""

    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    check: ConductCheck
    message: str
    when: list[str] = []  # categories of the mention being answered; empty: always
    applies_to: Literal["reply", "post", "any"] = "any"
    words: list[str] = []
    max_per_day: Annotated[int, Field(ge=1)] = 3
    severity: Literal["error", "warning"] = "warning"
    language: Language | None = None


class Contact(Strict):
    name: str = ""
    email: str | None = None
    webhook_env: str | None = None  # the NAME of the variable holding a Slack/Mattermost incoming-webhook URL

    _webhook_env = field_validator("webhook_env")(check_env_name)


class EscalationRules(Strict):
    contacts: dict[str, Contact] = {}
    routes: dict[str, list[str]] = {}  # category -> contacts to tell, in order


class ProtocolFile(Strict):
    crisis: CrisisRule = Field(default_factory=CrisisRule)
    categories: dict[str, CategoryRule] = {}
    templates: dict[str, Template] = {}
    conduct: list[ConductRule] = []
    escalation: EscalationRules = Field(default_factory=EscalationRules)
    values: dict[str, str] = {}


# `checklists/*.toml`: what cmday.checklists reads for each routine


class ChecklistItem(Strict):
    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    text: str
    auto: Literal[AUTOMATIC_CHECKS] | None = None  # type: ignore[valid-type]
    weekdays: list[Literal[WEEKDAYS]] | None = None  # type: ignore[valid-type]


class ChecklistFile(Strict):
    items: list[ChecklistItem] = []
    drop: list[str] = []
