"""Writing: replies and posts sent once (Idempotency-Key), media uploaded first, and earlier attempts found again."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from cmday.errors import SourceError
from cmday.i18n import _, ngettext
from cmday.sources.base import AnswerLost, ReplyTarget, Sent
from cmday.sources.mastodon.entities import (
    Account,
    Context,
    CredentialAccount,
    PostedStatus,
    Status,
    _utc,
)
from cmday.sources.mastodon.text import (
    _acct_of,
    _comparable,
    addressed,
    html_to_text,
    with_link,
)
from cmday.sources.uploads import file_key

DEFAULT_TEXT_LIMIT = 500  # Mastodon's own default, for instances that do not say theirs
CLOCK_SKEW = timedelta(minutes=5)  # the instance's clock and ours may disagree when looking for a post we sent
# From the most public to the most private: a reply never goes further than what it answers.
VISIBILITIES = ("public", "unlisted", "private", "direct")
UPLOADS_REUSED_FOR = timedelta(hours=12)  # Mastodon removes media left unattached after a day



class Sending:
    """The writing half of MastodonAdapter."""

    async def text_limit(self) -> int:
        """The instance's own limit (`configuration.statuses.max_characters`), else Mastodon's default 500.

        Instances older than 4.0 have no /api/v2/instance: their v1 answer carries the same field (3.4+)
        or, on Pleroma and Akkoma, `max_toot_chars`.
        """
        if self._text_limit is None:
            self._text_limit = await self._instance_limit() or DEFAULT_TEXT_LIMIT
        return self._text_limit

    async def _instance_limit(self) -> int | None:
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                response = await self.context.http.request(
                    "GET", self.base + path, headers={"Accept": "application/json"}, expect=(200, 404, 410)
                )
                if response.status != 200:
                    continue
                payload = response.json()
            except SourceError:
                return None  # unreachable or unreadable: the default is a safe guess, not a reason to stop
            limit = _max_characters(payload)
            if limit is not None:
                return limit
        return None

    def reply_text(self, target: ReplyTarget, text: str) -> str:
        """Exactly what a reply posts: `@acct ` in front unless the text names the author (the notification needs it)."""
        original = self._stored_original(target)
        acct = original.account.acct.lstrip("@") if original else _acct_of(target.author_handle, self.host)
        return addressed(text, acct, self.host) if acct else text

    async def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> Sent:
        """A reply to the status `target.platform_id`, addressed to its author, never more public than it."""
        headers = self._authorized()
        original = await self._original(target, headers)
        acct = original.account.acct.lstrip("@")
        status: dict[str, Any] = {
            "status": addressed(text, acct, self.host),
            "in_reply_to_id": original.id,
            "visibility": reply_visibility(original.visibility),
        }
        if original.language:
            status["language"] = original.language
        return await self._post_status(status, idempotency_key, headers)

    async def publish(
        self, text: str, link: str | None, media: list[Path], idempotency_key: str, alts: list[str] | None = None
    ) -> Sent:
        """A new status with the account's default visibility; the link is added when the text does not hold it."""
        headers = self._authorized()
        status: dict[str, Any] = {"status": with_link(text, link)}
        if not media:
            return await self._post_status(status, idempotency_key, headers)
        # Uploads are not posts: one left by a crash is never shown, and the server drops it unattached.
        # A retry attaches those an earlier attempt left (cmday.sources.uploads) rather than uploading again.
        send = f"mastodon {self.base} {self.context.project_slug}/{self.source.id}/{idempotency_key}"
        allowed = await self._allowed_media(media, headers)
        alt_texts = list(alts or []) + [""] * len(allowed)
        status["media_ids"] = [await self._upload(path, headers, alt, send) for path, alt in zip(allowed, alt_texts, strict=False)]
        try:
            sent = await self._post_status(status, idempotency_key, headers)
        except AnswerLost:
            raise  # perhaps posted with these files: they stay remembered for the look and the resend
        except SourceError:
            self.context.uploads.forget(send)  # refused: the next attempt starts afresh
            raise
        self.context.uploads.forget(send)
        return sent

    async def _allowed_media(self, media: list[Path], headers: dict[str, str]) -> list[Path]:
        """The files, once checked against the instance's own limits (GET /api/v2/instance), before any upload."""
        response = await self.context.http.request("GET", self.base + "/api/v2/instance", headers=headers)
        configuration = (response.json() or {}).get("configuration") or {}
        limits = configuration.get("media_attachments") or {}
        most = (configuration.get("statuses") or {}).get("max_media_attachments") or 4
        if len(media) > most:
            raise SourceError(ngettext("{host} takes at most {most} file on a post; this one has {count}",
                                       "{host} takes at most {most} files on a post; this one has {count}", most).format(
                host=self.host, most=most, count=len(media)))
        supported = limits.get("supported_mime_types")
        for path in media:
            data = _read_media(path)
            mime = _media_type(path, data)
            if supported and mime not in supported:
                raise SourceError(_("{host} does not take {kind} files ({file})").format(host=self.host, kind=mime, file=path.name))
            limit = limits.get("image_size_limit") if mime.startswith("image/") else limits.get("video_size_limit")
            if isinstance(limit, int) and len(data) > limit:
                raise SourceError(_("{file} is {size} bytes, over {host}'s limit of {limit}; make it smaller").format(
                    file=path.name, size=len(data), host=self.host, limit=limit))
        return media

    async def _upload(self, path: Path, headers: dict[str, str], alt: str, send: str) -> str:
        """POST /api/v2/media, then wait (bounded) while the server answers 202 and the file is still processing.

        The same file with the same alt text uploaded by an earlier attempt of this send is reused, once
        GET /api/v1/media/:id shows the instance still has it (a 404: it was dropped, and goes up again).
        """
        data = _read_media(path)
        key = file_key(data, alt)
        earlier = self.context.uploads.recall(send, key, self.context.now, UPLOADS_REUSED_FOR)
        if isinstance(earlier, str) and earlier:
            response = await self.context.http.request(
                "GET", self.base + "/api/v1/media/" + quote(earlier, safe=""), headers=headers, expect=(200, 206, 404))
            if response.status != 404:
                return await self._processed(earlier, response, path, headers)
        fields = {"description": alt} if alt else None
        response = await self.context.http.request(
            "POST", self.base + "/api/v2/media", headers=headers, files={"file": (path.name, data, _media_type(path, data))},
            data=fields, expect=(200, 202), retry_on=(429,))
        attachment = response.json() or {}
        media_id = str(attachment.get("id") or "")
        if not media_id:
            raise SourceError(_("{host} took the file {file} but answered without its id").format(host=self.host, file=path.name))
        self.context.uploads.keep(send, key, media_id, self.context.now)
        return await self._processed(media_id, response, path, headers)

    async def _processed(self, media_id: str, response: Any, path: Path, headers: dict[str, str]) -> str:
        """The attachment's id once the instance has processed it (200); 202 and 206 say it is still at work."""
        wait = 0.5
        for _attempt in range(MEDIA_POLLS):
            if response.status == 200:  # 202 from the upload, 206 from the look: still processing
                return media_id
            await asyncio.sleep(wait)
            wait = min(wait * 2, 4.0)
            response = await self.context.http.request(
                "GET", self.base + "/api/v1/media/" + quote(media_id, safe=""), headers=headers, expect=(200, 206))
        raise SourceError(_("{host} is still processing {file}; nothing was posted").format(host=self.host, file=path.name),
                          hint=_("run `cmday publish` again in a minute"))

    async def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str, since: datetime) -> Sent | None:
        """The brand's own reply to the mention from this send, found among the status's context descendants.

        Ours: a reply by the brand's account with this text, posted since `since` (less the clocks' skew).
        Failing that, any reply by the brand's account posted since `since`: written by hand after a failed
        send, it is the answer too, and the customer must not get a second one.
        """
        headers = self._authorized()
        own = await self._credentials()
        path = "/api/v1/statuses/" + quote(target.platform_id, safe="") + "/context"
        response = await self.context.http.request("GET", self.base + path, headers=headers)
        try:
            descendants = Context.model_validate(response.json()).descendants
        except ValidationError:
            raise SourceError(
                _("{host} answered the context of status {id} in a shape cmday cannot read").format(
                    host=self.host, id=target.platform_id
                )
            ) from None
        wanted = _comparable(self.reply_text(target, text))
        by_hand = None
        for item in descendants:
            try:
                status = Status.model_validate(item)
            except ValidationError:
                continue
            if status.in_reply_to_id != target.platform_id or not _is_own(status.account, own):
                continue
            posted = _utc(status.created_at)
            if posted >= since - CLOCK_SKEW and _comparable(html_to_text(status.content)) == wanted:
                return Sent(status.id, status.url or status.uri)
            if posted >= since and by_hand is None:
                by_hand = Sent(status.id, status.url or status.uri)
        return by_hand

    async def find_post(self, text: str, link: str | None, idempotency_key: str, since: datetime) -> Sent | None:
        """The brand's own status with this post's text posted since `since`, from the account's latest statuses."""
        headers = self._authorized()
        own = await self._credentials()
        if not own.id:
            raise SourceError(_("{host} answered verify_credentials without the account's id").format(host=self.host))
        path = "/api/v1/accounts/" + quote(own.id, safe="") + "/statuses"
        response = await self.context.http.request(
            "GET", self.base + path, headers=headers, params={"limit": 40, "exclude_replies": "true"}
        )
        payload = response.json()
        wanted = _comparable(with_link(text, link))
        for item in payload if isinstance(payload, list) else []:
            try:
                status = Status.model_validate(item)
            except ValidationError:
                continue
            if _utc(status.created_at) >= since - CLOCK_SKEW and _comparable(html_to_text(status.content)) == wanted:
                return Sent(status.id, status.url or status.uri)
        return None

    def _stored_original(self, target: ReplyTarget) -> Status | None:
        stored = target.raw.get("status") if isinstance(target.raw, dict) and "type" in target.raw else target.raw
        try:
            status = Status.model_validate(stored)
        except ValidationError:
            return None
        return status if status.id == target.platform_id else None

    async def _original(self, target: ReplyTarget, headers: dict[str, str]) -> Status:
        """The status answered, from the stored payload (a notification or a status), else fetched again."""
        stored = self._stored_original(target)
        if stored is not None:
            return stored
        path = "/api/v1/statuses/" + quote(target.platform_id, safe="")
        response = await self.context.http.request("GET", self.base + path, headers=headers)
        try:
            return Status.model_validate(response.json())
        except ValidationError:
            raise SourceError(
                _("{host} answered status {id} in a shape cmday cannot read").format(host=self.host, id=target.platform_id)
            ) from None

    async def _post_status(self, status: dict[str, Any], idempotency_key: str, headers: dict[str, str]) -> Sent:
        # Mastodon keeps the key an hour: a repeat answers the status the first request created. Not every
        # server does, so nothing repeats this POST blindly: cmday.sending looks at the account first.
        headers = {**headers, "Idempotency-Key": header_key(idempotency_key)}
        response = await self.context.http.request(
            "POST", self.base + "/api/v1/statuses", headers=headers, json_body=status, retry_on=(429,)
        )
        try:
            posted = PostedStatus.model_validate(response.json())
        except ValidationError:
            raise SourceError(
                _("{host} accepted the post but answered without its id; check the account before sending again").format(
                    host=self.host
                )
            ) from None
        return Sent(posted.id, posted.url or posted.uri)


