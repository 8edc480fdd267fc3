"""The Bluesky adapter: an AT Protocol session, the account's notifications and keyword searches as mentions, and posting."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WrapValidator
from pydantic.alias_generators import to_camel

from cmday.errors import SourceError
from cmday.i18n import _, ngettext
from cmday.mention import Mention
from cmday.models import BlueskySource
from cmday.secrets import remember
from cmday.sources.base import AuthenticationFailed, Batch, FetchContext, ReplyTarget, Sent, first_fetch_note

CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
LIST_NOTIFICATIONS = "app.bsky.notification.listNotifications"
SEARCH_POSTS = "app.bsky.feed.searchPosts"
CREATE_RECORD = "com.atproto.repo.createRecord"
GET_RECORD = "com.atproto.repo.getRecord"
GET_POSTS = "app.bsky.feed.getPosts"
GET_POST_THREAD = "app.bsky.feed.getPostThread"
THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
THREAD_DEPTH = 10  # parents shown above a mention: the nearest ones, enough to follow a conversation
GET_PROFILE = "app.bsky.actor.getProfile"
RESOLVE_HANDLE = "com.atproto.identity.resolveHandle"
POST = "app.bsky.feed.post"
EXTERNAL = "app.bsky.embed.external"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"
TEXT_LIMIT = 300  # graphemes (app.bsky.feed.post: maxGraphemes)
MAX_RESOLVED_HANDLES = 10  # other accounts a post may mention by handle, each one call to resolve
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable

PAGE_SIZE = 50
POSTS_PER_CALL = 25  # app.bsky.feed.getPosts: uris maxLength 25
MAX_PAGES = 10
# A keyword read for the first time would otherwise pour months of strangers' posts into the inbox.
FIRST_SEARCH_PAGES = 1
KINDS = {"mention": "mention", "reply": "reply", "quote": "quote"}
# Counted under the names Mastodon's counts have, so that every view shows both alike.
COUNTED = {"like": "favourites", "like-via-repost": "favourites", "repost": "boosts", "repost-via-repost": "boosts",
           "follow": "follows"}
EXPIRED = ("ExpiredToken", "InvalidToken")
FIRST_RUN_ACTIVITY = timedelta(hours=24)
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)  # likes and follows a first run counts: the last day's, as on Mastodon
LINK = "app.bsky.richtext.facet#link"
POST_URI = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([^/?#]+)$")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# What the official app recognises in a post's text: @handles (a domain name), http(s) links, #tags.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HANDLE_IN_TEXT = re.compile(rf"(?<![\w@/.])@({_LABEL}(?:\.{_LABEL})+)", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"(?<![\w/])https?://[^\s<>\"]+", re.IGNORECASE)
_TAG_IN_TEXT = re.compile(r"(?:^|(?<=\s))[#\uff03]([^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]+)")
_TRAILING = ".,;:!?\"'»”’"


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

    def model_post_init(self, _context: Any) -> None:
        # Tokens the server issued are secrets like the password: never in a message or a stored error.
        remember(self.access_jwt)
        remember(self.refresh_jwt)


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


class PostsPage(Lexicon):
    """app.bsky.feed.getPosts#output; its items are checked one by one."""

    posts: list[Any]


class PostCounts(Lexicon):
    """app.bsky.feed.defs#postView: what a post got, as far as indicators need it (a count left out is 0)."""

    uri: str
    like_count: Annotated[int, Field(ge=0)] = 0
    repost_count: Annotated[int, Field(ge=0)] = 0
    reply_count: Annotated[int, Field(ge=0)] = 0
    quote_count: Annotated[int, Field(ge=0)] = 0


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


def _listing(model: type[NotificationPage | SearchPage | PostsPage], payload: Any, nsid: str) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError:
        raise SourceError(_("{nsid} answered something that is not a page of results").format(nsid=nsid)) from None


