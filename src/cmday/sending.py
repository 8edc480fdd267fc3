"""Sending at most once, for replies and posts alike: a lock while in flight, and the platform asked before any resend."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cmday.errors import CmdayError, ExitCode
from cmday.i18n import _
from cmday.sources.base import AnswerLost, Sent

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
def in_flight(state_path: Path, name: str, busy: Callable[[], CmdayError]) -> Iterator[None]:
    """Hold `name`'s send lock for the whole send, or raise `busy()` when another cmday holds it.

    The lock (flock on a file beside the state) is the operating system's: it goes when its process
    does, even on SIGKILL, so a pending send left by a killed cmday can be taken at once, while one
    that is still on its way is never taken by a second cmday.
    """
    folder = state_path.parent / "sending"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(folder / f"{state_path.stem}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _lock(descriptor):
            raise busy()
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _lock(descriptor: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: msvcrt locks a byte range instead
        import msvcrt

        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


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
