"""Sending at most once, for replies and posts alike: a lock while in flight, and the platform asked before any resend."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cmday.errors import CmdayError, ExitCode
from cmday.i18n import _
from cmday.sources.base import AnswerLost, Sent

if TYPE_CHECKING:
    from cmday.store import Store

# After a lost answer, one more try, once the platform said it does not hold the post. The wait lets a
# server that was still working on the first request finish it, so that looking finds it.
ATTEMPTS = 2
WAIT_BEFORE_LOOKING = 1.0


class NotSent(CmdayError):
    """A reply or post did not go out, or cmday cannot tell whether it did; it stays pending, never resent blindly."""

    exit_code = ExitCode.NOT_SENT


@dataclass
class Delivery:
    sent: Sent
    found: bool  # the platform already held it: an earlier attempt went through


@contextmanager
def in_flight(store: Store, name: str, busy: Callable[[], CmdayError]) -> Iterator[None]:
    """Hold `name`'s send lock for the whole send, or raise `busy()` when another cmday holds it.

    The lock is the store's (`Store.send_lock`): it goes when its process does, even on SIGKILL, so a
    pending send left by a killed cmday can be taken at once, while one that is still on its way is
    never taken by a second cmday.
    """
    with store.send_lock(name) as held:
        if not held:
            raise busy()
        yield


async def deliver(
    post: Callable[[], Awaitable[Sent]],
    find: Callable[[], Awaitable[Sent | None]],
    earlier_attempt: bool,
) -> Delivery:
    """Post once. When an earlier attempt may have reached the platform, or an answer is lost, look first.

    A lost answer (timeout, cut connection, 5xx) may hide a stored post, and some servers ignore
    Idempotency-Key: so the platform is asked, and only when it says it holds nothing is the post
    tried once more. When it cannot be asked, nothing is sent again; the caller keeps the send pending.
    """
    if earlier_attempt:
        found = await find()
        if found is not None:
            return Delivery(found, True)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return Delivery(await post(), False)
        except AnswerLost:
            await asyncio.sleep(WAIT_BEFORE_LOOKING)
            found = await find()
            if found is not None:
                return Delivery(found, True)
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def not_sent(error: CmdayError, pending_hint: str) -> NotSent:
    """The send's error as a NotSent, saying that nothing is resent blindly."""
    if isinstance(error, NotSent):
        return error
    if isinstance(error, AnswerLost):
        return NotSent(
            _("perhaps not sent: {reason}; cmday could not tell whether the platform stored it").format(reason=error.message),
            hint=pending_hint,
        )
    return NotSent(_("not sent: {reason}").format(reason=error.message), hint=error.hint or pending_hint)


def when_text(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "?"
