"""The Bluesky adapter: an AT Protocol session, the account's notifications and keyword searches as mentions, and posting."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.sources.base import FetchContext
from cmday.sources.bluesky.entities import GET_PROFILE, Profile
from cmday.sources.bluesky.fetch import Reading
from cmday.sources.bluesky.send import Sending
from cmday.sources.bluesky.settings import BlueskySource
from cmday.sources.bluesky.xrpc import Xrpc

# -- the adapter ------------------------------------------------------------------------------


class BlueskyAdapter(Reading, Sending, Xrpc):
    """One Bluesky account: its notifications first, then each search, newest pages first, down to the marks; and posting.

    Reading (fetch), Sending (send) and the session every call needs (xrpc) are its halves; this holds what they share.
    """

    def __init__(self, source: BlueskySource, context: FetchContext) -> None:
        self.source = source
        self.context = context
        self.base = f"{source.service.rstrip('/')}/xrpc/"
        self._session_key = f"bluesky-session:{context.project_slug}:{source.id}"
        self._logged_in_again = False
        self._marks: dict[str, Any] = {}

    async def _profile(self) -> Profile:
        session = await self._session()
        payload = await self._call(GET_PROFILE, {"actor": session.did})
        try:
            return Profile.model_validate(payload)
        except ValidationError:
            raise SourceError(_("{nsid} answered without a profile cmday can read").format(nsid=GET_PROFILE)) from None