MEDIA_POLLS = 10  # about half a minute of waiting for the server to process a file


def _read_media(path: Path) -> bytes:
    from cmday.files import MEDIA, read_bytes

    return read_bytes(path, MEDIA, error=SourceError)


def _media_type(path: Path, data: bytes) -> str:
    import mimetypes

    from cmday.images import image_info

    info = image_info(data)
    return info.mime if info else (mimetypes.guess_type(path.name)[0] or "application/octet-stream")


def _is_own(account: Account, own: CredentialAccount) -> bool:
    if account.id and own.id:
        return account.id == own.id
    return account.acct.lstrip("@").casefold() == own.acct.lstrip("@").casefold()


def _max_characters(payload: Any) -> int | None:
    candidates: list[Any] = []
    if isinstance(payload, dict):
        configuration = payload.get("configuration")
        statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
        if isinstance(statuses, dict):
            candidates.append(statuses.get("max_characters"))
        candidates.append(payload.get("max_toot_chars"))
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def reply_visibility(original: str) -> str:
    """The original's own visibility (a DM stays a DM); one cmday does not know is answered followers-only."""
    return original if original in VISIBILITIES else "private"


def header_key(key: str) -> str:
    """The idempotency key as a header value: printable ASCII as it is, anything else as its hash."""
    if re.fullmatch(r"[\x21-\x7e]{1,128}", key):
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


