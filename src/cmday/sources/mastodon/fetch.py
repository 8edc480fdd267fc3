"""Reading an account: notifications, activity, hashtags and search, page by page under one cursor; threads and figures."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import ValidationError

from cmday.errors import SourceError
from cmday.i18n import _, ngettext
from cmday.mention import Mention
from cmday.sources.base import (
    AuthenticationFailed,
    Batch,
    cursor_fields,
    first_fetch_note,
)
from cmday.sources.mastodon.entities import (
    Context,
    Entity,
    Notification,
    Search,
    Status,
    StatusCounts,
    _platform_id,
)
from cmday.sources.mastodon.text import html_to_text

MAX_PAGES = 10  # per stream and run: a first run on a busy account stays bounded
SEARCH_PAGES = 3
NOTIFICATIONS_PER_PAGE = 80  # the most Mastodon serves (default 40): mentions and activity share the pages
STATUSES_PER_PAGE = 40  # tag timelines and search: max 40
FIRST_RUN_ACTIVITY = timedelta(hours=24)
ACTIVITY_TYPES = {"favourite": "favourites", "reblog": "boosts", "follow": "follows"}
NOTIFICATION_TYPES = ("mention", *ACTIVITY_TYPES)  # what the one walk of the notifications asks for
NOTIFICATIONS = "/api/v1/notifications"
# What an instance answers when it will not serve a listening stream: bad query, token without the
# scope, tag feeds or search switched off, full-text search down.
REFUSED = (400, 401, 403, 404, 422, 503)
STATUS_READS_AT_ONCE = 4  # post_metrics reads one status per request: a few at a time, not a burst
THREAD_DEPTH = 10  # parents shown above a mention: the nearest ones, enough to follow a conversation



# --- Payloads to mentions ------------------------------------------------------------------------


# What a status may lack and still be kept: its time (the time it was fetched stands in) and its author.
MENDABLE = {"created_at": "no-date", "account": "no-author"}
UNKNOWN_ACCT = "\x00unknown"  # never an account name: shown as an unknown author


def _readable(model: type[Entity], item: Any, fetched_at: datetime | None) -> tuple[Any, list[str]]:
    """`item` as `model`; a missing or unreadable time or author is mended and named, anything else is refused.

    Mended: `created_at` becomes `fetched_at`, an author without `acct` becomes an unknown author. With
    no `fetched_at` nothing is mended.
    """
    try:
        return model.model_validate(item), []
    except ValidationError as error:
        broken = {str(detail["loc"][0]) for detail in error.errors() if detail["loc"]}
        if fetched_at is None or not isinstance(item, dict) or not broken or not broken <= set(MENDABLE):
            raise
    mended = dict(item)
    if "created_at" in broken:
        mended["created_at"] = fetched_at.isoformat()
    if "account" in broken:
        account = item.get("account") if isinstance(item.get("account"), dict) else {}
        mended["account"] = {k: v for k, v in account.items() if k in ("display_name", "url")} | {"acct": UNKNOWN_ACCT}
    return model.model_validate(mended), sorted(MENDABLE[name] for name in broken)


@dataclass(frozen=True)
class Own:
    """The source's own account: what it posts never enters its inbox."""

    id: str | None
    acct: str  # as the instance writes local accounts: `user`, without the domain

    def wrote(self, status: Status) -> bool:
        if self.id is not None and status.account.id is not None:
            return status.account.id == self.id
        return status.account.acct.lstrip("@").casefold() == self.acct.casefold()


@dataclass
class Notifications:
    """One page of notifications split: its mentions, its activity counted, and how many items were unusable."""

    mentions: list[Mention]
    counts: dict[str, int]
    skipped: int