class _Sweep:
    """What one fetch learnt about the server while reading notifications."""

    def __init__(self, own: set[str]) -> None:
        self.own = own
        self.unfiltered = False  # the server sent likes, reposts or follows where only mentions were asked for

    def read_mentions(self, payload: Any, since: datetime | None) -> Page:
        page = read_notifications(payload, since, self.own)
        items = payload.get("notifications") if isinstance(payload, dict) else None
        self.unfiltered = self.unfiltered or any(
            isinstance(item, dict) and item.get("reason") in COUNTED for item in items or []
        )
        return page


def read_activity(payload: Any, since: datetime | None, counted_from: datetime | None) -> Page:
    """Likes, reposts and follows newer than `since` (and, on a first run, than `counted_from`), counted."""
    listing = _listing(NotificationPage, payload, LIST_NOTIFICATIONS)
    page = Page(cursor=listing.cursor, size=len(listing.notifications))
    for item in listing.notifications:
        try:
            notification = Notification.model_validate(item)
        except ValidationError:
            continue
        if page.is_new(notification.indexed_at, since) and notification.reason in COUNTED:
            if counted_from is None or notification.indexed_at >= counted_from:
                page.count(COUNTED[notification.reason])
    return page


def read_notifications(payload: Any, since: datetime | None, own: set[str] | frozenset[str] = frozenset()) -> Page:
    """Mentions, replies and quotes newer than `since`; likes, reposts and follows only counted.

    The account's own posts (`own`: its DID and handles) are left out: the brand is not its own mention.
    """
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
        if {notification.author.did, notification.author.handle.lower()} & own:
            continue
        if record is not None:
            page.mentions.append(_mention(KINDS[notification.reason], notification, record, item))
        elif notification.reason in COUNTED:
            page.count(COUNTED[notification.reason])
    return page


def read_post_counts(payload: Any) -> dict[str, dict[str, float]]:
    """Likes, reposts, replies and quotes of each post a getPosts answer holds, by post URI.

    Named as the indicators name every platform's reactions (favourites, boosts, replies), quotes apart.
    A post the answer leaves out (deleted, blocked) or carries unreadable is just not there.
    """
    listing = _listing(PostsPage, payload, GET_POSTS)
    counts: dict[str, dict[str, float]] = {}
    for item in listing.posts:
        try:
            post = PostCounts.model_validate(item)
        except ValidationError:
            continue
        counts[post.uri] = {
            "favourites": float(post.like_count),
            "boosts": float(post.repost_count),
            "replies": float(post.reply_count),
            "quotes": float(post.quote_count),
        }
    return counts


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


def read_thread_parents(payload: Any) -> list[Mention]:
    """The posts above the one a getPostThread answer is about, oldest first.

    The `parent` chain holds threadViewPosts up to the root; a notFoundPost (deleted) or blockedPost ends
    it, and so does a parent cmday cannot read: what lies above it would hang in the air.
    """
    thread = payload.get("thread") if isinstance(payload, dict) else None
    if not isinstance(thread, dict):
        raise SourceError(_("{nsid} answered without a thread cmday can read").format(nsid=GET_POST_THREAD))
    parents: list[Mention] = []
    node = thread.get("parent") if _is_thread_view(thread) else None
    while _is_thread_view(node) and len(parents) < THREAD_DEPTH:
        try:
            post = PostView.model_validate(node["post"])
        except ValidationError:
            break
        parents.append(_mention("reply" if post.record.reply else "mention", post, post.record, node["post"]))
        node = node.get("parent")
    return parents[::-1]


def _is_thread_view(node: Any) -> bool:
    # `$type` tells the union's members apart; a view without it but with a post is read as one too.
    return isinstance(node, dict) and node.get("$type", THREAD_VIEW) == THREAD_VIEW and isinstance(node.get("post"), dict)


# -- writing posts ----------------------------------------------------------------------------


class FullRef(Lexicon):
    """com.atproto.repo.strongRef with both parts, as a reply must carry them."""

    uri: Annotated[str, Field(min_length=1)]
    cid: Annotated[str, Field(min_length=1)]


