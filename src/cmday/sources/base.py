"""The one small interface every platform adapter implements, and what it hands back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cmday.errors import SourceError
from cmday.i18n import ngettext
from cmday.mention import Mention
from cmday.sources.uploads import UploadLog


@dataclass
class Batch:
    """Mentions and the cursor that covers them: stored together in one transaction, or not at all."""

    mentions: list[Mention]
    cursor: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # e.g. favourites, boosts, follows seen
    notes: list[str] = field(default_factory=list)  # warnings for the user: rows skipped, feed ill-formed
    more_to_read: bool = False  # the fetch stopped early (page limit): the next one carries on from this cursor


async def in_a_thread(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Pure CPU work off the event loop, so other sources' requests keep moving meanwhile."""
    import asyncio

    return await asyncio.to_thread(function, *args, **kwargs)


@dataclass
class FetchContext:
    """What an adapter may use: the shared HTTP client, secrets by name, the workspace root, the clock, the project's zone.

    Built by `cmday.sources.connect`; tests build their own.
    """

    http: Any  # cmday.http.HttpClient; typed loosely so this module imports nothing heavy
    secret: Callable[[str | None], str | None]
    workspace_root: Path
    now: datetime
    project_slug: str
    state: dict[str, Any] = field(default_factory=dict)  # kept between the sources of one run (a Bluesky login)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))  # the project's: naive times in imports are in it
    demo_anchor: str | None = None  # when the demo's script started (the demo adapter only)
    uploads: UploadLog = field(default_factory=UploadLog)  # media already uploaded by unfinished sends, reused on retry
    # Heavy pure-Python work (parsing a feed): a sweep's worker processes (cmday.workers) where it has them.
    # Only module-level functions of cmday with picklable arguments and result.
    offload: Callable[..., Awaitable[Any]] = in_a_thread


class Adapter(Protocol):
    """Fetches one source. `fetch` yields batches; each batch's cursor covers only what that batch and earlier ones hold.

    `uses_network = False` on adapters that never touch HTTP (demo, file import), so a sweep of
    only those never starts an HTTP client.
    """

    uses_network: bool

    def __init__(self, source: Any, context: FetchContext) -> None: ...

    def fetch(self, cursor: str | None) -> AsyncIterator[Batch]: ...


@dataclass
class Sent:
    """What a platform answered to a reply or a post we sent."""

    remote_id: str
    url: str


@dataclass
class ReplyTarget:
    """What a reply needs to know about the mention it answers: the stored mention and its raw payload."""

    platform_id: str
    author_handle: str
    kind: str
    raw: dict[str, Any] | None


class AnswerLost(SourceError):
    """The request may have reached the platform, but no usable answer came back (timeout, cut, 5xx).

    For a send this means "perhaps posted": only a look at the platform can tell (cmday.sending).
    """


class AuthenticationFailed(SourceError):
    """The platform refused the credentials: the source needs `cmday auth` or a new token."""


def cursor_fields(text: str | None) -> dict[str, Any]:
    """A stored cursor's fields; anything else (none, damaged, not an object) is none: the fetch starts afresh, storing dedupes."""
    import json

    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def first_fetch_note(kept: int) -> str:
    """What a first fetch says when, by design, it did not pour in the account's whole past."""
    return ngettext(
        "first fetch: the newest mention kept; older ones left on the server",
        "first fetch: the {count} newest mentions kept; older ones left on the server",
        kept,
    ).format(count=kept)
