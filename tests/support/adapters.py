"""Driving one adapter by hand in a test: a fresh HTTP client and context, as reply.send and calendar.publish do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from cmday.http import HttpClient
from cmday.sources.base import FetchContext
from tests.support.platform_server import Request


def run_adapter(adapter_type: type, source: Any, secret: str | None, action: Callable[[Any], Any], now: datetime) -> Any:
    """`action(adapter)` (a coroutine) run to its end; the secret is what the source's variable would hold."""

    async def go() -> Any:
        async with HttpClient(timeout=5) as http:
            context = FetchContext(http=http, secret=lambda _name: secret, workspace_root=Path("."), now=now, project_slug="acme")
            return await action(adapter_type(source, context))

    return asyncio.run(go())


def header(request: Request, name: str) -> str | None:
    """A request header, whatever its case on the wire."""
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)
