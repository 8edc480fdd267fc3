"""The one small interface every platform adapter implements, and what it hands back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from cmday.errors import SourceError
from cmday.mention import Mention


@dataclass
class Batch:
    """Mentions and the cursor that covers them: stored together in one transaction, or not at all."""

    mentions: list[Mention]
    cursor: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # e.g. favourites, boosts, follows seen
    notes: list[str] = field(default_factory=list)  # warnings for the user: rows skipped, feed ill-formed


@dataclass
class FetchContext:
    """What an adapter may use: the shared HTTP client, secrets by name, the workspace root, the clock."""

    http: Any  # cmday.http.HttpClient; typed loosely so this module imports nothing heavy
    secret: Callable[[str | None], str | None]
    workspace_root: Path
    now: datetime
    project_slug: str
    state: dict[str, Any] = field(default_factory=dict)


class Adapter(Protocol):
    """Fetches one source. `fetch` yields batches; each batch's cursor covers only what that batch and earlier ones hold.

    `uses_network = False` on adapters that never touch HTTP (demo, file import), so a sweep of
    only those never starts an HTTP client.
    """

    uses_network: bool

    def __init__(self, source: Any, context: FetchContext) -> None: ...

    def fetch(self, cursor: str | None) -> AsyncIterator[Batch]: ...


class AuthenticationFailed(SourceError):
    """The platform refused the credentials: the source needs `cmday auth` or a new token."""
