"""Meta's Graph API, shared by the Instagram and Facebook sources: the token, cursor paging, and its errors in the CM's words."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from cmday.errors import SourceError
from cmday.i18n import _, ngettext
from cmday.sources.base import AuthenticationFailed, FetchContext, cursor_fields
from cmday.textsafe import one_line

GRAPH_HOST = "https://graph.facebook.com"
API_VERSION = "v21.0"
PAGE_LIMIT = 50  # items per page: the Graph API's own ceiling for comments is 100, 50 keeps answers small
MAX_PAGES = 10  # per edge and run: a first run on a busy account stays bounded
RATE_LIMITS = (4, 17, 32, 613)  # app, user, page and "calls within a time window" limits
PERMISSION_CODES = (10, 200)
EXPIRED_TOKEN = 190
PERMISSIONS = (
    "instagram_basic", "instagram_manage_comments", "pages_read_engagement", "pages_manage_engagement",
    "pages_show_list", "pages_read_user_content", "pages_manage_metadata",
)


class GraphError(SourceError):
    """The Graph API's own error object (`error.code`, `error.message`): any other refusal."""


def graph_error(source_label: str, status: int, payload: Any, headers: Any, needs: str, now: datetime) -> SourceError:
    """A Graph API error answer as the error the CM can act on: log in again, wait until a time, or grant a permission."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return GraphError(_("{source}: the Graph API answered status {status} without an error cmday can read").format(
            source=source_label, status=status))
    code = error.get("code")
    message = one_line(str(error.get("message") or ""), 200)
    if code == EXPIRED_TOKEN:
        return AuthenticationFailed(
            _("{source}: Meta no longer accepts the access token (expired, revoked or the password changed): "
              "log in again").format(source=source_label),
            hint=_("make a new Page access token (README: Instagram and Facebook) and put it in the source's "
                   "variable, or run `cmday auth`"),
        )
    if code in RATE_LIMITS:
        minutes = regain_minutes(headers)
        if minutes:
            lifts = (now + timedelta(minutes=minutes)).astimezone().strftime("%H:%M")
            return GraphError(
                _("{source}: Meta's rate limit is reached (code {code}); it lifts at about {time}").format(
                    source=source_label, code=code, time=lifts),
                hint=_("fetch again after {time}; what was read is kept").format(time=lifts),
            )
        usage = app_usage(headers)
        return GraphError(
            _("{source}: Meta's rate limit is reached (code {code}, {usage}% of the app's hourly calls used)").format(
                source=source_label, code=code, usage=usage if usage is not None else "?"),
            hint=_("wait an hour and fetch again; what was read is kept"),
        )
    if code in PERMISSION_CODES or (isinstance(code, int) and 200 <= code <= 299):
        named = [p for p in PERMISSIONS if p in message] or [needs]
        return GraphError(
            _("{source}: the token lacks the permission {permission}").format(
                source=source_label, permission=", ".join(named)),
            hint=_("add {permission} to the Meta app's token (README: Instagram and Facebook) and make the "
                   "token again").format(permission=", ".join(named)),
        )
    return GraphError(_("{source}: the Graph API refused the request (code {code}): {message}").format(
        source=source_label, code=code, message=message))


def refused_unless_success(source_label: str, answer: Any) -> None:
    """An update's answer is `{"success": true}`; anything else means Meta did not do it."""
    if not (isinstance(answer, dict) and answer.get("success") is True):
        raise GraphError(_("{source}: Meta did not confirm the change; nothing was changed in cmday").format(
            source=source_label), hint=_("try again in a moment"))


def _json_header(headers: Any, name: str) -> Any:
    try:
        return json.loads(headers.get(name) or "null")
    except ValueError:
        return None


def regain_minutes(headers: Any) -> int | None:
    """The longest `estimated_time_to_regain_access` (minutes) in X-Business-Use-Case-Usage, if Meta gave one."""
    usage = _json_header(headers, "x-business-use-case-usage")
    found = []
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    found.append(int(value))
    return max(found) if found else None


