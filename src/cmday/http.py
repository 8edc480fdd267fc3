"""The shared HTTP layer every adapter uses: retries, size cap, and platform faults as one-line errors."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from cmday import __version__
from cmday.errors import SourceError
from cmday.i18n import _
from cmday.sources.base import AnswerLost, AuthenticationFailed

log = logging.getLogger("cmday.http")

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_UPLOAD_BYTES = 40 * 1024 * 1024  # the largest file a platform takes (Mastodon video); images are far below
RETRY_STATUSES = (429, 502, 503, 504)
MAX_RETRIES = 3
MAX_RETRY_WAIT_SECONDS = 30.0
MAX_REDIRECTS = 5
SAFE_METHODS = ("GET", "HEAD")  # the only requests that may follow a redirect to another origin
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


class _CertificatesWhenNeeded(httpx.AsyncBaseTransport):
    """httpx's own transport, made for https only on the first https request: loading the system's
    certificate authorities costs a check ~30 ms, which a sweep of plain-http (loopback) servers never needs."""

    def __init__(self) -> None:
        self._by_scheme: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        transport = self._by_scheme.get(scheme)
        if transport is None:
            # verify=False is no weaker for plain http, which has no certificate to check
            transport = self._by_scheme[scheme] = httpx.AsyncHTTPTransport(verify=scheme == "https")
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._by_scheme.values():
            await transport.aclose()


class HttpClient:
    """One AsyncClient for a whole sweep; every request goes through `request`."""

    def __init__(
        self,
        timeout: float = 20.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_retry_wait: float = MAX_RETRY_WAIT_SECONDS,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.max_retry_wait = max_retry_wait
        self.max_upload_bytes = max_upload_bytes
        if transport is None and not urllib.request.getproxies():
            transport = _CertificatesWhenNeeded()  # with a proxy set, httpx's own transports go through it
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,  # followed in `_send`, which decides what may go where
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )
        self.requests_sent = 0
        self._sent = asyncio.Event()  # set, and replaced, as each request has left

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def until_requests_sent(self, count: int) -> None:
        """Wait until `count` requests have been sent whole: a sweep starts its workers once its requests are out."""
        while self.requests_sent < count:
            await self._sent.wait()

    async def _trace(self, event: str, _info: dict) -> None:
        """httpcore's account of a request's steps (its `trace` extension): counts the requests sent whole."""
        if event.endswith(".send_request_body.complete"):  # http11. and http2. alike
            self.requests_sent += 1
            sent, self._sent = self._sent, asyncio.Event()
            sent.set()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        data: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        retry_on: tuple[int, ...] = RETRY_STATUSES,
    ) -> Response:
        """Send, retrying 429/5xx-gateway answers with backoff that honours Retry-After, within a bound.

        A POST that may have created something passes `retry_on=(429,)`: a 502 can come after the platform
        stored the post, and only the send gate (cmday.sending), which asks the platform first, may repeat it.
        """
        uploading = len(content or b"") + sum(len(part[1]) for part in (files or {}).values())
        if uploading > self.max_upload_bytes:  # refused before a byte leaves: the platform would refuse it anyway
            raise SourceError(_("{url}: the upload is {size} bytes, over cmday's limit of {limit}").format(
                url=_short(url), size=uploading, limit=self.max_upload_bytes))
        waited = 0.0
        for attempt in range(MAX_RETRIES + 1):
            response = await self._send(method, url, params=params, headers=headers, json_body=json_body,
                                        content=content, files=files, data=data)
            if response.status in retry_on and attempt < MAX_RETRIES:
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
            # Multipart (`files`, `data`) and raw bytes (`content`) for uploads; the same redirect rules hold.
            request = self._client.build_request(method, url, params=kwargs.get("params"), headers=headers, json=json_body,
                                                 content=kwargs.get("content"), files=kwargs.get("files"),
                                                 data=kwargs.get("data"), extensions={"trace": self._trace})
            streamed = await self._follow(request)
            try:
                declared = streamed.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                    raise SourceError(_too_big(url, self.max_body_bytes))
                body = bytearray()
                async for chunk in streamed.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > self.max_body_bytes:
                        raise SourceError(_too_big(url, self.max_body_bytes))
                return Response(streamed.status_code, streamed.headers, bytes(body), str(streamed.url))
            finally:
                await streamed.aclose()
        except httpx.ConnectTimeout:
            raise SourceError(_("{url} did not answer in time").format(url=_short(url))) from None
        except httpx.TimeoutException:
            raise AnswerLost(_("{url} did not answer in time").format(url=_short(url))) from None
        except httpx.ConnectError as error:
            raise SourceError(_("cannot connect to {url}: {reason}").format(url=_short(url), reason=_reason(error))) from None
        except httpx.LocalProtocolError:
            # Its message quotes the offending header, and that header is usually the token.
            raise SourceError(
                _("cmday could not send its request to {url}: a header holds characters HTTP does not allow "
                  "(a damaged token?)").format(url=_short(url)),
                hint=_("log in again (`cmday auth SOURCE`), or set the token anew"),
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as error:
            raise AnswerLost(
                _("{url} broke off its answer: {reason}").format(url=_short(url), reason=_reason(error))
            ) from None
        except httpx.HTTPError as error:
            raise SourceError(_("request to {url} failed: {reason}").format(url=_short(url), reason=_reason(error))) from None

    async def _follow(self, request: httpx.Request) -> httpx.Response:
        """Send, following redirects: a request with a body or a method that changes things never leaves its origin.

        A GET or HEAD may go to another origin, without the headers that carry credentials. A login
        (`createSession` with identifier and password) answered by a 307 elsewhere is refused, not resent.
        """
        for _hop in range(MAX_REDIRECTS + 1):
            response = await self._client.send(request, stream=True)
            following = response.next_request
            if following is None:
                return response
            await response.aclose()
            if _origin(following.url) != _origin(request.url):
                if request.method not in SAFE_METHODS:
                    raise SourceError(
                        _("{url} redirected a {method} request to another host ({target}); cmday does not send "
                          "credentials or data there").format(
                            url=_short(str(request.url)), method=request.method, target=_origin(following.url)
                        ),
                        hint=_("if that host is the platform's real address, write it in the source's settings instead"),
                    )
                for name in SECRET_HEADERS:
                    following.headers.pop(name, None)
            log.debug("redirected to %s", _short(str(following.url)))
            request = following
        raise SourceError(_("{url} redirected more than {count} times").format(url=_short(str(request.url)), count=MAX_REDIRECTS))


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
    error_type = AnswerLost if response.status >= 500 else SourceError
    return error_type(_("{url} answered {status}{detail}").format(url=shown, status=response.status, detail=detail))


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


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


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
