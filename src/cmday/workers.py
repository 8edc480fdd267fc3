"""Worker processes that take a sweep's pure-Python CPU work (parsing feeds) off its one core.

feedparser spends ~6 ms of pure Python on a 20-entry feed; when sixty feeds answer together, that queue,
in the one interpreter that also triages, stores and talks HTTP, is most of a sweep. A worker is a plain
`python -m cmday.worker` process (not multiprocessing: its spawn re-imports the CLI in every child, and
forking a process that has threads can deadlock) that runs one call at a time, a module-level cmday
function with picklable arguments and result, over its stdin and stdout.

A worker that cannot start, dies or answers what does not unpickle costs time, never a result: the call
runs in this process instead, so it gives the same answer either way. Workers have a session of their own,
so Ctrl-C reaches only cmday, which ends them; they end by themselves when their stdin closes, also when
cmday is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from cmday.worker import FRAME, READY

log = logging.getLogger("cmday.workers")

SOURCES_PER_WORKER = 16  # below this a sweep parses in its own process: a worker's start (~150 ms of CPU) would not pay
MAX_WORKERS = 4
STOP_SECONDS = 2.0
# The longest a pool waits for its `start_after` before it starts its workers anyway.
START_AFTER_AT_MOST_SECONDS = 0.25


def workers_for(sources: int) -> int:
    """How many workers a sweep of `sources` sources gets: none on one core, for a small sweep, or under --debug
    (a worker's log lines would not reach the user's terminal)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)  # a container's share
    if cores < 2 or not sys.executable or logging.getLogger("cmday").isEnabledFor(logging.DEBUG):
        return 0
    # a worker for every core: the sweep's own process waits on the network most of the time
    return max(0, min(cores, MAX_WORKERS, sources // SOURCES_PER_WORKER))


class WorkerLost(Exception):
    """The worker ended or answered nonsense: the call is made in this process instead."""


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def call(self, request: bytes) -> tuple[str, Any]:
        try:
            self.process.stdin.write(FRAME.pack(len(request)) + request)
            await self.process.stdin.drain()
            size = FRAME.unpack(await self.process.stdout.readexactly(FRAME.size))[0]
            outcome = pickle.loads(await self.process.stdout.readexactly(size))
        except (OSError, EOFError, asyncio.IncompleteReadError, pickle.UnpicklingError, struct.error) as error:
            raise WorkerLost(str(error)) from None
        except Exception as error:  # an exception whose class does not rebuild from its pickle, say
            raise WorkerLost(f"{type(error).__name__}: {error}") from None
        if not (isinstance(outcome, tuple) and len(outcome) == 2 and outcome[0] in ("returned", "raised", "unsent")):
            raise WorkerLost("an answer of another shape")
        return outcome

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()


class WorkerPool:
    """Runs calls in up to `size` worker processes; in this process while none of them is ready.

    Use it as an async context manager around the work: entering starts the workers (each imports `preload`
    before it says it is ready, while the sweep waits for its answers), leaving ends them. A call
    waits for a free worker when one is ready: this process has the sweep's own work to do meanwhile.
    With `size` 0 every call runs in a thread of this process, as it would without the pool.

    `start_after`, when given, is awaited (for at most START_AFTER_AT_MOST_SECONDS) before the workers start:
    a sweep passes the moment its requests are out, because on a small machine two interpreters starting
    at once slowed the sending of sixty-four requests, and nothing is parsed before the answers come back.
    """

    def __init__(
        self, size: int, preload: tuple[str, ...] = (), start_after: Callable[[], Awaitable[Any]] | None = None
    ) -> None:
        self.size = size
        self.preload = preload
        self.start_after = start_after
        self._idle: list[_Worker] = []
        self._ready = 0  # started and not lost: busy or idle
        self._every: list[_Worker] = []
        self._starting: list[asyncio.Task] = []
        self._local_busy = False
        self._changed: asyncio.Condition | None = None

    async def __aenter__(self) -> WorkerPool:
        self._changed = asyncio.Condition()
        self._starting = [asyncio.create_task(self._start()) for _ in range(self.size)]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._starting:
            task.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)
        await asyncio.gather(*(self._stop(worker) for worker in self._every), return_exceptions=True)

    async def started(self) -> int:
        """Wait until every worker has started (or could not): how many are ready."""
        await asyncio.gather(*self._starting, return_exceptions=True)
        return self._ready

    async def run(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """`function(*args, **kwargs)`, in a worker when one is ready, else in this process (one call at a time there)."""
        if self.size == 0:
            return await asyncio.to_thread(function, *args, **kwargs)
        request = _request(function, args, kwargs)
        async with self._changed:
            while not self._idle and (self._ready or self._local_busy):
                await self._changed.wait()
            worker = self._idle.pop() if self._idle else None
            if worker is None:  # none ready (starting, or all lost), and this process is free: the call is made here
                self._local_busy = True
        if worker is not None:
            outcome = await self._call(worker, request)
            if outcome is not None and outcome[0] != "unsent":
                kind, value = outcome
                if kind == "raised":
                    raise value
                return value
            async with self._changed:  # lost, or its answer would not pickle: made here, the same call
                while self._local_busy:
                    await self._changed.wait()
                self._local_busy = True
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        finally:
            async with self._changed:
                self._local_busy = False
                self._changed.notify_all()

    async def _call(self, worker: _Worker, request: bytes) -> tuple[str, Any] | None:
        try:
            outcome = await worker.call(request)
        except WorkerLost as error:
            log.debug("a worker was lost (%s); its call is made here", error)
            await self._lose(worker)
            return None
        except BaseException:  # cancelled mid-call (the source's time ran out): what the worker is doing is unknown
            await asyncio.shield(self._lose(worker))
            raise
        async with self._changed:
            self._idle.append(worker)
            self._changed.notify_all()
        return outcome

    async def _lose(self, worker: _Worker) -> None:
        worker.kill()
        async with self._changed:
            self._ready -= 1
            self._changed.notify_all()  # with none ready, calls are made here

    async def _start(self) -> None:
        if self.start_after is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.start_after(), START_AFTER_AT_MOST_SECONDS)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cmday.worker", *self.preload,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                start_new_session=os.name == "posix",
            )
        except OSError as error:
            log.debug("no worker process (%s): this sweep parses in its own", error)
            return
        worker = _Worker(process)
        self._every.append(worker)
        try:
            said = await process.stdout.readexactly(len(READY))
        except asyncio.IncompleteReadError:
            said = b""
        if said != READY:
            worker.kill()
            return
        async with self._changed:
            self._idle.append(worker)
            self._ready += 1
            self._changed.notify_all()

    async def _stop(self, worker: _Worker) -> None:
        process = worker.process
        if process.returncode is None and process.stdin and not process.stdin.is_closing():
            process.stdin.close()  # the worker's signal to end
        try:
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            worker.kill()
            await process.wait()


def _request(function: Callable[..., Any], args: tuple, kwargs: dict) -> bytes:
    from cmday.i18n import active_language

    if not function.__module__.startswith("cmday.") or "." in function.__qualname__:
        raise ValueError(f"a worker runs module-level cmday functions only, not {function.__module__}.{function.__qualname__}")
    return pickle.dumps((function.__module__, function.__qualname__, args, kwargs, active_language()), pickle.HIGHEST_PROTOCOL)
