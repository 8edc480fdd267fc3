"""Platforms, each declared once: its adapter, its source model, its text rules, its secret, what it can do.

Every platform has a package of its own here: `settings.py` holds the model of its [[sources]] entry
(cmday.models gathers them into `Source`), `adapter.py` what fetches (and sends, with its `send` module).
A new read-only platform is one package plus one line in PLATFORMS; one that publishes, the same plus
its send module. Both are named as strings: the settings modules are light (pydantic and
cmday.modelbase only) and load with the project's models, the adapters load only when a source of
that platform is used, so commands that never touch the network never pay for httpx or feed parsing.
What an adapter can do is not declared here but read off the adapter itself, through the checkable
protocols below (`can`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from cmday.i18n import _, ngettext

if TYPE_CHECKING:  # the adapters' side, not loaded with the registry: cmday.models reads it to build `Source`
    from cmday.mention import Mention
    from cmday.sources.base import Adapter, ReplyTarget, Sent


_LINK = re.compile(r"https?://[^\s<>\"']+")


class TextRules(NamedTuple):  # NamedTuples, not frozen dataclasses: every command loads the registry, and they cost a tenth
    """How long a post may be and how the platform counts it: characters or graphemes, and links at a fixed length."""

    limit: int | None
    counts: Literal["characters", "graphemes"] = "characters"
    link_length: int | None = None  # Mastodon counts every link as 23 characters, whatever its length
    max_bytes: int | None = None  # Bluesky also takes at most 3000 bytes of UTF-8: 300 emoji of a family are 7500

    def length(self, text: str) -> int:
        if self.counts == "graphemes":
            from cmday.textsafe import count_graphemes

            return count_graphemes(text)
        return len(_LINK.sub("x" * self.link_length, text)) if self.link_length else len(text)

    def overrun(self, text: str, limit: int | None = None) -> tuple[int, int, str] | None:
        """(length, allowed, "characters" | "graphemes" | "bytes") of the first count `text` goes over, or None
        when the platform takes it; `limit`, when given, in place of its own (an instance's, the calendar's)."""
        allowed = limit or self.limit
        if allowed and (length := self.length(text)) > allowed:
            return length, allowed, self.counts
        if self.max_bytes and (size := len(text.encode("utf-8", "surrogatepass"))) > self.max_bytes:
            return size, self.max_bytes, "bytes"
        return None


def text_rules(platform: str) -> TextRules:
    """How `platform` counts a post; a platform cmday only plans for (no source) counts characters."""
    known = PLATFORMS.get(platform)
    return known.text if known is not None else TextRules(None)


def count_words(count: int, unit: str) -> str:
    """'7500 bytes', '301 graphemes': a length in the unit it was counted in, for a message."""
    if unit == "bytes":
        return ngettext("{count} byte", "{count} bytes", count).format(count=count)
    if unit == "graphemes":
        return ngettext("{count} grapheme", "{count} graphemes", count).format(count=count)
    return ngettext("{count} character", "{count} characters", count).format(count=count)


class Platform(NamedTuple):
    adapter: str  # "module:Class", imported on first use
    source_model: str  # "module:Class" of its [[sources]] entry in the project file, a light module: cmday.models loads them all
    text: TextRules
    secret_label: Callable[[], str] | None = None  # what `cmday auth` asks for; None: the source needs no secret
    # How a reply's {author} names the person: their handle, the handle with an @ (Bluesky's are bare), or
    # their name (an email's handle is its address: "Hola Ana Ruiz", not "Hola ana@example.org")
    author_as: Literal["handle", "@handle", "name"] = "handle"


PLATFORMS: dict[str, Platform] = {
    # in the order `use one of` lists them when a [[sources]] entry names a platform cmday does not know
    "mastodon": Platform("cmday.sources.mastodon.adapter:MastodonAdapter", "cmday.sources.mastodon.settings:MastodonSource",
                         TextRules(500, link_length=23), lambda: _("access token")),
    "bluesky": Platform("cmday.sources.bluesky.adapter:BlueskyAdapter", "cmday.sources.bluesky.settings:BlueskySource",
                        TextRules(300, "graphemes", max_bytes=3000), lambda: _("app password"), author_as="@handle"),
    "rss": Platform("cmday.sources.feed.adapter:FeedAdapter", "cmday.sources.feed.settings:FeedSource", TextRules(None)),
    "file": Platform("cmday.sources.fileimport.adapter:FileAdapter", "cmday.sources.fileimport.settings:FileSource", TextRules(None)),
    "email": Platform("cmday.sources.email.adapter:EmailAdapter", "cmday.sources.email.settings:EmailSource", TextRules(None),
                      lambda: _("mail password"), author_as="name"),
    "instagram": Platform("cmday.sources.graph.instagram:InstagramAdapter", "cmday.sources.graph.settings:InstagramSource",
                          TextRules(2200), lambda: _("access token")),
    "facebook": Platform("cmday.sources.graph.facebook:FacebookAdapter", "cmday.sources.graph.settings:FacebookSource",
                         TextRules(63206), lambda: _("access token")),
    "demo": Platform("cmday.sources.demo.adapter:DemoAdapter", "cmday.sources.demo.settings:DemoSource", TextRules(None)),
}


def _imported(name: str) -> Any:
    module_name, _sep, class_name = name.partition(":")
    # __import__ rather than importlib.import_module: only the import statement's way is counted by `python -X importtime`
    return getattr(__import__(module_name, fromlist=[class_name]), class_name)


def adapter_class(platform: str) -> type[Adapter]:
    return _imported(PLATFORMS[platform].adapter)


def source_model(platform: str) -> type:
    return _imported(PLATFORMS[platform].source_model)


def needs_secret(platform: str) -> bool:
    known = PLATFORMS.get(platform)
    return known is not None and known.secret_label is not None


# -- what an adapter can do --------------------------------------------------------------------------
# Checked on the adapter class (`can`), so nothing is built to find out. Each is one ability a command
# needs; cmday.sending explains why every send comes with a way to find it again.


@runtime_checkable
class StatesLimit(Protocol):
    async def text_limit(self) -> int: ...  # characters (Mastodon, the instance's own limit) or graphemes (Bluesky)


@runtime_checkable
class AddressesReplies(Protocol):
    def reply_text(self, target: ReplyTarget, text: str) -> str: ...  # exactly what `reply` posts: what is shown and counted


@runtime_checkable
class Replies(Protocol):
    async def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> Sent: ...

    # The reply an earlier attempt left on the platform, if any; raises when the platform cannot tell.
    async def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str, since: datetime) -> Sent | None: ...


@runtime_checkable
class Publishes(Protocol):
    # `alts`: each file's alt text, in the order of `media` ("" where there is none)
    async def publish(self, text: str, link: str | None, media: list[Path], idempotency_key: str, alts: list[str] | None = None) -> Sent: ...

    async def find_post(self, text: str, link: str | None, idempotency_key: str, since: datetime) -> Sent | None: ...


@runtime_checkable
class Verifies(Protocol):
    async def verify(self) -> str: ...  # a cheap authenticated call; returns the account's handle


@runtime_checkable
class Measures(Protocol):
    async def account_metrics(self) -> dict[str, float]: ...  # followers and the like, for indicator snapshots

    async def post_metrics(self, remote_ids: list[str]) -> dict[str, dict[str, float]]: ...  # reactions to own posts


@runtime_checkable
class Threads(Protocol):
    async def thread(self, platform_id: str) -> list[Mention]: ...  # the posts above one, oldest first, at most 10


@runtime_checkable
class Hides(Protocol):
    async def set_hidden(self, target: ReplyTarget, hidden: bool) -> None: ...  # seen by nobody but its author (Instagram, Facebook)


def can(platform: str, ability: type) -> bool:
    """Whether the platform's adapter does what `ability` (one of the protocols above) describes."""
    return platform in PLATFORMS and issubclass(adapter_class(platform), ability)


