"""The AT Protocol's own shapes (app.bsky and com.atproto lexicons), read strictly enough to trust."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WrapValidator
from pydantic.alias_generators import to_camel

from cmday.secrets import remember

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
# The AppView lists a post at the earlier of its createdAt and the moment it indexed it (`sortAt`), so a post
# indexed late (the relay behind, the author's app offline) lands below what a fetch already read: every fetch
# reads this far below its mark again (one page at most), and storing keeps each post once.
LATE_INDEXING = timedelta(minutes=15)
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



def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