def read_notifications(
    payload: Any, instance_host: str, fetched_at: datetime | None = None, own: Own | None = None, *,
    counted_from: datetime | None = None, stored_up_to: str | None = None, counted_up_to: str | None = None,
) -> Notifications:
    """A page of mixed notifications in one pass: mentions (dm, reply or mention) and favourites, boosts and follows.

    Activity is counted from `counted_from` on, when given (a first run counts the last day). A mention whose
    notification id is at or below `stored_up_to` was stored by an earlier fetch, and activity at or below
    `counted_up_to` was counted by one: both are left out, so nothing is stored or counted twice. A mention
    without a readable time or author is kept (see `_readable`), its flags saying what it lacks; activity
    without a readable time is not counted (a first run could not tell whether it is from the last day).
    """
    mentions: list[Mention] = []
    counts = dict.fromkeys(ACTIVITY_TYPES.values(), 0)
    skipped = 0
    for item in _items(payload, instance_host):
        try:
            notification, lacking = _readable(Notification, item, fetched_at)
        except ValidationError:
            skipped += 1
            continue
        counted = ACTIVITY_TYPES.get(notification.type)
        if counted is not None:
            fresh = counted_up_to is None or _id_key(notification.id) > _id_key(counted_up_to)
            if fresh and not lacking and (counted_from is None or notification.created_at >= counted_from):
                counts[counted] += 1
            continue
        if notification.type != "mention" or notification.status is None:
            continue  # a deleted or no longer visible post leaves its notification without a status
        if stored_up_to is not None and _id_key(notification.id) <= _id_key(stored_up_to):
            continue
        try:
            status, lacking_too = _readable(Status, notification.status, notification.created_at if fetched_at else None)
        except ValidationError:
            skipped += 1
            continue
        if own is not None and own.wrote(status):
            continue
        mentions.append(_mention(status, _kind(status), item, instance_host, sorted({*lacking, *lacking_too})))
    return Notifications(mentions, counts, skipped)


def mentions_from_notifications(
    payload: Any, instance_host: str, fetched_at: datetime | None = None, own: Own | None = None
) -> tuple[list[Mention], int]:
    """The mention notifications of one page as mentions, and how many items were unusable."""
    page = read_notifications(payload, instance_host, fetched_at, own)
    return page.mentions, page.skipped


def mentions_from_statuses(
    payload: Any, instance_host: str, fetched_at: datetime | None = None, own: Own | None = None
) -> tuple[list[Mention], int]:
    """Statuses found by listening (hashtag timeline, search) as `search` mentions, and how many were unusable.

    The source's own posts (`own`) are left out: a post the brand published with its own hashtag is not a mention.
    """
    mentions: list[Mention] = []
    skipped = 0
    for item in _items(payload, instance_host):
        try:
            status, lacking = _readable(Status, item, fetched_at)
        except ValidationError:
            skipped += 1
            continue
        if own is not None and own.wrote(status):
            continue
        mentions.append(_mention(status, "search", item, instance_host, lacking))
    return mentions, skipped


def activity_counts(payload: Any, instance_host: str, since: datetime | None = None) -> dict[str, int]:
    """Favourites, boosts and follows on one page of notifications (those from `since` on, when given)."""
    return read_notifications(payload, instance_host, counted_from=since).counts


def search_statuses(payload: Any, instance_host: str) -> list[Any]:
    try:
        return Search.model_validate(payload).statuses
    except ValidationError:
        raise _unreadable(instance_host) from None


def _items(payload: Any, instance_host: str) -> list[Any]:
    if not isinstance(payload, list):
        raise _unreadable(instance_host)
    return payload


def _unreadable(instance_host: str) -> SourceError:
    return SourceError(_("{host} answered a page that is not the list of posts asked for").format(host=instance_host))


def _mark_filtered(mentions: list[Mention], accounts: set[str]) -> None:
    """Flag the mentions from accounts the server's notification policy filters: a stranger's complaint among them."""
    for mention in mentions:
        sender = mention.raw.get("account") if isinstance(mention.raw, dict) else None
        if isinstance(sender, dict) and str(sender.get("id")) in accounts:
            mention.flags.append("filtered")


def _kind(status: Status) -> str:
    if status.visibility == "direct":
        return "dm"
    return "reply" if status.in_reply_to_id else "mention"