class FullReplyRef(Lexicon):
    """app.bsky.feed.post#replyRef, read only for its root."""

    root: FullRef


class ParentRecord(Lexicon):
    """The parts of the answered post's record a reply needs: its own thread root and its languages."""

    reply: Annotated[FullReplyRef | None, Lenient] = None
    langs: Annotated[list[str] | None, Lenient] = None


class ParentPost(Lexicon):
    """A notification or a post view (app.bsky.feed.defs#postView): both carry uri, cid, author and record."""

    uri: Annotated[str, Field(min_length=1)]
    cid: Annotated[str, Field(min_length=1)]
    author: Author
    record: ParentRecord


class CreatedRecord(Lexicon):
    """com.atproto.repo.createRecord#output."""

    uri: str
    cid: str = ""


class StoredRecord(Lexicon):
    """com.atproto.repo.getRecord#output: the record a key holds."""

    uri: str
    value: dict[str, Any]


class Profile(Lexicon):
    """app.bsky.actor.defs#profileViewDetailed: the account and its counts."""

    did: str
    handle: str
    followers_count: int = 0
    follows_count: int = 0
    posts_count: int = 0


def record_key(idempotency_key: str) -> str:
    """A record key in TID syntax derived from the idempotency key: the same key always names the same record.

    TID: 64 bits, the top one 0, as 13 base32-sortable characters. Its timestamp part here is a hash,
    not a time: nothing reads a post's time from its key (`createdAt` says it).
    """
    number = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big") >> 1
    characters = []
    for _position in range(13):
        characters.append(TID_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(characters))


def with_link(text: str, link: str | None) -> str:
    """The text and the link a paragraph apart, as the calendar counts its length; nothing added when it is there."""
    if not link or link in text:
        return text
    return f"{text}\n\n{link}" if text else link


def handles_in(text: str) -> list[str]:
    """The @handles the text mentions, lowercased, in order, once each."""
    return list(dict.fromkeys(m.group(1).lower() for m in _HANDLE_IN_TEXT.finditer(text)))


def facets_for(text: str, dids: dict[str, str]) -> list[dict[str, Any]]:
    """Mention facets for the @handles whose DID is known (`dids`, by lowercased handle), link and tag facets.

    Offsets are UTF-8 bytes, end exclusive, as app.bsky.richtext.facet#byteSlice says: an emoji before a
    link moves it four bytes, an accent two.
    """

    def facet(start: int, end: int, feature: dict[str, str]) -> dict[str, Any]:
        index = {"byteStart": len(text[:start].encode("utf-8")), "byteEnd": len(text[:end].encode("utf-8"))}
        return {"index": index, "features": [feature]}

    facets: list[tuple[int, dict[str, Any]]] = []
    taken: list[tuple[int, int]] = []
    for match in _URL_IN_TEXT.finditer(text):
        end = match.start() + len(_trimmed_url(match.group(0)))
        uri = text[match.start() : end]
        if urlsplit(uri).hostname:
            taken.append((match.start(), end))
            facets.append((match.start(), facet(match.start(), end, {"$type": LINK, "uri": uri})))
    for match in _HANDLE_IN_TEXT.finditer(text):
        did = dids.get(match.group(1).lower())
        if did and not _overlaps(match.start(), match.end(), taken):
            taken.append((match.start(), match.end()))
            facets.append((match.start(), facet(match.start(), match.end(), {"$type": MENTION, "did": did})))
    for match in _TAG_IN_TEXT.finditer(text):
        tag = match.group(1).rstrip(_TRAILING + ")]}")
        end = match.start(1) + len(tag)
        if _is_tag(tag) and not _overlaps(match.start(), end, taken):
            facets.append((match.start(), facet(match.start(), end, {"$type": TAG, "tag": tag})))
    return [facet for _start, facet in sorted(facets, key=lambda pair: pair[0])]


