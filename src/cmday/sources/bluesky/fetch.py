"""Reading an account: notifications and searches, newest pages first down to the cursor's marks; threads and figures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.mention import Mention
from cmday.sources.base import Batch, first_fetch_note
from cmday.sources.bluesky.entities import (
    BEGINNING,
    COUNTED,
    FIRST_RUN_ACTIVITY,
    FIRST_SEARCH_PAGES,
    GET_POST_THREAD,
    GET_POSTS,
    KINDS,
    LATE_INDEXING,
    LIST_NOTIFICATIONS,
    MAX_PAGES,
    PAGE_SIZE,
    POST_URI,
    POSTS_PER_CALL,
    SEARCH_POSTS,
    THREAD_DEPTH,
    THREAD_VIEW,
    Notification,
    NotificationPage,
    PostCounts,
    PostRecord,
    PostsPage,
    PostView,
    SearchPage,
    parse_time,
)
from cmday.sources.bluesky.text import _plain, text_with_links


@dataclass
class Page:
    """One page of a listing, read: what it brings to the inbox, and how far back it reaches."""

    mentions: list[Mention] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    newest: datetime | None = None
    reached_mark: bool = False  # it holds something at or below the mark
    past_window: bool = False  # ...and something below the mark's LATE_INDEXING window too
    cursor: str | None = None
    size: int = 0

    def place(self, moment: datetime, since: datetime | None) -> str:
        """"new" above the mark; "again" at or below it, within LATE_INDEXING (kept, for storing dedupes, but
        not counted again); "old" below that."""
        if self.newest is None or moment > self.newest:
            self.newest = moment
        if since is None or moment > since:
            return "new"
        self.reached_mark = True
        if moment > since - LATE_INDEXING:
            return "again"
        self.past_window = True
        return "old"

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
        if page.place(notification.indexed_at, since) == "new" and notification.reason in COUNTED:
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
        place = page.place(notification.indexed_at, since)
        if place == "old" or {notification.author.did, notification.author.handle.lower()} & own:
            continue
        if record is not None:
            page.mentions.append(_mention(KINDS[notification.reason], notification, record, item))
        elif notification.reason in COUNTED and place == "new":
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
        if page.place(post.indexed_at, since) != "old" and not {post.author.did, post.author.handle.lower()} & own:
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




class Reading:
    """The reading half of BlueskyAdapter."""

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

        Everything at or before the mark is stored, and what the LATE_INDEXING window below it holds is read
        again, on the page that reaches the mark and on one more at most. A page with nothing in it but a
        cursor is no end: the AppView sends one when none of the notifications it looked through had the
        reasons asked for (a long run of likes among mentions). A run that stops before reaching it (page limit, time
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
        past_mark = False  # a page of this pass reached the mark: the one after it is the last
        for number in range(max_pages):
            query = {**params, "limit": PAGE_SIZE} | ({"cursor": page_cursor} if page_cursor else {})
            page = read(await self._call(nsid, query), since)
            kept += len(page.mentions)
            if page.newest is not None and (newest is None or page.newest > newest):
                newest = page.newest
            more = page.cursor not in (None, "", page_cursor)
            window_read = page.past_window or past_mark or (page.reached_mark and number == max_pages - 1)
            past_mark = past_mark or page.reached_mark
            if window_read or not more:
                # The whole listing is read: an empty one marks the beginning of time, not "never read".
                marks[key] = _mark_text(newest or BEGINNING)
                marks.pop(backlog_key, None)
                yield Batch(page.mentions, self._cursor_text(), page.counts)
                if not resuming:
                    return
                # The gap below the old mark is filled: now what came in on top since the last run.
                resuming, since, page_cursor, past_mark = False, newest, None, False
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