def _mention(status: Status, kind: str, raw: dict[str, Any], instance_host: str, lacking: list[str] = ()) -> Mention:
    body = html_to_text(status.content)
    warning = (status.spoiler_text or "").strip()
    account = status.account
    acct = account.acct.lstrip("@")
    if acct == UNKNOWN_ACCT:
        handle, name = "", account.display_name or ""
    else:
        handle = f"@{acct}" if "@" in acct or not instance_host else f"@{acct}@{instance_host}"
        name = account.display_name or account.username or acct
    return Mention(
        platform="mastodon",
        platform_id=status.id,
        kind=kind,
        text=f"CW: {warning}\n\n{body}".strip() if warning else body,
        created_at=status.created_at,
        author_handle=handle,
        author_name=name,
        author_url=account.url or "",
        url=status.url or status.uri,
        language=status.language,
        in_reply_to=status.in_reply_to_id,
        raw=raw,
        flags=list(lacking),
    )


# --- Cursor and paging ---------------------------------------------------------------------------


def _id_key(value: str) -> tuple[int, str]:
    # Numeric order without int(): ids are opaque strings of digits, longer means newer.
    return len(value), value


def _ids(items: list[Any]) -> list[str]:
    found = []
    for item in items:
        if isinstance(item, dict):
            try:
                found.append(_platform_id(item.get("id")))
            except ValueError:
                pass
    return found


_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL_NEXT = re.compile(r"""rel\s*=\s*"?[^";,]*\bnext\b""")


def _link_max_id(link_header: str) -> str | None:
    """`max_id` of the Link header's rel="next": only the id is used, so the token never follows a link elsewhere."""
    for target, attributes in _LINK.findall(link_header):
        if _REL_NEXT.search(attributes):
            values = parse_qs(urlsplit(target).query).get("max_id")
            return values[0] if values else None
    return None


@dataclass
class Cursor:
    """Where each stream stopped: the newest notification or status id already stored, per stream.

    The account's notifications are one walk (mentions, favourites, boosts and follows in the same pages), so
    one place says how far it got: `notifications` is the newest notification id such that every notification
    at or below it is handled, its mention stored or its favourite, boost or follow counted, in the same batch
    that moved it. The next walk asks only for ids above it (`min_id`), so what comes in between two fetches,
    of any type, is read once: a favourite arriving between two mentions neither hides the second mention nor
    is counted again. Two marks may run ahead of it, each dropped once `notifications` passes it:
    `mentions`, mentions stored beyond it (a burst of activity held the walk back and the mentions were read on
    by a walk of their own, or a cursor of the time when mentions had their own walk), skipped when the walk
    reaches them; `activity`, activity counted beyond it (only in a cursor of the time when activity had its
    own walk), not counted again.
    """

    notifications: str | None = None
    mentions: str | None = None
    activity: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    search: dict[str, str] = field(default_factory=dict)
    search_empty: dict[str, int] = field(default_factory=dict)  # fetches in a row a never-answered query found nothing
    # the token's own account as verify_credentials said ("id", "acct") and which token it was ("token": a
    # fingerprint, never the token): a check when nothing changed makes no account call
    own: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        """A cursor this adapter wrote; anything else (none, damaged) starts afresh: storing dedupes."""
        data = cursor_fields(text)

        def one(value: Any) -> str | None:
            return value if isinstance(value, str) and value else None

        def many(value: Any) -> dict[str, str]:
            return {k: v for k, v in value.items() if one(v)} if isinstance(value, dict) else {}

        empty = data.get("search_empty")
        runs = {k: v for k, v in empty.items() if isinstance(v, int) and v > 0} if isinstance(empty, dict) else {}
        state = cls(
            one(data.get("notifications")), one(data.get("mentions")), one(data.get("activity")), many(data.get("tags")),
            many(data.get("search")), runs, many(data.get("own")),
        )
        if state.notifications and state.activity and _id_key(state.activity) < _id_key(state.notifications):
            # Only a cursor of the time of two walks has activity behind the notifications (then the mentions'
            # place): the one walk goes on from the activity's place, the mentions up to theirs already stored.
            state.mentions = _newer(state.mentions, state.notifications)
            state.notifications, state.activity = state.activity, None
        state.settle()
        return state

    def settle(self) -> None:
        """Drop the marks the walk of the notifications has caught up with."""
        if self.notifications is not None:
            if self.mentions is not None and _id_key(self.mentions) <= _id_key(self.notifications):
                self.mentions = None
            if self.activity is not None and _id_key(self.activity) <= _id_key(self.notifications):
                self.activity = None

    def text(self) -> str:
        data: dict[str, Any] = {"notifications": self.notifications, "mentions": self.mentions, "activity": self.activity}
        data = {k: v for k, v in data.items() if v}
        if self.tags:
            data["tags"] = self.tags
        if self.search:
            data["search"] = self.search
        if self.search_empty:
            data["search_empty"] = self.search_empty
        if self.own:
            data["own"] = self.own
        return json.dumps(data, sort_keys=True)


