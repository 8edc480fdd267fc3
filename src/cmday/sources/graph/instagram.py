"""The Instagram source: comments on the account's recent media, replies to them, the posts it is tagged in, and answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from cmday.errors import UsageError
from cmday.i18n import _
from cmday.mention import Mention
from cmday.sources.base import Batch, FetchContext, ReplyTarget, Sent
from cmday.sources.graph.api import (
    GraphClient,
    GraphError,
    cursor_since,
    graph_id,
    items,
    next_cursor,
    parse_time,
    refused_unless_success,
    text_of,
    unread_note,
)
from cmday.sources.graph.token import checked_token, cursor_token, token_notes

RECENT_MEDIA = 25  # the account's newest posts whose comments are read on every fetch
TEXT_LIMIT = 2200  # an Instagram comment's length limit
CLOCK_SKEW = timedelta(minutes=5)
REPLY_FIELDS = "id,text,timestamp,username,hidden"
COMMENT_FIELDS = f"id,text,timestamp,username,hidden,like_count,replies{{{REPLY_FIELDS}}}"  # 25 replies; `rest_of` the others


class InstagramAdapter:
    """Reads one professional account's comments through the Graph API and answers them as replies."""

    uses_network = True

    def __init__(self, source: Any, context: FetchContext) -> None:
        self.source = source
        self.context = context
        self.graph = GraphClient(source, context, "Instagram")
        self._username: str | None = None

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        """One batch per media read, with the cursor unchanged; the last, empty batch moves it to the newest comment.

        So a fetch cut off halfway (an expired token, a rate limit) keeps what it stored and reads it all
        again next time: a comment is stored once per id, so nothing comes in twice and nothing is skipped.
        """
        since = cursor_since(cursor)
        newest = since
        own = (await self.username()).lower()
        token = await checked_token(self.graph, "instagram", cursor_token(cursor), self.context.now)
        notes = token_notes(self.graph.label, self.source.token_expires, token, self.context.now)
        media_path = f"/{self.source.ig_user_id}/media"
        async for media_page, _after in self.graph.pages(
            media_path, {"fields": "id,caption,permalink,timestamp,comments_count"}, "instagram_basic", max_pages=1,
        ):
            for media in media_page[:RECENT_MEDIA]:
                if media.get("comments_count") == 0:
                    continue
                mentions: list[Mention] = []
                path = f"/{quote(graph_id(media['id']), safe='')}/comments"
                async for comments, _next in self.graph.pages(path, {"fields": COMMENT_FIELDS}, "instagram_manage_comments"):
                    for comment in comments:
                        replies, more = await self.graph.rest_of(
                            comment.get("replies"), f"/{quote(graph_id(comment['id']), safe='')}/replies",
                            {"fields": REPLY_FIELDS}, "instagram_manage_comments")
                        if more:
                            notes = notes + [unread_note(self.graph.label, len(replies), text_of(media.get("permalink")))]
                        for mention in self._from_comment(comment, media, own, replies):
                            if since is None or mention.created_at > since - CLOCK_SKEW:
                                mentions.append(mention)
                                newest = max(newest, mention.created_at) if newest else mention.created_at
                yield Batch(mentions, cursor, notes=notes)
                notes = []
        try:
            tagged = await self._tagged(since)
        except GraphError as error:  # tags need more than comments do: the comments read still count
            tagged, notes = [], notes + [error.message]
        for mention in tagged:
            newest = max(newest, mention.created_at) if newest else mention.created_at
        yield Batch(tagged, next_cursor(newest, token), notes=notes)

    async def _tagged(self, since: datetime | None) -> list[Mention]:
        """Posts by others the account is tagged in (`/{ig-user-id}/tags`): the first page is enough to notice them."""
        own = (await self.username()).lower()
        found = []
        async for page, _after in self.graph.pages(
            f"/{self.source.ig_user_id}/tags", {"fields": "id,caption,permalink,timestamp,username"}, "instagram_basic",
            max_pages=1,
        ):
            for media in page:
                moment = parse_time(media.get("timestamp"))
                if since is not None and moment is not None and moment <= since - CLOCK_SKEW:
                    continue
                caption = text_of(media.get("caption"))
                found.append(self._mention(
                    "mention", media, caption, moment, text_of(media.get("permalink")),
                    None, {"graph": "tag", "id": graph_id(media.get("id")), "permalink": text_of(media.get("permalink")),
                           # only a post whose caption @mentions the account can be answered (IG User Mentions)
                           "caption_mention": bool(own) and f"@{own}" in caption.lower()},
                ))
        return found

    def _from_comment(self, comment: dict[str, Any], media: dict[str, Any], own: str,
                      replies: list[dict[str, Any]]) -> list[Mention]:
        permalink = text_of(media.get("permalink"))
        media_id = graph_id(media.get("id"))
        comment_id = graph_id(comment.get("id"))
        found = []
        if text_of(comment.get("username")).lower() != own or not own:
            found.append(self._mention(
                "reply", comment, text_of(comment.get("text")), parse_time(comment.get("timestamp")), permalink,
                media_id, {"graph": "comment", "id": comment_id, "media_id": media_id, "parent_id": None,
                           "permalink": permalink},
            ))
        for reply in replies:
            if own and text_of(reply.get("username")).lower() == own:
                continue  # the brand's own answers are not for the inbox
            found.append(self._mention(
                "reply", reply, text_of(reply.get("text")), parse_time(reply.get("timestamp")), permalink,
                comment_id, {"graph": "comment", "id": graph_id(reply.get("id")), "media_id": media_id,
                             "parent_id": comment_id, "permalink": permalink},
            ))
        return found

    def _mention(self, kind: str, item: dict[str, Any], text: str, moment: datetime | None, url: str,
                 in_reply_to: str | None, raw: dict[str, Any]) -> Mention:
        username = text_of(item.get("username"))
        flags = []
        if moment is None:
            flags.append("no-date")
        if not username:
            flags.append("no-author")
        if item.get("hidden") is True:
            flags.append("hidden")
        return Mention(
            platform="instagram", platform_id=graph_id(item.get("id")), kind=kind, text=text,
            created_at=moment or self.context.now, author_handle=f"@{username}" if username else "",
            author_name=username, author_url=f"https://www.instagram.com/{quote(username)}/" if username else "",
            url=url, in_reply_to=in_reply_to, raw=raw, flags=flags,
        )

    async def username(self) -> str:
        if self._username is None:
            account = await self.graph.call("GET", f"/{self.source.ig_user_id}", {"fields": "username"}, "instagram_basic")
            self._username = text_of(account.get("username") if isinstance(account, dict) else None)
        return self._username

    async def verify(self) -> str:
        return "@" + (await self.username() or self.source.ig_user_id)

    async def text_limit(self) -> int:
        return TEXT_LIMIT

    def reply_text(self, target: ReplyTarget, text: str) -> str:
        """What `reply` posts, as written (a reply sits under its comment: no @name in front); asked before any draft
        is kept, so a post Instagram lets no app answer is refused here, with nothing left pending."""
        raw = target.raw or {}
        if raw.get("graph") == "tag" and not raw.get("caption_mention"):
            raise UsageError(
                _("{source}: Instagram lets no app comment on a post the account is only tagged in (its caption does not "
                  "@mention it); answer it on Instagram: {link}").format(source=self.graph.label, link=raw.get("permalink") or "-"),
                hint=_("then `cmday mark` it answered"),
            )
        if raw.get("graph") not in ("comment", "tag"):
            raise UsageError(_("{source}: only comments and posts that @mention the account can be answered from cmday; "
                               "answer this one on Instagram").format(source=self.graph.label))
        return text

    def _comment_to_answer(self, target: ReplyTarget) -> str:
        """Instagram threads one level deep: a reply to a reply goes under the comment it belongs to."""
        raw = target.raw or {}
        return raw.get("parent_id") or target.platform_id

    async def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> Sent:
        """POST /{ig-comment-id}/replies once, or, on someone's post that @mentions the account in its caption,
        POST /{ig-user-id}/mentions with its media_id (IG User Mentions reference); the answer's id is the reply's."""
        self.reply_text(target, text)
        raw = target.raw or {}
        if raw.get("graph") == "tag":
            answer = await self.graph.call("POST", f"/{self.source.ig_user_id}/mentions",
                                           {"media_id": target.platform_id, "message": text}, "instagram_manage_comments")
        else:
            answer = await self.graph.call("POST", f"/{quote(self._comment_to_answer(target), safe='')}/replies",
                                           {"message": text}, "instagram_manage_comments")
        return Sent(graph_id(answer.get("id") if isinstance(answer, dict) else None), raw.get("permalink", ""))

    async def set_hidden(self, target: ReplyTarget, hidden: bool) -> None:
        """POST /{ig-comment-id}?hide=true|false (IG Comment reference, "Updating"); Meta answers `{"success": true}`."""
        if (target.raw or {}).get("graph") != "comment":
            raise UsageError(_("{source}: only comments can be hidden; a post the account is tagged in belongs to "
                               "its author").format(source=self.graph.label))
        answer = await self.graph.call("POST", f"/{quote(target.platform_id, safe='')}",
                                       {"hide": "true" if hidden else "false"}, "instagram_manage_comments")
        refused_unless_success(self.graph.label, answer)

    async def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str, since: datetime) -> Sent | None:
        """A reply by the account under the comment (or on the post that @mentions it) since `since`: this text first,
        else one written by hand."""
        own = (await self.username()).lower()
        if (target.raw or {}).get("graph") == "tag":
            answers = await self._comments_on_mentioning_post(target.platform_id)
        else:
            answers = []
            async for replies, _after in self.graph.pages(
                f"/{quote(self._comment_to_answer(target), safe='')}/replies", {"fields": "id,text,timestamp,username"},
                "instagram_manage_comments",
            ):
                answers.extend(replies)
        by_hand = None
        for reply in answers:
            moment = parse_time(reply.get("timestamp"))
            if text_of(reply.get("username")).lower() != own or (moment and moment < since - CLOCK_SKEW):
                continue
            sent = Sent(graph_id(reply.get("id")), (target.raw or {}).get("permalink", ""))
            if " ".join(text_of(reply.get("text")).split()) == " ".join(text.split()):
                return sent
            by_hand = by_hand or sent
        return by_hand

    async def _comments_on_mentioning_post(self, media_id: str) -> list[dict[str, Any]]:
        """The comments on someone's post that @mentions the account, read as the account may read them:
        `GET /{ig-user-id}?fields=mentioned_media.media_id({id}){comments{...}}` (IG User Mentioned Media reference)."""
        if not media_id.isdigit():
            raise GraphError(_("{source}: the post's id {id!r} is not one Meta gave").format(source=self.graph.label, id=media_id))
        answer = await self.graph.call(
            "GET", f"/{self.source.ig_user_id}",
            {"fields": f"mentioned_media.media_id({media_id}){{comments.limit(50){{id,text,timestamp,username}}}}"},
            "instagram_manage_comments")
        media = answer.get("mentioned_media") if isinstance(answer, dict) else None
        return items(media.get("comments")) if isinstance(media, dict) else []
