"""The workspace and project files as validated models (what `cmday.toml` and `projects/*.toml` may hold)."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, time
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Language = Literal["en", "es"]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
PUBLISHING_PLATFORMS = ("mastodon", "bluesky")


class Strict(BaseModel):
    """Every file model: unknown keys are errors, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Madrid'") from None
    return value


def check_service_url(value: str) -> str:
    """https everywhere; plain http only for this machine (self-hosted tests, local mirrors)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"{value!r} uses plain http; use https (http is only accepted for loopback addresses)")
    return value.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_env_name(value: str | None) -> str | None:
    """The NAME of a variable; the value is never quoted back, since a pasted token would be printed."""
    from cmday.i18n import _
    from cmday.secrets import looks_like_token

    if value is None:
        return value
    if looks_like_token(value):
        raise ValueError(
            _("this looks like a token, not a variable name: put the token in an environment variable "
              "(or run `cmday auth`) and write that variable's name here, such as MASTODON_TOKEN")
        )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(
            _("this must be the name of an environment variable (letters, digits and _, such as MASTODON_TOKEN); "
              "the secret itself never goes in the file")
        )
    return value


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


class SourceBase(Strict):
    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    label: str = ""
    enabled: bool = True


class MastodonSource(SourceBase):
    platform: Literal["mastodon"]
    instance: str
    token_env: str | None = None
    hashtags: list[str] = []
    search: list[str] = []

    _instance = field_validator("instance")(check_service_url)
    _token_env = field_validator("token_env")(check_env_name)


class BlueskySource(SourceBase):
    platform: Literal["bluesky"]
    service: str = "https://bsky.social"
    handle: str
    password_env: str | None = None
    search: list[str] = []

    _service = field_validator("service")(check_service_url)
    _password_env = field_validator("password_env")(check_env_name)


class FeedSource(SourceBase):
    platform: Literal["rss"]
    url: str

    _url = field_validator("url")(check_service_url)


class FileSource(SourceBase):
    platform: Literal["file"]
    path: str
    network: str = ""


def check_mail_host(value: str | None) -> str | None:
    """A bare host name or address: the protocol and port are their own fields."""
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[?[0-9A-Fa-f:.]+\]?", value):
        raise ValueError(f"{value!r} is not a host name such as 'imap.acme.example' (no scheme, port or path)")
    return value.strip("[]")


def check_folder(value: str | None) -> str | None:
    if value is None:
        return None
    if not value or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError(f"{value!r} is not a mail folder name")
    return value


Port = Annotated[int, Field(ge=1, le=65535)]


class EmailSource(SourceBase):
    """The brand's mailbox: read over IMAP (read-only), answered over SMTP. The password comes from `password_env`."""

    platform: Literal["email"]
    host: str
    port: Port = 993
    security: Literal["tls", "starttls"] = "tls"  # starttls: port 143 upgraded before the password is sent
    username: str
    password_env: str | None = None
    folder: str = "INBOX"
    address: str | None = None  # the From of replies; default: the username when it is an address
    smtp_host: str | None = None  # default: host
    smtp_port: Port | None = None  # default: 465 with tls, 587 with starttls
    smtp_security: Literal["tls", "starttls"] = "starttls"
    smtp_username: str | None = None  # default: username; the same password
    sent_folder: str | None = None  # default: the folder the server marks as Sent, else "Sent"
    ca_file: str | None = None  # a PEM file (relative to the workspace) to trust besides the system's authorities

    _hosts = field_validator("host", "smtp_host")(check_mail_host)
    _folders = field_validator("folder", "sent_folder")(check_folder)
    _password_env = field_validator("password_env")(check_env_name)

    @field_validator("address")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s<>\",;]+@[A-Za-z0-9.-]+", value):
            raise ValueError(f"{value!r} is not an email address such as 'info@acme.example'")
        return value

    @property
    def reply_address(self) -> str | None:
        if self.address:
            return self.address
        return self.username if re.fullmatch(r"[^@\s<>\",;]+@[A-Za-z0-9.-]+", self.username) else None


class GraphSource(SourceBase):
    """What the Instagram and Facebook sources share: Meta's Graph API host and version, and the token."""

    token_env: str | None = None
    token_expires: date | None = None  # when the token stops working (Meta's access token debugger says it)
    api_version: Annotated[str, Field(pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$")] = "v21.0"
    base_url: str = "https://graph.facebook.com"

    _base_url = field_validator("base_url")(check_service_url)
    _token_env = field_validator("token_env")(check_env_name)


class InstagramSource(GraphSource):
    """A professional Instagram account: comments on its media, replies to them, and the posts it is tagged in."""

    platform: Literal["instagram"]
    ig_user_id: Annotated[str, Field(pattern=r"^[0-9]{1,40}$")]


class FacebookSource(GraphSource):
    """A Facebook Page: comments on its posts and posts visitors leave on it."""

    platform: Literal["facebook"]
    page_id: Annotated[str, Field(pattern=r"^[0-9]{1,40}$")]
    ratings: bool = True  # recommendations left on the Page (they need pages_read_user_content)


class DemoSource(SourceBase):
    platform: Literal["demo"]


Source = Annotated[
    MastodonSource | BlueskySource | FeedSource | FileSource | EmailSource | InstagramSource | FacebookSource | DemoSource,
    Field(discriminator="platform"),
]
# `Source` names the registry's platforms (cmday.sources.PLATFORMS, not imported here: a check that reads no
# feed never loads the adapters' package); tests/sources/test_registry.py holds the two to the same list.


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