def uses_network(platform: str) -> bool:
    return getattr(adapter_class(platform), "uses_network", True)


def parses_in_workers(platform: str) -> bool:
    """Whether the adapter hands heavy parsing to `FetchContext.offload` (a sweep's worker processes)."""
    return getattr(adapter_class(platform), "parses_in_workers", False)


def adapter_module(platform: str) -> str:
    return PLATFORMS[platform].adapter.partition(":")[0]


# -- the one place an adapter is built ---------------------------------------------------------------


def connect(
    source: Any, *, project_slug: str, workspace_root: Path, zone: ZoneInfo, http: Any, now: datetime,
    demo_anchor: str | None = None, shared: dict[str, Any] | None = None, offload: Callable[..., Any] | None = None,
) -> Any:
    """The source's adapter, with its context: the HTTP client, its secret, the project's zone, the clock.

    `shared` is what the adapters of one run keep between sources (a Bluesky login used by two sources);
    `offload`, where a sweep's heavy parsing runs (its cmday.workers pool).
    """
    from cmday.secrets import read_secret
    from cmday.sources.base import FetchContext, in_a_thread

    context = FetchContext(
        http=http,
        secret=lambda env_name: read_secret(project_slug, source.id, env_name),
        workspace_root=workspace_root,
        now=now,
        project_slug=project_slug,
        state={} if shared is None else shared,
        zone=zone,
        demo_anchor=demo_anchor,
        offload=offload or in_a_thread,
    )
    return adapter_class(source.platform)(source, context)


def http_client_for(sources: list[Any], http_options: dict[str, Any] | None = None) -> Any:
    """The HTTP client these sources share, started only when one of them goes to the network (httpx is slow to import)."""
    import contextlib

    if not any(uses_network(source.platform) for source in sources):
        return contextlib.nullcontext(None)
    from cmday.http import HttpClient

    return HttpClient(**(http_options or {}))


async def using(
    source: Any, call: Callable[[Any], Any], *, project_slug: str, workspace_root: Path, zone: ZoneInfo, now: datetime,
    demo_anchor: str | None = None, http_options: dict[str, Any] | None = None,
) -> Any:
    """`call` with the source's adapter, inside an HTTP client of its own (none for a source that needs no network)."""
    async with http_client_for([source], http_options) as http:
        adapter = connect(source, project_slug=project_slug, workspace_root=workspace_root, zone=zone, http=http, now=now,
                          demo_anchor=demo_anchor)
        return await call(adapter)
