"""The Mastodon adapter: an account's mentions and DMs, its activity counts, hashtag and keyword listening, and replies and posts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.sources.base import AuthenticationFailed, FetchContext
from cmday.sources.mastodon.entities import CredentialAccount
from cmday.sources.mastodon.fetch import Own, Reading
from cmday.sources.mastodon.send import Sending

# --- The adapter ---------------------------------------------------------------------------------


class MastodonAdapter(Reading, Sending):
    """Fetches one Mastodon account through the client API, stream by stream, each with its own place in the cursor.

    Reading (fetch) and Sending (send) are its halves; this holds what they share: the instance, the token.

    Streams, in order: the notifications, one walk split here into mentions (kind `dm` for direct posts, `reply`
    or `mention`) and counts of favourites, boosts and follows (one request when nothing is new); one hashtag
    timeline per `hashtags` entry, one statuses search per `search` entry (both kind `search`).

    A first run reads newest-first, following the Link header's rel="next", and moves the stream's cursor only
    with its last page: giving up the older pages after a broken run would lose them. Later runs read oldest-first
    with `min_id`, so every page's batch moves the cursor just past what it holds; past MAX_PAGES the next run
    carries on. Listening streams begin with the newest page only (listening starts now, not with a tag's past).
    Search has no Link header and `min_id` only filters it, so it reads newest-first down to the cursor, at most
    SEARCH_PAGES pages; hits beyond that in one interval are given up.

    When notifications fail, the source fails. An instance refusing a listening stream (400, 401, 403, 404,
    422, or 503 after retries: search or tag feeds switched off, a token without the scope, full-text search
    down) only skips that stream, with a note and a `hashtags_refused`/`search_refused` count; an instance
    without full-text search answers empty results, which look like no hits. Transport faults (timeouts, 5xx,
    broken bodies) stop the source as usual, and what was already stored stays stored.
    """

    uses_network = True

    def __init__(self, source: Any, context: FetchContext) -> None:
        self.source = source
        self.context = context
        self.base = source.instance.rstrip("/")
        self.host = urlsplit(self.base).hostname or ""
        self.headers: dict[str, str] = {}
        self._text_limit: int | None = None
        self._own: Own | None = None
        self._account: CredentialAccount | None = None

    def _authorized(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}

    def _token(self) -> str:
        env = self.source.token_env
        token = (self.context.secret(env) or "").strip()
        if not token:
            if env:
                message = _("Mastodon source {source} has no access token: set {env} or run `cmday auth {source}`")
            else:
                message = _("Mastodon source {source} has no access token: run `cmday auth {source}`")
            raise AuthenticationFailed(message.format(source=self.source.id, env=env))
        if not re.fullmatch(r"[\x21-\x7e]+", token):
            # Checked here: an HTTP library's complaint about a header value would quote the token.
            raise AuthenticationFailed(
                _("the access token of Mastodon source {source} holds characters a token cannot have").format(
                    source=self.source.id
                ),
                hint=_("set it again, or run `cmday auth {source}`").format(source=self.source.id),
            )
        return token

    async def _credentials(self) -> CredentialAccount:
        if self._account is not None:  # read once per fetch: the sweep and its account figures share it
            return self._account
        response = await self.context.http.request(
            "GET", self.base + "/api/v1/accounts/verify_credentials", headers=self._authorized()
        )
        try:
            self._account = CredentialAccount.model_validate(response.json())
            return self._account
        except ValidationError:
            raise SourceError(
                _("{host} answered verify_credentials without an account cmday can read").format(host=self.host)
            ) from None

