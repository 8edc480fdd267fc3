"""Writing: replies and posts under a record key derived from the idempotency key, images uploaded as blobs first."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import ValidationError

from cmday.errors import SourceError
from cmday.i18n import _, ngettext
from cmday.sources.base import AnswerLost, ReplyTarget, Sent
from cmday.sources.bluesky.entities import (
    CREATE_RECORD,
    EXTERNAL,
    GET_POSTS,
    GET_RECORD,
    MAX_RESOLVED_HANDLES,
    POST,
    RESOLVE_HANDLE,
    TEXT_LIMIT,
    TID_ALPHABET,
    CreatedRecord,
    ParentPost,
    Session,
    StoredRecord,
    _utc_text,
)
from cmday.sources.bluesky.text import facets_for, handles_in, with_link
from cmday.sources.bluesky.xrpc import _xrpc_error, _xrpc_message
from cmday.sources.uploads import file_key


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




class Sending:
    """The writing half of BlueskyAdapter."""

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
        images = [_image(path, alt) for path, alt in zip(media, alt_texts, strict=False)]  # every file checked before the first upload
        if len(images) > MAX_IMAGES:
            raise SourceError(ngettext("Bluesky takes at most {most} image on a post; this one has {count}",
                                       "Bluesky takes at most {most} images on a post; this one has {count}", MAX_IMAGES).format(
                most=MAX_IMAGES, count=len(images)))
        text = with_link(text, link)
        record = self._record(text, await self._resolve(handles_in(text), {}))
        if not images:
            if link:
                card = {"uri": link, "title": _card_title(text, link), "description": ""}
                record["embed"] = {"$type": EXTERNAL, "external": card}
            return await self._create_post(record, idempotency_key)
        # Blobs not referenced by a record are dropped by the PDS: an upload left by a crash is no post.
        # A retry soon after refers to the blobs an earlier attempt uploaded (cmday.sources.uploads).
        send = f"bluesky {self.base} {self.context.project_slug}/{self.source.id}/{idempotency_key}"
        record["embed"] = {"$type": IMAGES, "images": [await self._upload(image, send) for image in images]}
        try:
            sent = await self._create_post(record, idempotency_key)
        except AnswerLost:
            raise  # perhaps posted with these blobs: they stay remembered for the look and the resend
        except SourceError:
            self.context.uploads.forget(send)  # refused (a blob the PDS dropped among the reasons): upload afresh
            raise
        self.context.uploads.forget(send)
        return sent

    async def _upload(self, image: _Image, send: str) -> dict[str, Any]:
        """com.atproto.repo.uploadBlob with the raw bytes, then the app.bsky.embed.images#image that refers to it.

        The blob an earlier attempt of this send uploaded is referred to again while the PDS surely keeps it.
        """
        key = file_key(image.data)
        blob = self.context.uploads.recall(send, key, self.context.now, UPLOADS_REUSED_FOR)
        if not isinstance(blob, dict):
            response = await self._xrpc("POST", UPLOAD_BLOB, content=image.data, content_type=image.mime, retry_on=(429,))
            blob = (response.json() or {}).get("blob") if response.status == 200 else None
            if not isinstance(blob, dict):
                raise SourceError(_("Bluesky refused the image {file}: {detail}").format(file=image.name, detail=_xrpc_message(response)))
            self.context.uploads.keep(send, key, blob, self.context.now)
        entry: dict[str, Any] = {"alt": image.alt, "image": blob}
        if image.width and image.height:
            entry["aspectRatio"] = {"width": image.width, "height": image.height}
        return entry

    async def _parent(self, target: ReplyTarget) -> ParentPost:
        """The answered post as the AppView has it now (app.bsky.feed.getPosts), not as the stored notification
        had it: a post deleted since is not in the answer, and a reply to it would hang under "post not found"
        (Bluesky's PDS takes it all the same)."""
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

def _card_title(text: str, link: str) -> str:
    """The link card's title without fetching the page: the link's host, else the text's first line."""
    host = (urlsplit(link).hostname or "").removeprefix("www.")
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return (host or first_line or link)[:300]


UPLOAD_BLOB = "com.atproto.repo.uploadBlob"
IMAGES = "app.bsky.embed.images"
MAX_IMAGES = 4  # app.bsky.embed.images: maxLength 4
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images#image: the blob's maxSize
# How long a blob no record refers to is surely kept: the PDS drops it "after a short period", unspecified,
# and a createRecord refused for a missing blob makes the next attempt upload it again.
UPLOADS_REUSED_FOR = timedelta(minutes=30)


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
                file=path.name, size=human_size(len(data), kilo=1000), limit=human_size(MAX_IMAGE_BYTES, kilo=1000)),
            hint=_("make the image smaller, then publish again"))
    return _Image(path.name, data, info.mime, info.width, info.height, alt)


