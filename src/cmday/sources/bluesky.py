"""The Bluesky adapter: an AT Protocol session, the account's notifications and its keyword searches, as mentions."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WrapValidator
from pydantic.alias_generators import to_camel

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.mention import Mention
from cmday.models import BlueskySource
from cmday.sources.base import AuthenticationFailed, Batch, FetchContext

CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
LIST_NOTIFICATIONS = "app.bsky.notification.listNotifications"
SEARCH_POSTS = "app.bsky.feed.searchPosts"

PAGE_SIZE = 50
MAX_PAGES = 10
# A keyword read for the first time would otherwise pour months of strangers' posts into the inbox.
FIRST_SEARCH_PAGES = 1
KINDS = {"mention": "mention", "reply": "reply", "quote": "quote"}
COUNTED = {"like": "likes", "like-via-repost": "likes", "repost": "reposts", "repost-via-repost": "reposts",
           "follow": "follows"}
EXPIRED = ("ExpiredToken", "InvalidToken")
LINK = "app.bsky.richtext.facet#link"
POST_URI = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([^/?#]+)$")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


# -- the platform's own shapes ------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An AT Protocol datetime in any shape servers send (Z or offset, 0-7 fraction digits, none), in UTC."""
    if not isinstance(value, str):
        return None
    text = _FRACTION.sub(r"\1", value.strip())
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _timestamp(value: Any) -> datetime:
    moment = parse_time(value)
    if moment is None:
        raise ValueError("not an AT Protocol datetime")
    return moment


