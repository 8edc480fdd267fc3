"""RSS and Atom feeds (Google Alerts among them): conditional fetching, lenient parsing, one mention per entry."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.mention import Mention
from cmday.sources.base import Batch, FetchContext, cursor_fields
from cmday.sources.feed import wellformed

log = logging.getLogger("cmday.sources.feed")

SEEN_IDS_KEPT = 500  # Google Alerts feeds hold ~20 entries; this covers weeks of a busy feed
MAX_TEXT_CHARS = 4000  # full-article feeds would otherwise fill the inbox with whole articles
EARLIEST_YEAR, LATEST_YEAR = 1990, 2200  # outside this, a feed's date is noise, not a date

_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|big|cite|code|em|font|i|mark|q|s|small|span|strong|sub|sup|u)\b[^>]*>", re.IGNORECASE
)
_ANY_TAG = re.compile(r"<[a-zA-Z/!][^<>]*>")
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.IGNORECASE)
_GOOGLE_HOST = re.compile(r"(?:^|\.)google(?:\.[a-z]{2,3}){1,2}$")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


@dataclass
class ParsedFeed:
    mentions: list[Mention]
    warnings: int = 0
    detail: str = ""  # what the parser complained about, for --debug


@dataclass
class FeedCursor:
    """What the next fetch needs: the validators for a conditional GET and the entry ids already handed over."""

    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, text: str | None) -> FeedCursor:
        data = cursor_fields(text)
        seen = data.get("seen")
        return cls(
            etag=data.get("etag") if isinstance(data.get("etag"), str) else None,
            last_modified=data.get("last_modified") if isinstance(data.get("last_modified"), str) else None,
            seen=[s for s in seen if isinstance(s, str)] if isinstance(seen, list) else [],
        )

    def dump(self) -> str:
        return json.dumps({"etag": self.etag, "last_modified": self.last_modified, "seen": self.seen})

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class FeedAdapter:
    """Reads one feed URL; a 304 or an unchanged feed hands over nothing new."""

    parses_in_workers = True  # feedparser is pure Python: sixty feeds parsed on one core are most of a sweep

    def __init__(self, source: Any, context: FetchContext) -> None:
        from cmday.secrets import remember_url

        self.source = source
        self.context = context
        remember_url(source.url)  # a private feed's token rides in its query string: never in a log or a payload

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        previous = FeedCursor.load(cursor)
        response = await self.context.http.request(
            "GET", self.source.url, headers=previous.conditional_headers(), expect=(200, 304)
        )
        if response.status == 304:
            return
        # feedparser is pure Python and slow on big feeds: off the event loop, in a worker where the sweep has them
        parsed = await self.context.offload(
            parse_feed, response.body, url=response.url, headers=dict(response.headers.items()), now=self.context.now
        )
        if parsed.warnings:
            log.debug("%s is not a well-formed feed (%s); kept what parsed", _short(response.url), parsed.detail)
        current = [m.platform_id for m in parsed.mentions]
        already = set(previous.seen)
        fresh = [m for m in parsed.mentions if m.platform_id not in already]
        keep = list(dict.fromkeys(current + previous.seen))[:SEEN_IDS_KEPT]
        following = FeedCursor(response.headers.get("etag"), response.headers.get("last-modified"), keep)
        counts = {"feed_warnings": parsed.warnings} if parsed.warnings else {}
        yield Batch(fresh, following.dump(), counts)


def parse_feed(
    body: bytes, *, url: str, headers: Mapping[str, str] | None = None, now: datetime | None = None
) -> ParsedFeed:
    """Mentions from a feed body, as far as it parses; SourceError when it is no feed at all."""
    now = now or datetime.now(UTC)
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    # feedparser copies this base into every entry (`title_detail.base`...): without its query, no token is stored
    response_headers.setdefault("content-location", _short(url))
    document = _read_plain(body, response_headers, url)
    if document is None:
        try:
            document = feedparser.parse(body, response_headers=response_headers)
        except Exception as error:  # feedparser has crashed on inputs its authors never met; treat as no feed
            raise _not_a_feed(url, response_headers, f"{type(error).__name__}") from None
    entries = document.get("entries") or []
    if not document.get("version") and not entries:
        raise _not_a_feed(url, response_headers, str(document.get("bozo_exception") or ""))
    feed = document.get("feed") or {}
    platform = "google-alerts" if _is_google_alerts(url, feed) else "rss"
    language = _language(feed.get("language"))
    mentions = []
    for entry in entries:
        try:
            mention = _mention(entry, platform, language, now)
        except (TypeError, ValueError, AttributeError, KeyError) as error:  # one odd entry must not lose the others
            log.debug("skipped a feed entry: %s", error)
            continue
        if mention is not None:
            mentions.append(mention)
    problem = document.get("bozo_exception")
    # A feed served with a non-XML content type is the server's slip, not something the CM can act on.
    warned = bool(document.get("bozo")) and not isinstance(problem, feedparser.NonXMLContentType)
    return ParsedFeed(mentions, warnings=int(warned), detail=str(problem or ""))


def _read_plain(body: bytes, headers: dict[str, str], url: str) -> Mapping[str, Any] | None:
    """A plain feed read as feedparser reads it, for a sixth of the cost; None: feedparser reads it."""
    try:
        return wellformed.read(body, headers)
    except Exception as error:  # whatever the quick reading trips on, feedparser still reads the feed
        log.debug("%s: left to feedparser (%s)", _short(url), type(error).__name__)
        return None


def _mention(entry: Mapping[str, Any], platform: str, feed_language: str | None, now: datetime) -> Mention | None:
    link = unwrap_redirect(_text_of(entry.get("link")))
    title = plain_text(_text_of(entry.get("title")))
    summary = plain_text(_text_of(entry.get("summary")) or _first_content(entry))
    text = " — ".join(part for part in (title, summary) if part) or link
    if not text:
        return None
    host = _host(link)
    published = _moment(entry.get("published_parsed")) or _moment(entry.get("updated_parsed"))
    platform_id = _text_of(entry.get("id")) or link or _digest(title, _text_of(entry.get("published")), summary)
    detail = entry.get("title_detail")
    language = _language(detail.get("language") if isinstance(detail, Mapping) else None) or feed_language
    return Mention(
        platform=platform,
        platform_id=platform_id,
        kind="alert",
        text=text[:MAX_TEXT_CHARS],
        created_at=published or now,
        author_handle=host,
        author_name=plain_text(_text_of(entry.get("author"))) or host,
        author_url=_site(link),
        url=link,
        language=language,
        raw=_jsonable(entry),
    )


def unwrap_redirect(link: str) -> str:
    """The real target of a `google.com/url?...&url=<target>` redirect (as Google Alerts links are); else the link."""
    try:
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
    except ValueError:
        return link
    if _GOOGLE_HOST.search(host) and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = (query.get(key) or [""])[0]
            if target.startswith(("https://", "http://")):
                return target
    return link


def plain_text(markup: str) -> str:
    """Text without HTML tags or entities, on one line; Google Alerts escapes its markup twice at times."""
    text = _strip_markup(markup)
    if _ANY_TAG.search(text) or _ENTITY.search(text):
        text = _strip_markup(text)
    return " ".join(text.split())


def _strip_markup(markup: str) -> str:
    # Inline tags vanish ("<b>Slack</b>," stays "Slack,"); block tags become a space so words do not glue.
    return html.unescape(_ANY_TAG.sub(" ", _INLINE_TAG.sub("", markup)))


def _is_google_alerts(url: str, feed: Mapping[str, Any]) -> bool:
    feed_id = _text_of(feed.get("id"))
    if feed_id.startswith("tag:google.com,") and "/alerts/" in feed_id:
        return True
    links = feed.get("links") if isinstance(feed.get("links"), list) else []
    candidates = [url] + [_text_of(link.get("href")) for link in links if isinstance(link, Mapping)]
    for candidate in candidates:
        try:
            parts = urlsplit(candidate)
            host = (parts.hostname or "").lower()
        except ValueError:
            continue
        if _GOOGLE_HOST.search(host) and parts.path.startswith("/alerts/"):
            return True
    return False


def _not_a_feed(url: str, headers: Mapping[str, str], detail: str) -> SourceError:
    kind = headers.get("content-type", "").split(";")[0].strip() or _("no content type")
    log.debug("%s: not a feed (%s)", _short(url), detail)
    return SourceError(
        _("{url} is not an RSS or Atom feed (it sent {kind})").format(url=_short(url), kind=kind),
        hint=_("check the source's url; for Google Alerts choose 'Deliver to: RSS feed' and copy the feed link"),
    )


def _first_content(entry: Mapping[str, Any]) -> str:
    content = entry.get("content")
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        return _text_of(content[0].get("value"))
    return ""


def _moment(parsed: Any) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times; anything out of range is no date."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        moment = datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return moment if EARLIEST_YEAR <= moment.year <= LATEST_YEAR else None


def _host(link: str) -> str:
    try:
        host = (urlsplit(link).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _site(link: str) -> str:
    try:
        parts = urlsplit(link)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else ""


def _language(value: Any) -> str | None:
    primary = _text_of(value).split("-")[0].split("_")[0].lower()
    return primary if _LANGUAGE.fullmatch(primary) else None


def _digest(*parts: str) -> str:
    return "h:" + hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:32]


def _text_of(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _jsonable(value: Any) -> Any:
    """The entry as plain JSON: struct_times become ISO instants, anything unknown its text."""
    # Most of an entry is text and feedparser's dicts: those are asked first, and the abstract Mapping
    # (a slow isinstance) only for what is neither. A sweep of sixty feeds converts some thirty thousand values.
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, time.struct_time):  # a tuple: asked before lists and tuples
        moment = _moment(value)
        return moment.isoformat() if moment else None
    if isinstance(value, dict) or isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _short(url: str) -> str:
    """A URL without its query string: private feed URLs can carry tokens there."""
    return url.split("?", 1)[0]
