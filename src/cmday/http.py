"""The shared HTTP layer every adapter uses: retries, size cap, and platform faults as one-line errors."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from cmday import __version__
from cmday.errors import SourceError
from cmday.i18n import _
from cmday.sources.base import AuthenticationFailed

log = logging.getLogger("cmday.http")

MAX_BODY_BYTES = 8 * 1024 * 1024
RETRY_STATUSES = (429, 502, 503, 504)
MAX_RETRIES = 3
MAX_RETRY_WAIT_SECONDS = 30.0
USER_AGENT = f"cmday/{__version__} (+https://github.com/cmday)"
SECRET_HEADERS = ("authorization", "cookie", "x-api-key")


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise SourceError(
                _("{url} answered with malformed JSON ({size} bytes)").format(url=_short(self.url), size=len(self.body))
            ) from None

    @property
    def text(self) -> str:
        return self.body.decode(_charset(self.headers), errors="replace")


def redact(headers: dict[str, str] | httpx.Headers) -> dict[str, str]:
    """Headers safe to log: secrets replaced."""
    return {k: ("***CENSORED***" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


def rate_limit_wait(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds until a rate limit lifts: Retry-After, else RateLimit-Reset / X-RateLimit-Reset.

    The reset headers come as epoch seconds (Bluesky, Mastodon's ISO date aside) or as seconds
    from now (the IETF draft); a small number is read as the latter.
    """
    after = retry_after_seconds(headers.get("retry-after"), now)
    if after is not None:
        return after
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        value = (headers.get(name) or "").strip()
        if not value:
            continue
        if value.replace(".", "", 1).isdigit():
            number = float(value)
            if number < 10**9:
                return number
            return max(number - (now or datetime.now(UTC)).timestamp(), 0.0)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)
    return None


class HttpClient:
    """One AsyncClient for a whole sweep; every request goes through `request`."""

    def __init__(
        self,
        timeout: float = 20.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_retry_wait: float = MAX_RETRY_WAIT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.max_retry_wait = max_retry_wait
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        expect: tuple[int, ...] = (200,),
    ) -> Response:
        """Send, retrying 429/5xx-gateway answers with backoff that honours Retry-After, within a bound."""
        waited = 0.0
        for attempt in range(MAX_RETRIES + 1):
            response = await self._send(method, url, params=params, headers=headers, json_body=json_body)
            if response.status in RETRY_STATUSES and attempt < MAX_RETRIES:
                wait = rate_limit_wait(response.headers)
                wait = wait if wait is not None else 2.0**attempt
                if waited + wait > self.max_retry_wait:
                    break
                waited += wait
                log.debug("retrying %s %s after %.1fs (status %s)", method, _short(url), wait, response.status)
                await asyncio.sleep(wait)
                continue
            break
        if response.status in expect:
            return response
        raise _status_error(response)

    async def _send(self, method: str, url: str, **kwargs: Any) -> Response:
        headers = kwargs.pop("headers") or {}
        json_body = kwargs.pop("json_body")
        log.debug("%s %s headers=%s", method, _short(url), redact(headers))
        try:
            async with self._client.stream(
                method, url, params=kwargs.get("params"), headers=headers, json=json_body
            ) as streamed:
                declared = streamed.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                    raise SourceError(_too_big(url, self.max_body_bytes))
                body = bytearray()
                async for chunk in streamed.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > self.max_body_bytes:
                        raise SourceError(_too_big(url, self.max_body_bytes))
                return Response(streamed.status_code, streamed.headers, bytes(body), str(streamed.url))
        except httpx.TimeoutException:
            raise SourceError(_("{url} did not answer in time").format(url=_short(url))) from None
        except httpx.ConnectError as error:
            raise SourceError(_("cannot connect to {url}: {reason}").format(url=_short(url), reason=_reason(error))) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as error:
            raise SourceError(
                _("{url} broke off its answer: {reason}").format(url=_short(url), reason=_reason(error))
            ) from None
        except httpx.HTTPError as error:
            raise SourceError(_("request to {url} failed: {reason}").format(url=_short(url), reason=_reason(error))) from None


_REFUSED_TOKEN = re.compile(r"\b(invalid|expired|revoked|unknown|bad)\b.*\btoken\b|\btoken\b.*\b(invalid|expired|revoked)\b", re.IGNORECASE)


def _status_error(response: Response) -> SourceError:
    detail = _error_detail(response)
    shown = _short(response.url)
    if response.status in (401, 403) or (response.status == 400 and _REFUSED_TOKEN.search(detail)):
        # Some Mastodon-API servers refuse a revoked or unknown token with 400 `invalid token`, not 401.
        return AuthenticationFailed(
            _("{url} refused the credentials ({status}{detail}); log in again").format(
                url=shown, status=response.status, detail=detail
            ),
            hint=_("check the token or app password, or run `cmday auth SOURCE`"),
        )
    if response.status == 404:
        return SourceError(_("{url} was not found (404{detail})").format(url=shown, detail=detail))
    if response.status == 429:
        wait = rate_limit_wait(response.headers)
        if wait is not None and wait >= 60:
            return SourceError(
                _("{url} is rate-limiting cmday (429{detail}); the limit lifts in {minutes} min").format(
                    url=shown, detail=detail, minutes=round(wait / 60)
                )
            )
        return SourceError(
            _("{url} is rate-limiting cmday (429{detail}); try again later").format(url=shown, detail=detail)
        )
    return SourceError(_("{url} answered {status}{detail}").format(url=shown, status=response.status, detail=detail))


def _error_detail(response: Response) -> str:
    """The platform's own error message, when its body carries one (Mastodon `error`, XRPC `message`)."""
    try:
        payload = json.loads(response.body[:4096])
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(payload, dict):
        for key in ("error_description", "message", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return ": " + value[:200]
    return ""


def _too_big(url: str, limit: int) -> str:
    return _("{url} sent more than {megabytes} MB; refused").format(url=_short(url), megabytes=limit // (1024 * 1024))


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__


def _short(url: str) -> str:
    """A URL without its query string: queries can carry tokens."""
    return url.split("?", 1)[0]


def _charset(headers: httpx.Headers) -> str:
    content_type = headers.get("content-type", "")
    for part in content_type.split(";")[1:]:
        key, _sep, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"