def _or_none(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


Timestamp = Annotated[datetime, PlainValidator(_timestamp)]
# Cosmetic fields: a malformed one is dropped, never the mention that carries it.
Lenient = WrapValidator(_or_none)


class Lexicon(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Session(Lexicon):
    """com.atproto.server.createSession#output (refreshSession answers the same shape)."""

    access_jwt: str
    refresh_jwt: str
    did: str
    handle: str = ""


class Author(Lexicon):
    """app.bsky.actor.defs#profileView and #profileViewBasic: the fields both carry."""

    did: str
    handle: str
    display_name: Annotated[str | None, Lenient] = None


class ByteSlice(Lexicon):
    """app.bsky.richtext.facet#byteSlice: UTF-8 byte offsets into the text, end exclusive."""

    byte_start: int = Field(ge=0)
    byte_end: int = Field(ge=0)


class FacetFeature(Lexicon):
    """app.bsky.richtext.facet#link, #mention or #tag, told apart by `$type`."""

    type: str = Field("", alias="$type")
    uri: Annotated[str | None, Lenient] = None


class Facet(Lexicon):
    """app.bsky.richtext.facet."""

    index: ByteSlice
    features: list[Annotated[FacetFeature | None, Lenient]] = []


class StrongRef(Lexicon):
    """com.atproto.repo.strongRef."""

    uri: str


class ReplyRef(Lexicon):
    """app.bsky.feed.post#replyRef."""

    parent: StrongRef


class PostRecord(Lexicon):
    """app.bsky.feed.post: the record inside a notification or a post view."""

    text: str = ""
    created_at: Annotated[Timestamp | None, Lenient] = None
    facets: Annotated[list[Annotated[Facet | None, Lenient]] | None, Lenient] = None
    langs: Annotated[list[str] | None, Lenient] = None
    reply: Annotated[ReplyRef | None, Lenient] = None


class Notification(Lexicon):
    """app.bsky.notification.listNotifications#notification."""

    uri: str
    author: Author
    reason: str
    record: Any = None
    indexed_at: Timestamp


class PostView(Lexicon):
    """app.bsky.feed.defs#postView."""

    uri: str
    author: Author
    record: PostRecord
    indexed_at: Timestamp


class NotificationPage(Lexicon):
    """app.bsky.notification.listNotifications#output; its items are checked one by one."""

    notifications: list[Any]
    cursor: Annotated[str | None, Lenient] = None


class SearchPage(Lexicon):
    """app.bsky.feed.searchPosts#output; its items are checked one by one."""

    posts: list[Any]
    cursor: Annotated[str | None, Lenient] = None


# -- reading pages into mentions --------------------------------------------------------------


def text_with_links(text: str, facets: list[Facet | None] | None) -> str:
    """The post's text with shortened link labels expanded; facets count UTF-8 bytes, not characters."""
    data = text.encode("utf-8", "surrogatepass")
    spans: list[tuple[int, int, str]] = []
    for facet in facets or []:
        uri = next((f.uri for f in (facet.features if facet else []) if f and f.type == LINK and f.uri), None)
        if facet is None or not uri:
            continue
        start, end = facet.index.byte_start, facet.index.byte_end
        if not 0 <= start < end <= len(data):
            continue
        try:
            shown = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue  # offsets that cut a character in two point at nothing we can show
        spans.append((start, end, _expanded(shown, _plain(uri))))
    parts: list[str] = []
    position = 0
    for start, end, replacement in sorted(spans):
        if start < position:
            continue  # overlapping facets: the first one wins
        parts += [data[position:start].decode("utf-8", "replace"), replacement]
        position = end
    parts.append(data[position:].decode("utf-8", "replace"))
    return "".join(parts)


def _expanded(shown: str, uri: str) -> str:
    bare_shown, bare_uri = _SCHEME.sub("", shown.strip()), _SCHEME.sub("", uri.strip())
    if bare_shown.rstrip("/") == bare_uri.rstrip("/"):
        return shown
    stem = bare_shown.removesuffix("...").removesuffix("…")
    if stem and bare_uri.startswith(stem):
        return uri
    return f"{shown} ({uri})"  # a label that hides where the link goes: a CM must see both


def _plain(text: str) -> str:
    """Text that can be stored: a lone surrogate from a JSON escape becomes '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass
class Page:
    """One page of a listing, read: what it brings to the inbox, and how far back it reaches."""

    mentions: list[Mention] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    newest: datetime | None = None
    reached_mark: bool = False
    cursor: str | None = None
    size: int = 0

    def is_new(self, moment: datetime, since: datetime | None) -> bool:
        if self.newest is None or moment > self.newest:
            self.newest = moment
        if since is not None and moment <= since:
            self.reached_mark = True
            return False
        return True

    def count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1


def _listing(model: type[NotificationPage] | type[SearchPage], payload: Any, nsid: str) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError:
        raise SourceError(_("{nsid} answered something that is not a page of results").format(nsid=nsid)) from None


def read_notifications(payload: Any, since: datetime | None) -> Page:
    """Mentions, replies and quotes newer than `since`; likes, reposts and follows only counted."""
    listing = _listing(NotificationPage, payload, LIST_NOTIFICATIONS)
    page = Page(cursor=listing.cursor, size=len(listing.notifications))
    for item in listing.notifications:
        try:
            notification = Notification.model_validate(item)
            record = PostRecord.model_validate(notification.record) if notification.reason in KINDS else None
        except ValidationError:
            page.count("skipped")
            continue
        if not page.is_new(notification.indexed_at, since):
            continue
        if record is not None:
            page.mentions.append(_mention(KINDS[notification.reason], notification, record, item))
        elif notification.reason in COUNTED:
            page.count(COUNTED[notification.reason])
    return page


def read_search(payload: Any, since: datetime | None, own: set[str]) -> Page:
    """Posts newer than `since` that match a search, except the account's own (`own`: its DID and handles)."""
    listing = _listing(SearchPage, payload, SEARCH_POSTS)
    page = Page(cursor=listing.cursor, size=len(listing.posts))
    for item in listing.posts:
        try:
            post = PostView.model_validate(item)
        except ValidationError:
            page.count("skipped")
            continue
        if page.is_new(post.indexed_at, since) and not {post.author.did, post.author.handle.lower()} & own:
            page.mentions.append(_mention("search", post, post.record, item))
    return page


def _mention(kind: str, view: Notification | PostView, record: PostRecord, raw: Any) -> Mention:
    author = view.author
    # `handle.invalid` is what the AppView shows when a handle no longer resolves; the DID still links.
    profile = quote(author.handle if author.handle and author.handle != "handle.invalid" else author.did, safe=":.")
    post = POST_URI.match(view.uri)
    return Mention(
        platform="bluesky",
        platform_id=_plain(view.uri),
        kind=kind,
        text=text_with_links(record.text, record.facets),
        created_at=record.created_at or view.indexed_at,
        author_handle=_plain(author.handle),
        author_name=_plain(author.display_name or ""),
        author_url=f"https://bsky.app/profile/{profile}",
        url=f"https://bsky.app/profile/{profile}/post/{quote(post.group(2), safe='')}" if post else "",
        language=next(iter(record.langs or []), None),
        in_reply_to=_plain(record.reply.parent.uri) if record.reply else None,
        raw=raw if isinstance(raw, dict) else None,
    )


# -- the cursor -------------------------------------------------------------------------------


def read_cursor(cursor: str | None) -> dict[str, Any]:
    """The saved marks: `notifications_seen` and, per search, the newest `indexedAt` already handed over."""
    try:
        marks = json.loads(cursor) if cursor else {}
    except ValueError:
        marks = {}
    if not isinstance(marks, dict):
        marks = {}
    if not isinstance(marks.get("search"), dict):
        marks["search"] = {}
    return marks


def _mark_text(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


# -- the adapter ------------------------------------------------------------------------------


class BlueskyAdapter:
    """Reads one Bluesky account: notifications first, then each search, newest pages first, down to the marks."""

    def __init__(self, source: BlueskySource, context: FetchContext) -> None:
        self.source = source
        self.context = context
        self.base = f"{source.service.rstrip('/')}/xrpc/"
        self._session_key = f"bluesky-session:{context.project_slug}:{source.id}"
        self._logged_in_again = False
        self._marks: dict[str, Any] = {}

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        self._marks = read_cursor(cursor)
        session = await self._session()  # a refused login is reported before anything is read
        async for batch in self._sweep(LIST_NOTIFICATIONS, {}, read_notifications, self._marks, "notifications_seen"):
            yield batch
        own = {session.did, session.handle.lower(), self.source.handle.lower()}
        searches = self._marks["search"]
        for query in dict.fromkeys(q.strip() for q in self.source.search if q.strip()):
            async for batch in self._sweep(
                SEARCH_POSTS,
                {"q": query, "sort": "latest"},
                lambda payload, since: read_search(payload, since, own),
                searches,
                query,
                max_pages=MAX_PAGES if query in searches else FIRST_SEARCH_PAGES,
            ):
                yield batch

    async def _sweep(
        self,
        nsid: str,
        params: dict[str, Any],
        read: Callable[[Any, datetime | None], Page],
        marks: dict[str, Any],
        key: str,
        max_pages: int = MAX_PAGES,
    ) -> AsyncIterator[Batch]:
        """Pages from the newest back to the mark `marks[key]`; only the last batch moves the mark."""
        since = parse_time(marks.get(key))
        newest, page_cursor = since, None
        for number in range(max_pages):
            query = {**params, "limit": PAGE_SIZE} | ({"cursor": page_cursor} if page_cursor else {})
            page = read(await self._call(nsid, query), since)
            if page.newest is not None and (newest is None or page.newest > newest):
                newest = page.newest
            last = page.reached_mark or not page.size or page.cursor in (None, "", page_cursor)
            last = last or number == max_pages - 1
            if last and newest is not None:
                marks[key] = _mark_text(newest)
            cursor = json.dumps(self._marks, ensure_ascii=False, sort_keys=True) if last else None
            yield Batch(page.mentions, cursor, page.counts)
            if last:
                return
            page_cursor = page.cursor

    # -- XRPC and the session --

    async def _call(self, nsid: str, params: dict[str, Any]) -> Any:
        response = await self._get(nsid, params)
        if _needs_new_session(response):
            await self._renew()
            response = await self._get(nsid, params)
            if _needs_new_session(response):
                raise self._log_in_again()
        if response.status != 200:
            raise SourceError(_("Bluesky refused {nsid}: {detail}").format(nsid=nsid, detail=_xrpc_message(response)))
        return response.json()

    async def _get(self, nsid: str, params: dict[str, Any]) -> Any:
        session = await self._session()
        return await self.context.http.request(
            "GET",
            self.base + nsid,
            params=params,
            headers={"Authorization": f"Bearer {session.access_jwt}"},
            expect=(200, 400, 401),
        )

    async def _session(self) -> Session:
        session = self.context.state.get(self._session_key)
        return session if isinstance(session, Session) else await self._create_session()

    async def _create_session(self) -> Session:
        password = self.context.secret(self.source.password_env)
        if not password:
            raise AuthenticationFailed(
                _("no app password for Bluesky account {handle}: {how}").format(
                    handle=self.source.handle, how=self._how()
                )
            )
        response = await self.context.http.request(
            "POST",
            self.base + CREATE_SESSION,
            json_body={"identifier": self.source.handle, "password": password},
            expect=(200, 400, 401),
        )
        if response.status != 200:
            raise AuthenticationFailed(
                _("Bluesky refused the login for {handle} ({detail}): {how}").format(
                    handle=self.source.handle, detail=_xrpc_message(response), how=self._how()
                )
            )
        return self._keep(response, CREATE_SESSION)

    async def _renew(self) -> None:
        """A new access token: refresh the session, else log in once more, else the user must log in again."""
        session = await self._session()
        try:
            response = await self.context.http.request(
                "POST", self.base + REFRESH_SESSION, headers={"Authorization": f"Bearer {session.refresh_jwt}"}
            )
            self._keep(response, REFRESH_SESSION)
            return
        except SourceError:
            pass  # refresh tokens expire and get revoked too; a fresh login may still work
        if self._logged_in_again:
            raise self._log_in_again()
        self._logged_in_again = True
        self.context.state.pop(self._session_key, None)
        try:
            await self._create_session()
        except AuthenticationFailed:
            raise self._log_in_again() from None

    def _keep(self, response: Any, nsid: str) -> Session:
        try:
            session = Session.model_validate(response.json())
        except ValidationError:
            raise SourceError(_("{nsid} answered without a usable session").format(nsid=nsid)) from None
        self.context.state[self._session_key] = session
        return session

    def _log_in_again(self) -> AuthenticationFailed:
        return AuthenticationFailed(
            _("the Bluesky session for {handle} expired and could not be renewed; log in again: {how}").format(
                handle=self.source.handle, how=self._how()
            )
        )

    def _how(self) -> str:
        if self.source.password_env:
            return _("set an app password in {env} or run `cmday auth {source}`").format(
                env=self.source.password_env, source=self.source.id
            )
        return _("run `cmday auth {source}` with an app password").format(source=self.source.id)


def _needs_new_session(response: Any) -> bool:
    return response.status == 401 or (response.status == 400 and _xrpc_error(response)[0] in EXPIRED)


def _xrpc_error(response: Any) -> tuple[str, str]:
    """XRPC's `{"error": name, "message": text}` body, when the answer carries one."""
    try:
        body = json.loads(response.body[:4096])
    except (ValueError, UnicodeDecodeError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    name, message = body.get("error"), body.get("message")
    return (name if isinstance(name, str) else ""), (message if isinstance(message, str) else "")


def _xrpc_message(response: Any) -> str:
    name, message = _xrpc_error(response)
    return (message or name or f"HTTP {response.status}")[:200]