def _trimmed_url(url: str) -> str:
    """A URL without the sentence punctuation after it; a closing bracket stays when the URL opened it."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in ")]}" and url.count({")": "(", "]": "[", "}": "{"}[last]) < url.count(last):
            url = url[:-1]
        else:
            break
    return url


def _is_tag(tag: str) -> bool:
    # As the official app: at most 64 characters, and not only digits and punctuation (#1 is not a tag).
    return 0 < len(tag) <= 64 and any(not (c.isdigit() or unicodedata.category(c).startswith("P")) for c in tag)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < taken_end and taken_start < end for taken_start, taken_end in spans)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        # Mentions and the likes/reposts/follows are read apart (listNotifications `reasons`), so that a
        # burst of likes never takes the pages mentions need. A server that ignores `reasons` sends both
        # in the first listing: they are counted there and the second listing is not read.
        own = {session.did, session.handle.lower(), self.source.handle.lower()} - {""}
        sweep = _Sweep(own)
        async for batch in self._sweep(
            LIST_NOTIFICATIONS, {"reasons": list(KINDS)}, sweep.read_mentions, self._marks, "notifications_seen"
        ):
            yield batch
        if not sweep.unfiltered:
            activity = {"reasons": list(COUNTED)}
            first = "activity_seen" not in self._marks
            counted_from = self.context.now - FIRST_RUN_ACTIVITY if first else None
            async for batch in self._sweep(
                LIST_NOTIFICATIONS, activity, lambda payload, since: read_activity(payload, since, counted_from),
                self._marks, "activity_seen", max_pages=1 if first else MAX_PAGES, first_run_note=False,
            ):
                yield batch
        searches = self._marks["search"]
        for query in dict.fromkeys(q.strip() for q in self.source.search if q.strip()):
            async for batch in self._sweep(
                SEARCH_POSTS,
                {"q": query, "sort": "latest"},
                lambda payload, since: read_search(payload, since, own),
                searches,
                query,
                max_pages=MAX_PAGES if query in searches else FIRST_SEARCH_PAGES,
                first_run_note=False,  # a keyword starts listening now, by design, not with its past
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
        first_run_note: bool = True,
    ) -> AsyncIterator[Batch]:
        """Pages from the newest back to the mark `marks[key]`: the mark moves only over what was stored.

        Everything at or before the mark is stored. A run that stops before reaching it (page limit, time
        limit, an error) leaves `marks[key + "/backlog"]`: the listing's cursor to carry on from and the
        newest instant read above it. The next run first reads on from there down to the mark, then what
        came in on top. A first run (no mark) keeps the newest MAX_PAGES pages, by design, and says so.
        """
        backlog_key = key + "/backlog"
        since = parse_time(marks.get(key))
        backlog = marks.get(backlog_key)
        resuming = since is not None and isinstance(backlog, dict) and isinstance(backlog.get("cursor"), str)
        newest = parse_time(backlog.get("newest")) if resuming else since
        page_cursor = backlog["cursor"] if resuming else None
        newest = newest or since
        kept = 0
        for number in range(max_pages):
            query = {**params, "limit": PAGE_SIZE} | ({"cursor": page_cursor} if page_cursor else {})
            page = read(await self._call(nsid, query), since)
            kept += len(page.mentions)
            if page.newest is not None and (newest is None or page.newest > newest):
                newest = page.newest
            more = page.cursor not in (None, "", page_cursor)
            if page.reached_mark or not page.size or not more:
                # The whole listing is read: an empty one marks the beginning of time, not "never read".
                marks[key] = _mark_text(newest or BEGINNING)
                marks.pop(backlog_key, None)
                yield Batch(page.mentions, self._cursor_text(), page.counts)
                if not resuming:
                    return
                # The gap below the old mark is filled: now what came in on top since the last run.
                resuming, since, page_cursor = False, newest, None
                continue
            if since is None:
                if number < max_pages - 1:
                    yield Batch(page.mentions, None, page.counts)  # a broken first run starts again: storing dedupes
                    page_cursor = page.cursor
                    continue
                if newest is not None:
                    marks[key] = _mark_text(newest)
                notes = []
                if first_run_note:
                    notes.append(
                        first_fetch_note(kept)
                    )
                yield Batch(page.mentions, self._cursor_text(), page.counts, notes)
                return
            marks[backlog_key] = {"cursor": page.cursor, "newest": _mark_text(newest) if newest else None}
            last = number == max_pages - 1
            notes = [_("more to read: the next fetch carries on where this one stopped")] if last else []
            yield Batch(page.mentions, self._cursor_text(), page.counts, notes, more_to_read=last)
            page_cursor = page.cursor

    def _cursor_text(self) -> str:
        return json.dumps(self._marks, ensure_ascii=False, sort_keys=True)

    # -- sending: replies, posts, the account itself --

    async def text_limit(self) -> int:
        return TEXT_LIMIT

    def reply_text(self, target: ReplyTarget, text: str) -> str:
        """Exactly what a reply posts: the CM's text as written. The reply refs make it a reply and notify the author."""
        return text

    async def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> Sent:
        """A post in the thread of the mention: parent = the mention's post, root = that thread's root.

        No `@handle` goes in front, as in Bluesky's own app: a prefix would notify the author as a mention
        rather than a reply and make the post longer than what the CM counted.
        """
        parent = await self._parent(target)
        parent_ref = {"uri": parent.uri, "cid": parent.cid}
        root = parent.record.reply.root.model_dump() if parent.record.reply else parent_ref
        handle = parent.author.handle.lower() if parent.author.handle not in ("", "handle.invalid") else ""
        known = {handle: parent.author.did} if handle else {}
        text = self.reply_text(target, text)
        record = self._record(text, known | await self._resolve(handles_in(text), known))
        if parent.record.langs:
            record["langs"] = parent.record.langs[:1]
        record["reply"] = {"root": root, "parent": parent_ref}
        return await self._create_post(record, idempotency_key)

    async def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str, since: datetime) -> Sent | None:
        """The post under the record key this send's key names (com.atproto.repo.getRecord), if there is one."""
        return await self._find(self.reply_text(target, text), idempotency_key)

    async def find_post(self, text: str, link: str | None, idempotency_key: str, since: datetime) -> Sent | None:
        return await self._find(with_link(text, link), idempotency_key)

    async def _find(self, text: str, idempotency_key: str) -> Sent | None:
        session = await self._session()
        rkey = record_key(idempotency_key)
        response = await self._xrpc("GET", GET_RECORD, params={"repo": session.did, "collection": POST, "rkey": rkey}, expect=(404,))
        if response.status != 200:
            if response.status == 404 or _xrpc_error(response)[0] == "RecordNotFound":
                return None
            raise SourceError(_("Bluesky refused {nsid}: {detail}").format(nsid=GET_RECORD, detail=_xrpc_message(response)))
        try:
            existing = StoredRecord.model_validate(response.json())
        except ValidationError:
            raise SourceError(_("{nsid} answered without a record cmday can read").format(nsid=GET_RECORD)) from None
        if existing.value.get("text") != text:
            raise SourceError(
                _("Bluesky already holds a different post under record key {rkey} ({uri}); nothing was sent").format(
                    rkey=rkey, uri=existing.uri
                )
            )
        return Sent(existing.uri, self._web_url(session, rkey))

    def _web_url(self, session: Session, rkey: str) -> str:
        return f"https://bsky.app/profile/{quote(session.handle or session.did, safe=':.')}/post/{rkey}"

    async def publish(
        self, text: str, link: str | None, media: list[Path], idempotency_key: str, alts: list[str] | None = None
    ) -> Sent:
        """A post with link, mention and tag facets and, when there is a link, a link card (no thumbnail)."""
        alt_texts = list(alts or []) + [""] * len(media)
        images = [_image(path, alt) for path, alt in zip(media, alt_texts)]  # every file checked before the first upload
        if len(images) > MAX_IMAGES:
            raise SourceError(ngettext("Bluesky takes at most {most} image on a post; this one has {count}",
                                       "Bluesky takes at most {most} images on a post; this one has {count}", MAX_IMAGES).format(
                most=MAX_IMAGES, count=len(images)))
        text = with_link(text, link)
        record = self._record(text, await self._resolve(handles_in(text), {}))
        if images:
            # Blobs not referenced by a record are dropped by the PDS: an upload left by a crash is no post.
            record["embed"] = {"$type": IMAGES, "images": [await self._upload(image) for image in images]}
        elif link:
            card = {"uri": link, "title": _card_title(text, link), "description": ""}
            record["embed"] = {"$type": EXTERNAL, "external": card}
        return await self._create_post(record, idempotency_key)

    async def _upload(self, image: _Image) -> dict[str, Any]:
        """com.atproto.repo.uploadBlob with the raw bytes, then the app.bsky.embed.images#image that refers to it."""
        response = await self._xrpc("POST", UPLOAD_BLOB, content=image.data, content_type=image.mime, retry_on=(429,))
        blob = (response.json() or {}).get("blob") if response.status == 200 else None
        if not isinstance(blob, dict):
            raise SourceError(_("Bluesky refused the image {file}: {detail}").format(file=image.name, detail=_xrpc_message(response)))
        entry: dict[str, Any] = {"alt": image.alt, "image": blob}
        if image.width and image.height:
            entry["aspectRatio"] = {"width": image.width, "height": image.height}
        return entry

    async def verify(self) -> str:
        """The account's handle as `@handle`, read from its profile: fails when the login does not work."""
        return "@" + (await self._profile()).handle

    async def account_metrics(self) -> dict[str, float]:
        profile = await self._profile()
        return {
            "followers": float(profile.followers_count),
            "following": float(profile.follows_count),
            "posts": float(profile.posts_count),
        }

    async def post_metrics(self, remote_ids: list[str]) -> dict[str, dict[str, float]]:
        """Reactions to the account's own posts, by post URI: app.bsky.feed.getPosts, 25 URIs a call."""
        wanted = list(dict.fromkeys(uri for uri in remote_ids if uri))
        counts: dict[str, dict[str, float]] = {}
        for start in range(0, len(wanted), POSTS_PER_CALL):
            chunk = wanted[start : start + POSTS_PER_CALL]
            found = read_post_counts(await self._call(GET_POSTS, {"uris": chunk}))
            counts.update({uri: found[uri] for uri in chunk if uri in found})
        return counts

    async def thread(self, platform_id: str) -> list[Mention]:
        """The posts above `platform_id` (an at:// URI), oldest first, the nearest THREAD_DEPTH: getPostThread."""
        params = {"uri": platform_id, "depth": 0, "parentHeight": THREAD_DEPTH}
        return read_thread_parents(await self._call(GET_POST_THREAD, params))

    async def _profile(self) -> Profile:
        session = await self._session()
        payload = await self._call(GET_PROFILE, {"actor": session.did})
        try:
            return Profile.model_validate(payload)
        except ValidationError:
            raise SourceError(_("{nsid} answered without a profile cmday can read").format(nsid=GET_PROFILE)) from None

    async def _parent(self, target: ReplyTarget) -> ParentPost:
        """The answered post from the stored notification or post view; fetched again when that lacks a part."""
        raw = target.raw if isinstance(target.raw, dict) else {}
        try:
            parent = ParentPost.model_validate(raw)
            stored_reply = raw["record"].get("reply") if isinstance(raw.get("record"), dict) else None
            if parent.uri == target.platform_id and (stored_reply is None or parent.record.reply is not None):
                return parent
        except ValidationError:
            pass
        payload = await self._call(GET_POSTS, {"uris": target.platform_id})
        posts = payload.get("posts") if isinstance(payload, dict) else None
        for item in posts if isinstance(posts, list) else []:
            try:
                return ParentPost.model_validate(item)
            except ValidationError:
                continue
        raise SourceError(
            _("the Bluesky post to answer ({uri}) is gone or cannot be read; it may have been deleted").format(
                uri=target.platform_id
            )
        )

    async def _resolve(self, handles: list[str], known: dict[str, str]) -> dict[str, str]:
        """DIDs of the other @handles in a text; a handle that does not resolve just gets no mention facet."""
        found: dict[str, str] = {}
        for handle in [h for h in handles if h not in known][:MAX_RESOLVED_HANDLES]:
            try:
                response = await self._xrpc("GET", RESOLVE_HANDLE, params={"handle": handle}, expect=(404,))
                did = response.json().get("did") if response.status == 200 else None
            except (SourceError, AttributeError):
                continue
            if isinstance(did, str) and did.startswith("did:"):
                found[handle] = did
        return found

    def _record(self, text: str, dids: dict[str, str]) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": _utc_text(self.context.now)}
        facets = facets_for(text, dids)
        if facets:
            record["facets"] = facets
        return record

    async def _create_post(self, record: dict[str, Any], idempotency_key: str) -> Sent:
        """createRecord under a key derived from the idempotency key, so the same send never makes two posts.

        A key already taken answers an error (a 500 on today's PDS); when the post under it has our text,
        an earlier attempt did go through, and that post is the answer.
        """
        session = await self._session()
        rkey = record_key(idempotency_key)
        body = {"repo": session.did, "collection": POST, "rkey": rkey, "record": record}
        # A 502-504 is a gateway's answer: the PDS may have stored the post, and cmday.sending looks.
        response = await self._xrpc("POST", CREATE_RECORD, body=body, expect=(409, 500), retry_on=(429,))
        web = self._web_url(session, rkey)
        if response.status == 200:
            try:
                return Sent(CreatedRecord.model_validate(response.json()).uri, web)
            except (ValidationError, SourceError):
                return Sent(f"at://{session.did}/{POST}/{rkey}", web)
        existing = await self._stored_post(session.did, rkey)
        if existing is None:
            raise SourceError(
                _("Bluesky refused {nsid}: {detail}").format(nsid=CREATE_RECORD, detail=_xrpc_message(response))
            )
        if existing.value.get("text") != record["text"]:
            raise SourceError(
                _("Bluesky already holds a different post under record key {rkey} ({uri}); nothing was sent").format(
                    rkey=rkey, uri=existing.uri
                )
            )
        return Sent(existing.uri, web)

    async def _stored_post(self, did: str, rkey: str) -> StoredRecord | None:
        try:
            response = await self._xrpc(
                "GET", GET_RECORD, params={"repo": did, "collection": POST, "rkey": rkey}, expect=(404,)
            )
            if response.status != 200:
                return None
            return StoredRecord.model_validate(response.json())
        except (SourceError, ValidationError):
            return None  # cannot tell: the send's own error is the one to report

    # -- XRPC and the session --

    async def _call(self, nsid: str, params: dict[str, Any]) -> Any:
        response = await self._xrpc("GET", nsid, params=params)
        if response.status != 200:
            raise SourceError(_("Bluesky refused {nsid}: {detail}").format(nsid=nsid, detail=_xrpc_message(response)))
        return response.json()

    async def _xrpc(
        self, method: str, nsid: str, *, params: dict[str, Any] | None = None, body: Any = None,
        expect: tuple[int, ...] = (), retry_on: tuple[int, ...] | None = None,
        content: bytes | None = None, content_type: str | None = None,
    ) -> Any:
        """One call with the session's token; an expired or refused token is renewed once and the call repeated.

        Answers 200, 400 and what `expect` adds come back to the caller; others are the HTTP layer's errors.
        """
        response = await self._once(method, nsid, params, body, expect, retry_on, content, content_type)
        if _needs_new_session(response):
            await self._renew()
            response = await self._once(method, nsid, params, body, expect, retry_on, content, content_type)
            if _needs_new_session(response):
                raise self._log_in_again()
        return response

    async def _once(
        self, method: str, nsid: str, params: dict[str, Any] | None, body: Any, expect: tuple[int, ...],
        retry_on: tuple[int, ...] | None = None, content: bytes | None = None, content_type: str | None = None,
    ) -> Any:
        session = await self._session()
        headers = {"Authorization": f"Bearer {session.access_jwt}"}
        if content_type:
            headers["Content-Type"] = content_type
        return await self.context.http.request(
            method,
            self.base + nsid,
            params=params,
            headers=headers,
            json_body=body,
            content=content,
            expect=(200, 400, 401, *expect),
            **({"retry_on": retry_on} if retry_on is not None else {}),
        )

    async def _session(self) -> Session:
        """The session this command already has, else the one an earlier command kept, else a new login.

        A PDS allows 30 logins per 5 minutes and 300 a day per account; a CM replying fast, plus cron,
        would be locked out if every command logged in.
        """
        session = self.context.state.get(self._session_key)
        if isinstance(session, Session):
            return session
        kept = self._kept_session()
        if kept is not None:
            self.context.state[self._session_key] = kept
            return kept
        return await self._create_session()

    def _session_file(self) -> Path:
        from cmday.secrets import secrets_dir

        return secrets_dir() / f"{self.context.project_slug}.{self.source.id}.session"

    def _kept_session(self) -> Session | None:
        """The session file, when it belongs to this account on this service (the project may have changed)."""
        try:
            kept = json.loads(self._session_file().read_text(encoding="utf-8"))
            if kept.get("service") != self.source.service or kept.get("identifier") != self.source.handle:
                return None
            return Session.model_validate(kept["session"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError):
            return None

    def _store_session(self, session: Session) -> None:
        """Written readable by its owner only, never with wider permissions, replaced whole (two commands may race)."""
        import os
        import tempfile

        path = self._session_file()
        text = json.dumps({"service": self.source.service, "identifier": self.source.handle,
                           "session": session.model_dump(by_alias=True)})
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # not kept: the next command logs in again, which is slower but works

    def _forget_session(self) -> None:
        self.context.state.pop(self._session_key, None)
        try:
            self._session_file().unlink()
        except OSError:
            pass

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
        self._forget_session()
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
        self._store_session(session)
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


def _card_title(text: str, link: str) -> str:
    """The link card's title without fetching the page: the link's host, else the text's first line."""
    host = (urlsplit(link).hostname or "").removeprefix("www.")
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return (host or first_line or link)[:300]


def _needs_new_session(response: Any) -> bool:
    return response.status == 401 or (response.status == 400 and _xrpc_error(response)[0] in EXPIRED)


UPLOAD_BLOB = "com.atproto.repo.uploadBlob"
IMAGES = "app.bsky.embed.images"
MAX_IMAGES = 4  # app.bsky.embed.images: maxLength 4
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images#image: the blob's maxSize


@dataclass
class _Image:
    name: str
    data: bytes
    mime: str
    width: int | None
    height: int | None
    alt: str = ""


def _image(path: Path, alt: str = "") -> _Image:
    """The file as Bluesky takes it, or a SourceError before any upload: an image, within 1,000,000 bytes."""
    from cmday.files import MEDIA, human_size, read_bytes
    from cmday.images import image_info

    data = read_bytes(path, MEDIA, error=SourceError)
    info = image_info(data)
    if info is None:
        raise SourceError(_("Bluesky takes JPEG, PNG, GIF or WebP images; {file} is none of them").format(file=path.name))
    if len(data) > MAX_IMAGE_BYTES:
        raise SourceError(
            _("{file} is {size}, over Bluesky's limit of {limit} for an image; nothing was sent").format(
                file=path.name, size=human_size(len(data)), limit=human_size(MAX_IMAGE_BYTES)),
            hint=_("make the image smaller, then publish again"))
    return _Image(path.name, data, info.mime, info.width, info.height, alt)


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