EMPTY_SEARCHES = 3  # fetches in a row in which every query found nothing, before `sources` says so


def search_unanswered(cursor: str | None) -> list[str]:
    """The queries of a source whose instance has answered every search with no posts, fetch after fetch.

    Mastodon without full-text search (and some forks) answers keyword search with an empty list of
    statuses, which looks like no hits; hashtags still work there. Empty: search has found something.
    """
    state = Cursor.load(cursor)
    if state.search or not state.search_empty or min(state.search_empty.values()) < EMPTY_SEARCHES:
        return []
    return sorted(state.search_empty)


def _newer(current: str | None, candidate: str | None) -> str | None:
    if candidate is None or (current is not None and _id_key(candidate) <= _id_key(current)):
        return current
    return candidate


@dataclass
class Page:
    items: list[Any]
    ids: list[str]
    older: str | None  # max_id for the next, older page
    cut_short: bool = False  # the page limit was reached with older items still on the server
    notes: list[str] = field(default_factory=list)  # what went wrong with the paging itself, for the user


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        self.status = status




class Reading:
    """The reading half of MastodonAdapter."""

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        self.headers = self._authorized()
        state = Cursor.load(cursor)
        self._own = await self._own_account(state)
        self._filtered: set[str] | None = None
        streams = [self._notifications(state)]
        streams += [self._hashtag(state, tag) for tag in _unique(t.strip().lstrip("#") for t in self.source.hashtags)]
        streams += [self._search(state, query) for query in _unique(q.strip() for q in self.source.search)]
        for stream in streams:
            async for batch in stream:
                yield batch

    async def _notifications(self, state: Cursor) -> AsyncIterator[Batch]:
        """Mentions and the favourites, boosts and follows, read in one walk of the notifications and split here.

        One request when nothing is new. A first run reads newest-first (at most MAX_PAGES pages; the older ones
        are left on the server, by design) and counts only the last day's activity; its counts go with the batch
        that moves the cursor, its last, so that a first run broken and run again never counts twice. Later runs
        read oldest-first from the cursor, each page's mentions, counts and cursor in one batch. When a burst
        fills MAX_PAGES pages, the mentions beyond are read on by a walk of their own (`_mentions_ahead`), given
        as many pages as activity took: a viral post's favourites never hold back the mentions that came after
        them; its activity is counted by the next fetches, which carry on from the cursor.
        """
        # Mastodon 4.3+ holds back notifications its policy filters (strangers, new accounts) unless asked
        # (`include_filtered`); older servers and forks ignore the parameter, and a server ignoring `types[]`
        # sends other types too: they are left out here.
        params = [*(("types[]", kind) for kind in NOTIFICATION_TYPES), ("limit", NOTIFICATIONS_PER_PAGE),
                  ("include_filtered", "true")]
        first = state.notifications is None
        counted_from = self.context.now - FIRST_RUN_ACTIVITY if first else None
        pages = self._timeline(NOTIFICATIONS, params, state.notifications, NOTIFICATIONS_PER_PAGE, MAX_PAGES)
        kept = 0
        counts: dict[str, int] = {}  # counted and not yet stored: they go with the batch that moves the cursor
        held_back, activity = False, 0
        async for page, newest in pages:
            read = read_notifications(
                page.items, self.host, self.context.now, self._own, counted_from=counted_from,
                stored_up_to=state.mentions, counted_up_to=state.activity,
            )
            await self._mark_filtered(read.mentions)
            kept += len(read.mentions)
            for key, value in read.counts.items():
                counts[key] = counts.get(key, 0) + value
            activity += sum(read.counts.values())
            notes, more = list(page.notes), False
            if newest is not None:
                state.notifications = _newer(state.notifications, newest)
                state.settle()
                moved, counts = counts, {}
            else:
                moved = {}
            if page.cut_short and first:  # by design: a first run does not pour in the account's whole past
                notes.append(first_fetch_note(kept))
            elif page.cut_short:
                notes.append(_("more to read: the next fetch carries on where this one stopped"))
                more = held_back = True
            extra = moved | ({"skipped": read.skipped} if read.skipped else {})
            yield Batch(read.mentions, state.text(), extra, notes, more)
        if held_back and activity:
            async for batch in self._mentions_ahead(state, min(MAX_PAGES, math.ceil(activity / NOTIFICATIONS_PER_PAGE))):
                yield batch

    async def _mentions_ahead(self, state: Cursor, max_pages: int) -> AsyncIterator[Batch]:
        """The mentions beyond a walk of the notifications that a burst held back, each page moving `mentions`."""
        params = [("types[]", "mention"), ("limit", NOTIFICATIONS_PER_PAGE), ("include_filtered", "true")]
        since = _newer(state.notifications, state.mentions)
        pages = self._oldest_first(NOTIFICATIONS, params, since, NOTIFICATIONS_PER_PAGE, max_pages, False)
        async for page, newest in pages:
            read = read_notifications(page.items, self.host, self.context.now, self._own, stored_up_to=state.mentions)
            await self._mark_filtered(read.mentions)
            state.mentions = _newer(state.mentions, newest)
            yield Batch(read.mentions, state.text(), {"skipped": read.skipped} if read.skipped else {}, page.notes,
                        page.cut_short)

    async def _mark_filtered(self, mentions: list[Mention]) -> None:
        if mentions:
            if self._filtered is None:  # asked once per fetch, and only when there are mentions to mark
                self._filtered = await self._filtered_accounts()
            _mark_filtered(mentions, self._filtered)

    async def _own_account(self, state: Cursor) -> Own | None:
        """The token's own account (verify_credentials), read once per token and kept in the cursor; a refused
        token stops the fetch here (later, at the first notifications call).

        An instance that cannot say (an answer cmday cannot read) leaves the brand's posts unrecognised, not the
        fetch failed.
        """
        token = hashlib.sha256(self._token().encode()).hexdigest()[:16]
        if state.own.get("token") == token and state.own.get("acct"):
            return Own(state.own.get("id"), state.own["acct"])
        try:
            account = await self._credentials()
        except AuthenticationFailed:
            raise
        except SourceError:
            return None
        acct = account.acct.lstrip("@")
        local, _at, domain = acct.partition("@")
        own = Own(account.id, local if not domain or domain == self.host else acct)
        state.own = {"id": own.id or "", "acct": own.acct, "token": token}
        return own

    async def _filtered_accounts(self) -> set[str]:
        """Accounts whose notifications the server's policy filters (GET /api/v1/notifications/requests, 4.3+).

        A server without the endpoint (older, forks) or refusing it has none: nothing is marked.
        """
        try:
            response = await self.context.http.request(
                "GET", self.base + "/api/v1/notifications/requests", params=[("limit", 80)], headers=self.headers,
                expect=(200, *REFUSED, 410),
            )
            requests = response.json() if response.status == 200 else []
        except SourceError:
            return set()
        accounts = set()
        for request in requests if isinstance(requests, list) else []:
            account = request.get("account") if isinstance(request, dict) else None
            if isinstance(account, dict):
                try:
                    accounts.add(_platform_id(account.get("id")))
                except ValueError:
                    continue
        return accounts

    def _hashtag(self, state: Cursor, tag: str) -> AsyncIterator[Batch]:
        since = state.tags.get(tag.casefold())
        path = "/api/v1/timelines/tag/" + quote(tag, safe="")
        params = [("limit", STATUSES_PER_PAGE)]
        pages = self._timeline(path, params, since, STATUSES_PER_PAGE, MAX_PAGES if since else 1, optional=True)
        refused = _("{host} refused the hashtag timeline #{tag} ({status}); it was skipped")
        note = partial(refused.format, host=self.host, tag=tag)
        cut = _("more to read: the next fetch carries on where this one stopped") if since else None
        return self._listen(state, state.tags, tag.casefold(), pages, "hashtags_refused", note, cut)

    def _search(self, state: Cursor, query: str) -> AsyncIterator[Batch]:
        since = state.search.get(query)
        params: list[tuple[str, Any]] = [("q", query), ("type", "statuses"), ("limit", STATUSES_PER_PAGE)]
        if since:
            params.append(("min_id", since))
        pages = self._newest_first(
            "/api/v2/search", params, STATUSES_PER_PAGE, SEARCH_PAGES if since else 1, search_statuses, optional=True
        )
        refused = _("{host} refused the search for “{query}” ({status}); it was skipped")
        note = partial(refused.format, host=self.host, query=query)
        cut = None
        if since:  # search cannot be paged forward: what lies beyond its pages is given up, and said
            cut = ngettext(
                "more hits for “{query}” than the newest page holds; older ones were not read",
                "more hits for “{query}” than the newest {count} pages hold; older ones were not read",
                SEARCH_PAGES,
            ).format(query=query, count=SEARCH_PAGES)
        return self._listen(state, state.search, query, pages, "search_refused", note, cut)

    async def _listen(
        self, state: Cursor, places: dict[str, str], key: str, pages: AsyncIterator[tuple[Page, str | None]],
        counter: str, note: Callable[..., str], cut_note: str | None = None,
    ) -> AsyncIterator[Batch]:
        try:
            async for page, newest in pages:
                mentions, skipped = mentions_from_statuses(page.items, self.host, self.context.now, self._own)
                moved = _newer(places.get(key), newest)
                if moved:
                    places[key] = moved
                if places is state.search:  # an instance without full-text search answers every query empty
                    if key in places or page.items:
                        state.search_empty.pop(key, None)
                    else:
                        state.search_empty[key] = state.search_empty.get(key, 0) + 1
                notes = [*page.notes, *([cut_note] if cut_note and page.cut_short else [])]
                more = bool(cut_note and page.cut_short and places is state.tags)  # tag timelines page forward
                yield Batch(mentions, state.text(), {"skipped": skipped} if skipped else {}, notes, more)
        except _Refused as refusal:
            yield Batch([], state.text(), {counter: 1}, [note(status=refusal.status)])

    def _timeline(
        self, path: str, params: list[tuple[str, Any]], since: str | None, per_page: int, max_pages: int,
        optional: bool = False,
    ) -> AsyncIterator[tuple[Page, str | None]]:
        if since is None:
            return self._newest_first(path, params, per_page, max_pages, _items, optional)
        return self._oldest_first(path, params, since, per_page, max_pages, optional)

    async def _newest_first(
        self, path: str, params: list[tuple[str, Any]], per_page: int, max_pages: int,
        unwrap: Callable[[Any, str], list[Any]], optional: bool,
    ) -> AsyncIterator[tuple[Page, str | None]]:
        """Pages from the newest back, each with None for the cursor except the last, which carries the newest id.

        The next page is the Link header's `max_id`, or the lowest id read when the header points back
        at what was already read (some servers' Link is wrong that way). A page that brings nothing not
        already read means the server cannot be paged: the walk stops there with the cursor left where
        it was (a gap is never covered by it), and says so.
        """
        newest: str | None = None
        lowest: str | None = None
        seen: set[str] = set()
        query = params
        for number in range(max_pages):
            page = await self._page(path, query, unwrap, optional)
            fresh = [found for found in page.ids if found not in seen]
            if number and page.items and not fresh:
                page.notes.append(
                    _("{host} sent a page already read instead of the next one; the older mentions could not be read "
                      "and the stream's place was not moved").format(host=self.host)
                )
                yield page, None
                return
            seen.update(fresh)
            for found in fresh:
                newest = _newer(newest, found)
                lowest = found if lowest is None or _id_key(found) < _id_key(lowest) else lowest
            full = len(page.items) >= per_page
            older = page.older
            if older is not None and lowest is not None and _id_key(older) > _id_key(lowest):
                older = None  # the Link header points back over what was read: page by id instead
            older = older or (lowest if full else None)
            last = not full or older is None or number == max_pages - 1
            page.cut_short = full and older is not None and number == max_pages - 1
            yield page, (newest if last else None)
            if last:
                return
            query = [*params, ("max_id", older)]

    async def _oldest_first(
        self, path: str, params: list[tuple[str, Any]], since: str, per_page: int, max_pages: int, optional: bool
    ) -> AsyncIterator[tuple[Page, str | None]]:
        """Pages just newer than `since`, oldest first, each with the newest id it holds as its cursor."""
        floor = since
        for number in range(max_pages):
            page = await self._page(path, [*params, ("min_id", floor)], _items, optional)
            newest = _newer(floor, max(page.ids, key=_id_key, default=None))
            if newest == floor:
                return  # nothing newer, or a server ignoring min_id
            page.cut_short = len(page.items) >= per_page and number == max_pages - 1
            yield page, newest
            if len(page.items) < per_page:
                return
            floor = newest

    async def _page(
        self, path: str, params: list[tuple[str, Any]], unwrap: Callable[[Any, str], list[Any]], optional: bool
    ) -> Page:
        expect = (200, *REFUSED) if optional else (200,)
        response = await self.context.http.request(
            "GET", self.base + path, params=params, headers=self.headers, expect=expect
        )
        if response.status != 200:
            raise _Refused(response.status)
        items = unwrap(response.json(), self.host)
        return Page(items, _ids(items), _link_max_id(response.headers.get("link", "")))

    # -- thread context ---------------------------------------------------------------------------

    async def thread(self, platform_id: str) -> list[Mention]:
        """The statuses above `platform_id` (GET /api/v1/statuses/:id/context), oldest first, the nearest THREAD_DEPTH.

        An ancestor the instance sends in a shape cmday cannot read is left out rather than failing the rest.
        """
        path = "/api/v1/statuses/" + quote(platform_id, safe="") + "/context"
        response = await self.context.http.request("GET", self.base + path, headers=self._authorized())
        try:
            ancestors = Context.model_validate(response.json()).ancestors
        except ValidationError:
            raise SourceError(
                _("{host} answered the context of status {id} in a shape cmday cannot read").format(
                    host=self.host, id=platform_id
                )
            ) from None
        mentions: list[Mention] = []
        for item in ancestors[-THREAD_DEPTH:]:
            try:
                status = Status.model_validate(item)
            except ValidationError:
                continue
            mentions.append(_mention(status, "reply" if status.in_reply_to_id else "mention", item, self.host))
        return mentions


    # -- sending: replies, posts, the account itself ----------------------------------------------

    async def verify(self) -> str:
        """The token's account as `@user@instance`: a cheap call that fails when the token does not work."""
        account = await self._credentials()
        acct = account.acct.lstrip("@")
        return f"@{acct}" if "@" in acct or not self.host else f"@{acct}@{self.host}"

    async def account_metrics(self) -> dict[str, float]:
        account = await self._credentials()
        return {
            "followers": float(account.followers_count),
            "following": float(account.following_count),
            "posts": float(account.statuses_count),
        }

    async def post_metrics(self, remote_ids: list[str]) -> dict[str, dict[str, float]]:
        """Favourites, boosts and replies of the account's own statuses, by status id (GET /api/v1/statuses/:id).

        A status the instance no longer has (404: deleted, or no longer visible to the token) is left out.
        """
        headers = self._authorized()
        at_once = asyncio.Semaphore(STATUS_READS_AT_ONCE)

        async def read(status_id: str) -> StatusCounts | None:
            async with at_once:
                path = "/api/v1/statuses/" + quote(status_id, safe="")
                response = await self.context.http.request(
                    "GET", self.base + path, headers=headers, expect=(200, 404)
                )
            if response.status == 404:
                return None
            try:
                return StatusCounts.model_validate(response.json())
            except ValidationError:
                raise SourceError(
                    _("{host} answered status {id} in a shape cmday cannot read").format(host=self.host, id=status_id)
                ) from None

        wanted = list(dict.fromkeys(i for i in remote_ids if i))
        try:
            async with asyncio.TaskGroup() as group:  # the first failure stops the other reads
                reads = [group.create_task(read(status_id)) for status_id in wanted]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return {
            status_id: {
                "favourites": float(status.favourites_count),
                "boosts": float(status.reblogs_count),
                "replies": float(status.replies_count),
            }
            for status_id, task in zip(wanted, reads, strict=True)
            if (status := task.result()) is not None
        }


def _unique(values: Any) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return list(seen.values())
