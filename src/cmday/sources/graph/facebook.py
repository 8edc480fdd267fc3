"""The Facebook Page source: comments on the Page's posts, replies among them, visitor posts, and answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from cmday.errors import UsageError
from cmday.i18n import _, ngettext
from cmday.mention import Mention
from cmday.sources.base import Batch, FetchContext, ReplyTarget, Sent
from cmday.sources.graph.api import (
    PAGE_LIMIT,
    GraphClient,
    GraphError,
    cursor_since,
    graph_id,
    next_cursor,
    parse_time,
    refused_unless_success,
    text_of,
    unread_note,
)
from cmday.sources.graph.token import checked_token, cursor_token, token_notes

TEXT_LIMIT = 8000  # a Facebook comment's length limit
CLOCK_SKEW = timedelta(minutes=5)
COMMENT_FIELDS = "id,message,created_time,from,is_hidden,permalink_url"
THREAD_FIELDS = f"{COMMENT_FIELDS},comments.limit(25){{{COMMENT_FIELDS}}}"  # a comment and its first 25 replies
FEED_FIELDS = f"id,message,created_time,from,permalink_url,comments.limit(50){{{THREAD_FIELDS}}}"


class FacebookAdapter:
    """Reads one Page's feed through the Graph API, with a Page access token, and answers comments as comments."""

    uses_network = True

    def __init__(self, source: Any, context: FetchContext) -> None:
        self.source = source
        self.context = context
        self.graph = GraphClient(source, context, "Facebook")

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        """One batch per post read, the cursor unchanged; the last, empty batch moves it to the newest item stored."""
        since = cursor_since(cursor)
        newest = since
        token = await checked_token(self.graph, "facebook", cursor_token(cursor), self.context.now)
        notes = token_notes(self.graph.label, self.source.token_expires, token, self.context.now)
        async for posts, _after in self.graph.pages(
            f"/{self.source.page_id}/feed", {"fields": FEED_FIELDS}, "pages_read_engagement", max_pages=1,
        ):
            for post in posts:
                mentions = []
                permalink = text_of(post.get("permalink_url"))
                if not self._by_page(post):  # a visitor's post on the Page
                    mentions.append(self._mention("mention", post, permalink, None, None))
                comments, more = await self.graph.rest_of(  # more comments than came with the post
                    post.get("comments"), f"/{quote(graph_id(post['id']), safe='')}/comments",
                    {"fields": THREAD_FIELDS}, "pages_read_engagement")
                if more:
                    notes = notes + [unread_note(self.graph.label, len(comments), permalink or graph_id(post["id"]))]
                for comment in comments:
                    replies, more = await self.graph.rest_of(  # more replies than came with the comment
                        comment.get("comments"), f"/{quote(graph_id(comment['id']), safe='')}/comments",
                        {"fields": COMMENT_FIELDS}, "pages_read_engagement")
                    if more:
                        notes = notes + [unread_note(self.graph.label, len(replies),
                                                     text_of(comment.get("permalink_url")) or graph_id(comment["id"]))]
                    mentions.extend(self._from_comment(comment, replies, post, permalink))
                mentions = [m for m in mentions if since is None or m.created_at > since - CLOCK_SKEW]
                for mention in mentions:
                    newest = max(newest, mention.created_at) if newest else mention.created_at
                yield Batch(mentions, cursor, notes=notes)
                notes = []
        ratings: list[Mention] = []
        if self.source.ratings:
            try:
                ratings, unreadable = await self._ratings(since)
                notes = notes + unreadable
            except GraphError as error:  # ratings need a permission comments do not: the comments read still count
                notes = notes + [_("{error} (or set `ratings = false` in the source)").format(error=error.message)]
        for mention in ratings:
            newest = max(newest, mention.created_at) if newest else mention.created_at
        yield Batch(ratings, next_cursor(newest, token), notes=notes)

    async def _ratings(self, since: datetime | None) -> tuple[list[Mention], list[str]]:
        """Recommendations left on the Page (`/{page-id}/ratings`), newest first: the first page is enough to notice them.

        A recommendation has no id of its own: its story's (`open_graph_story.id`) is, and a comment on that story
        is the Page's answer. Meta gives them up to Graph API v21.0 (later versions answer code 12).
        """
        payload = await self.graph.call("GET", f"/{self.source.page_id}/ratings", {
            "fields": "created_time,has_rating,has_review,rating,recommendation_type,review_text,reviewer{id,name},"
                      "open_graph_story{id}", "limit": PAGE_LIMIT}, "pages_read_user_content")
        data = payload.get("data") if isinstance(payload, dict) else None
        found, unreadable = [], 0
        for rating in data if isinstance(data, list) else []:
            mention = self._rating(rating) if isinstance(rating, dict) else None
            if mention is None:
                unreadable += 1
            elif since is None or mention.created_at > since - CLOCK_SKEW:
                found.append(mention)
        notes = [ngettext(
            "{source}: {count} recommendation came with neither a story nor a date; it cannot be kept, see the Page's Reviews tab",
            "{source}: {count} recommendations came with neither a story nor a date; they cannot be kept, see the Page's Reviews tab",
            unreadable,
        ).format(source=self.graph.label, count=unreadable)] if unreadable else []
        return found, notes

    def _rating(self, rating: dict[str, Any]) -> Mention | None:
        story = rating.get("open_graph_story")
        story_id = graph_id(story.get("id")) if isinstance(story, dict) else ""
        reviewer = rating.get("reviewer") if isinstance(rating.get("reviewer"), dict) else {}
        moment = parse_time(rating.get("created_time"))
        if not story_id and not moment:
            return None  # nothing to know it by when it comes again: counted and said by `_ratings`
        kind = rating.get("recommendation_type")
        verdict = {"positive": _("recommends the Page"), "negative": _("does not recommend the Page")}.get(kind, "")
        if not verdict and isinstance(rating.get("rating"), int):  # the star ratings before recommendations
            verdict = ngettext("rates the Page {count} star", "rates the Page {count} stars", rating["rating"]).format(
                count=rating["rating"])
        review = text_of(rating.get("review_text"))
        text = f"{verdict}: {review}" if verdict and review else (review or verdict)
        mention = self._mention("mention", {"from": reviewer, "created_time": rating.get("created_time")}, "", None, None)
        mention.platform_id = story_id or f"rating:{graph_id(reviewer.get('id')) or '-'}:{moment.isoformat()}"
        mention.text = text
        mention.url = f"https://www.facebook.com/{quote(story_id, safe='')}" if story_id else ""
        mention.raw = {"graph": "rating", "id": story_id, "thread": None, "permalink": mention.url,
                       "recommendation_type": kind if isinstance(kind, str) else None}
        return mention

    def _by_page(self, item: dict[str, Any]) -> bool:
        author = item.get("from")
        return isinstance(author, dict) and graph_id(author.get("id")) == self.source.page_id

    def _from_comment(self, comment: dict[str, Any], replies: list[dict[str, Any]], post: dict[str, Any],
                      permalink: str) -> list[Mention]:
        found = []
        post_id = graph_id(post.get("id"))
        if not self._by_page(comment):
            found.append(self._mention("reply", comment, permalink, post_id, graph_id(comment.get("id"))))
        for reply in replies:
            if not self._by_page(reply):
                found.append(self._mention("reply", reply, permalink, graph_id(comment.get("id")), graph_id(comment.get("id"))))
        return found

    def _mention(self, kind: str, item: dict[str, Any], post_url: str, in_reply_to: str | None,
                 thread: str | None) -> Mention:
        author = item.get("from") if isinstance(item.get("from"), dict) else {}
        name = text_of(author.get("name"))
        author_id = graph_id(author.get("id"))
        moment = parse_time(item.get("created_time"))
        flags = []
        if moment is None:
            flags.append("no-date")
        if not (name or author_id):
            flags.append("no-author")  # Meta leaves `from` out for people who have not allowed the app to show them
        if item.get("is_hidden") is True:
            flags.append("hidden")
        url = text_of(item.get("permalink_url")) or post_url
        return Mention(
            platform="facebook", platform_id=graph_id(item.get("id")), kind=kind, text=text_of(item.get("message")),
            created_at=moment or self.context.now, author_handle=name, author_name=name,
            author_url=f"https://www.facebook.com/{author_id}" if author_id else "", url=url, in_reply_to=in_reply_to,
            raw={"graph": "comment" if kind == "reply" else "post", "id": graph_id(item.get("id")), "thread": thread,
                 "permalink": url},
            flags=flags,
        )

    async def verify(self) -> str:
        page = await self.graph.call("GET", f"/{self.source.page_id}", {"fields": "name"}, "pages_show_list")
        return text_of(page.get("name") if isinstance(page, dict) else None) or self.source.page_id

    async def text_limit(self) -> int:
        return TEXT_LIMIT

    def reply_text(self, target: ReplyTarget, text: str) -> str:
        """What `reply` posts, as written; asked before any draft is kept, so what cannot be answered leaves nothing pending."""
        raw = target.raw or {}
        if raw.get("graph") == "rating" and not raw.get("id"):
            raise UsageError(_("{source}: this recommendation came without its story, so cmday cannot answer it; "
                               "answer it on the Page's Reviews tab").format(source=self.graph.label))
        return text

    def _answered(self, target: ReplyTarget) -> str:
        # Facebook threads one level deep: a reply to a reply is a comment on the comment above it.
        return (target.raw or {}).get("thread") or target.platform_id

    async def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> Sent:
        """POST /{comment-id}/comments (or /{post-id}/comments for a visitor post, a recommendation's story) once, as the Page."""
        self.reply_text(target, text)
        answer = await self.graph.call("POST", f"/{quote(self._answered(target), safe='')}/comments", {"message": text},
                                       "pages_manage_engagement")
        return Sent(graph_id(answer.get("id") if isinstance(answer, dict) else None), (target.raw or {}).get("permalink", ""))

    async def set_hidden(self, target: ReplyTarget, hidden: bool) -> None:
        """POST /{comment-id}?is_hidden=true|false (Comment reference, "Updating"; a visitor's post takes the same
        field); Meta answers `{"success": true}`."""
        if (target.raw or {}).get("graph") == "rating":
            raise UsageError(_("{source}: a recommendation cannot be hidden; Meta lets a Page report it on its "
                               "Reviews tab").format(source=self.graph.label))
        answer = await self.graph.call("POST", f"/{quote(target.platform_id, safe='')}",
                                       {"is_hidden": "true" if hidden else "false"}, "pages_manage_engagement")
        refused_unless_success(self.graph.label, answer)

    async def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str, since: datetime) -> Sent | None:
        """A comment by the Page under the same thread since `since`: this text first, else one written by hand."""
        by_hand = None
        async for comments, _after in self.graph.pages(
            f"/{quote(self._answered(target), safe='')}/comments", {"fields": COMMENT_FIELDS, "order": "reverse_chronological"},
            "pages_read_engagement",
        ):
            for comment in comments:
                moment = parse_time(comment.get("created_time"))
                if not self._by_page(comment) or (moment and moment < since - CLOCK_SKEW):
                    continue
                sent = Sent(graph_id(comment.get("id")), text_of(comment.get("permalink_url")))
                if " ".join(text_of(comment.get("message")).split()) == " ".join(text.split()):
                    return sent
                by_hand = by_hand or sent
        return by_hand