def app_usage(headers: Any) -> int | None:
    """The highest percentage in X-App-Usage (call_count, total_cputime, total_time)."""
    usage = _json_header(headers, "x-app-usage")
    if not isinstance(usage, dict):
        return None
    numbers = [v for v in usage.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    return int(max(numbers)) if numbers else None


def parse_time(value: Any) -> datetime | None:
    """Graph timestamps: `2020-06-01T10:56:52+0000`; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def items(payload: Any) -> list[dict[str, Any]]:
    data = payload.get("data") if isinstance(payload, dict) else None
    return [entry for entry in data if isinstance(entry, dict) and isinstance(entry.get("id"), str | int)] if isinstance(data, list) else []


def after_cursor(payload: Any) -> str | None:
    """The next page's cursor: only when Meta says there is a next page (`paging.next`)."""
    paging = payload.get("paging") if isinstance(payload, dict) else None
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None


def cursor_since(cursor: str | None) -> datetime | None:
    """The newest item a source's earlier fetches stored; None on a first fetch or a damaged cursor."""
    try:
        return datetime.fromisoformat(cursor_fields(cursor)["since"])
    except (ValueError, KeyError, TypeError):
        return None


def next_cursor(newest: datetime | None, token: dict[str, Any] | None) -> str:
    """The cursor a whole fetch ends on: the newest item stored, and what Meta said of the token (cmday.sources.graph.token)."""
    fields: dict[str, Any] = {"since": newest.isoformat()} if newest else {}
    if token:
        fields["token"] = token
    return json.dumps(fields)


class GraphClient:
    """Requests to one Graph API host and version with one token, sent as a header so it never sits in a URL or log."""

    def __init__(self, source: Any, context: FetchContext, platform_name: str) -> None:
        self.source = source
        self.context = context
        self.label = f"{platform_name} {source.id}"
        self.base = f"{source.base_url.rstrip('/')}/{source.api_version}"

    def token(self) -> str:
        token = self.context.secret(self.source.token_env)
        if not token:
            raise AuthenticationFailed(
                _("{source}: no access token").format(source=self.label),
                hint=_("set the variable named in `token_env`, or run `cmday auth {source}`").format(source=self.source.id),
            )
        return token

    async def call(self, method: str, path: str, params: dict[str, Any] | None = None, needs: str = "") -> Any:
        """One request; a Graph error object becomes the CM's error; a POST is never repeated here (cmday.sending does that)."""
        token = self.token()
        response = await self.context.http.request(
            method, self.base + path, params=params,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            expect=(200, 400, 401, 403, 404, 429, 500),
            retry_on=(502, 503, 504) if method == "GET" else (),
        )
        payload = response.json()
        if response.status != 200 or (isinstance(payload, dict) and "error" in payload):
            raise graph_error(self.label, response.status, payload, response.headers, needs, self.context.now)
        return payload

    async def pages(self, path: str, params: dict[str, Any], needs: str, after: str | None = None,
                    max_pages: int = MAX_PAGES) -> AsyncIterator[tuple[list[dict[str, Any]], str | None]]:
        """Each page's items and the cursor after it (None on the last page), from `after` on.

        `paging.next` carries the token in its query: cmday never follows it, only its `after` cursor.
        """
        for _page in range(max_pages):
            query = dict(params, limit=PAGE_LIMIT)
            if after:
                query["after"] = after
            payload = await self.call("GET", path, query, needs)
            after = after_cursor(payload)
            yield items(payload), after
            if after is None:
                return

    async def rest_of(self, edge: Any, path: str, params: dict[str, Any], needs: str,
                      max_pages: int = MAX_PAGES) -> tuple[list[dict[str, Any]], bool]:
        """An edge that came nested in its parent (`replies{...}`, `comments.limit(25){...}`), whole: its first page and
        the pages after it, and whether Meta still had more when `max_pages` ran out."""
        found, after = items(edge), after_cursor(edge)
        if after is None:
            return found, False
        async for page, cursor in self.pages(path, params, needs, after=after, max_pages=max_pages):
            found.extend(page)
            after = cursor
        return found, after is not None


def unread_note(source_label: str, count: int, where: str) -> str:
    """A thread longer than one fetch reads: said, with where to see the rest, rather than dropped in silence."""
    return ngettext(
        "{source}: only the first {count} reply under {where} was read; see the rest on the platform",
        "{source}: only the first {count} replies under {where} were read; see the rest on the platform",
        count,
    ).format(source=source_label, count=count, where=where)


def graph_id(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""

