"""Whether links answer: a HEAD request each (GET where HEAD is refused), gathered apart so the calendar's checks stay offline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from cmday.errors import CmdayError
from cmday.i18n import _


def verify_links(urls: Iterable[str], timeout: float = 10.0) -> dict[str, str | None]:
    """HEAD each link (GET when HEAD is refused): URL -> None when it answers below 400, else why not."""
    return asyncio.run(_verify_links(sorted(set(urls)), timeout))


async def _verify_links(urls: list[str], timeout: float) -> dict[str, str | None]:
    from cmday.http import HttpClient  # here: httpx is slow to import, and only `--links` needs it

    answered = tuple(range(100, 600))
    limit = asyncio.Semaphore(8)

    async def one(http: Any, url: str) -> tuple[str, str | None]:
        async with limit:
            try:
                response = await http.request("HEAD", url, expect=answered)
                if response.status in (405, 501):
                    response = await http.request("GET", url, expect=answered)
            except CmdayError as error:
                return url, error.message
            return url, None if response.status < 400 else _("it answers {status}").format(status=response.status)

    async with HttpClient(timeout=timeout, max_retry_wait=3.0) as http:
        return dict(await asyncio.gather(*(one(http, url) for url in urls)))
