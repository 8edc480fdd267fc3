"""Mastodon's own shapes, read strictly enough to trust and loosely enough to survive forks: one class per API entity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

# --- The platform's own shapes -------------------------------------------------------------------


def _platform_id(value: Any) -> str:
    # Ids are strings, many above 2**53; 2017-era servers sent JSON integers, which json keeps exact.
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ValueError("an id must be a non-empty string")
    return str(value)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _timestamp_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("a timestamp must be ISO 8601 text")
    return value


def _utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("timestamp out of range") from None


PlatformId = Annotated[str, BeforeValidator(_platform_id)]
OptionalText = Annotated[str | None, BeforeValidator(_text_or_none)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_text), AfterValidator(_utc)]


class Entity(BaseModel):
    # Validators are built on first use, not on import: a check with nothing new reads no entity at all (and
    # building one loads pydantic's plugin machinery, importlib.metadata with it).
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Account(Entity):
    """https://docs.joinmastodon.org/entities/Account/"""

    id: PlatformId | None = None
    acct: Annotated[str, Field(min_length=1)]
    username: OptionalText = None
    display_name: OptionalText = None
    url: OptionalText = None


class Status(Entity):
    """https://docs.joinmastodon.org/entities/Status/"""

    id: PlatformId
    uri: str
    url: OptionalText = None
    created_at: Timestamp
    account: Account
    content: str
    visibility: str
    spoiler_text: OptionalText = None
    in_reply_to_id: PlatformId | None = None
    language: OptionalText = None


class Notification(Entity):
    """https://docs.joinmastodon.org/entities/Notification/"""

    id: PlatformId
    type: str
    created_at: Timestamp
    status: dict[str, Any] | None = None  # validated as a Status only where it is used


class Search(Entity):
    """https://docs.joinmastodon.org/entities/Search/"""

    statuses: list[Any]


class Context(Entity):
    """https://docs.joinmastodon.org/entities/Context/: a status's parents, oldest first; its items are checked one by one."""

    ancestors: list[Any]
    descendants: list[Any] = []


class PostedStatus(Entity):
    """https://docs.joinmastodon.org/entities/Status/: what POST /api/v1/statuses answers, as far as a sender needs it."""

    id: PlatformId
    uri: str
    url: OptionalText = None


class StatusCounts(Entity):
    """https://docs.joinmastodon.org/entities/Status/: what a status got, as far as indicators need it."""

    id: PlatformId
    favourites_count: Annotated[int, Field(ge=0)]
    reblogs_count: Annotated[int, Field(ge=0)]
    replies_count: Annotated[int, Field(ge=0)]


class CredentialAccount(Entity):
    """https://docs.joinmastodon.org/entities/Account/#CredentialAccount: the token's own account and its counts."""

    id: PlatformId | None = None
    acct: Annotated[str, Field(min_length=1)]
    followers_count: int = 0
    following_count: int = 0
    statuses_count: int = 0

