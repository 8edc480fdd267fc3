"""A big sweep parses its feeds in worker processes (cmday.workers): the same mentions, whatever becomes of a worker."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from cmday import workers
from cmday.errors import SourceError
from cmday.http import HttpClient
from cmday.i18n import set_language
from cmday.protocol import load_protocol
from cmday.sources.feed.adapter import parse_feed
from cmday.store import Store
from cmday.sync import fetch_project
from cmday.workers import WorkerPool
from cmday.workspace import load_workspace
from tests.conftest import RECORDED_FIXTURES
from tests.support.platform_server import Reply

FEEDS = sorted((RECORDED_FIXTURES / "rss").rglob("*.xml"))
SOURCES = 16  # a worker's worth (cmday.workers.SOURCES_PER_WORKER)
ATOM = {"Content-Type": "application/atom+xml"}
FEED_MODULE = ("cmday.sources.feed.adapter",)
SWEPT_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

needs_two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="on one core a sweep parses in its own process")


def worker_processes(parent: int) -> list[int]:
    """Running `python -m cmday.worker` children of `parent` (zombies are ended ones)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == parent and state != "Z" and b"cmday.worker" in command:
            found.append(int(entry.name))
    return found


def a_workspace_of_feeds(tmp_path: Path, server) -> Path:
    root = tmp_path / "ws"
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text("", encoding="utf-8")
    sources = []
    for n in range(SOURCES):
        server.route("GET", f"/feeds/{n}", Reply(200, FEEDS[n % len(FEEDS)].read_bytes(), ATOM))
        sources.append(f'[[sources]]\nid = "feed-{n}"\nplatform = "rss"\nurl = "{server.url}/feeds/{n}"\n')
    (root / "projects" / "acme.toml").write_text('[project]\nname = "Acme"\nslug = "acme"\n\n' + "\n".join(sources), encoding="utf-8")
    return root


def stored(path: Path) -> tuple[list[tuple], list[str]]:
    """The mentions, and their states apart: two sources with the same story link to whichever stored it first."""
    store = Store(path)
    try:
        mentions = store.mentions("acme", states=None)
    finally:
        store.close()
    fields = sorted(
        (m.source_id, m.platform, m.platform_id, m.author_handle, m.author_name, m.text, m.url, m.created_at, m.language,
         m.category, m.priority, m.urgent)
        for m in mentions
    )
    return fields, sorted(m.state for m in mentions)


@needs_two_cores
def test_a_big_sweep_parses_in_worker_processes_and_stores_what_cmday_would_parse_itself(tmp_path, platform_server):
    root = a_workspace_of_feeds(tmp_path, platform_server)
    workspace = load_workspace(root)
    seen_working: list[int] = []

    def progress(_project: str, _source: str, event: str) -> None:
        if event == "done":
            seen_working.extend(worker_processes(os.getpid()))

    store = Store(tmp_path / "with-workers.sqlite3")
    try:
        with time_machine.travel(SWEPT_AT, tick=False):  # entries without a date take the sweep's time: the same in both
            report = fetch_project(store, workspace, workspace.projects["acme"], load_protocol(), progress=progress)
    finally:
        store.close()
    assert seen_working, "no worker process was running while the feeds were parsed"
    assert worker_processes(os.getpid()) == []  # every worker ended with the sweep

    logging.getLogger("cmday").setLevel(logging.DEBUG)  # as under --debug: parsed in cmday's own process
    try:
        store = Store(tmp_path / "in-process.sqlite3")
        try:
            with time_machine.travel(SWEPT_AT, tick=False):
                report_in_process = fetch_project(store, workspace, workspace.projects["acme"], load_protocol())
        finally:
            store.close()
    finally:
        logging.getLogger("cmday").setLevel(logging.NOTSET)
    in_workers, in_process = stored(tmp_path / "with-workers.sqlite3"), stored(tmp_path / "in-process.sqlite3")
    assert len(in_workers[0]) > SOURCES
    assert in_workers == in_process
    # the recorded empty document is no feed: said the same from a worker, the others are not held up by it
    errors = [(r.source_id, r.error, r.notes, r.counts) for r in report.results]
    assert errors == [(r.source_id, r.error, r.notes, r.counts) for r in report_in_process.results]
    assert sum(bool(r.error) for r in report.results) == sum("empty_document" in f.name for f in FEEDS) * 2


def big_feed(entries: int) -> bytes:
    items = "".join(
        f"<entry><id>tag:big,{i}</id><title>Acme news {i}</title><link href=\"https://news.example/{i}\"/>"
        f"<updated>2026-11-22T07:00:00Z</updated><content type=\"html\">story {i}</content></entry>"
        for i in range(entries)
    )
    return f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>big</title>{items}</feed>'.encode()


def test_a_worker_killed_in_the_middle_of_a_feed_costs_time_not_mentions():
    body = big_feed(3000)  # long enough to be killed in the middle of
    expected = parse_feed(body, url="https://news.example/feed", headers=ATOM)

    async def sweep():
        async with WorkerPool(1, preload=FEED_MODULE) as pool:
            assert await pool.started() == 1
            parsing = asyncio.create_task(pool.run(parse_feed, body, url="https://news.example/feed", headers=ATOM))
            await asyncio.sleep(0.15)
            [worker] = worker_processes(os.getpid())
            os.kill(worker, signal.SIGKILL)
            return await parsing

    parsed = asyncio.run(sweep())
    assert [m.platform_id for m in parsed.mentions] == [m.platform_id for m in expected.mentions]
    assert [m.text for m in parsed.mentions] == [m.text for m in expected.mentions]
    assert len(parsed.mentions) == 3000


def test_a_sweeps_workers_start_once_its_requests_are_sent(platform_server, monkeypatch):
    """On a small machine two interpreters starting at once held back the sending of the sweep's requests."""
    monkeypatch.setattr(workers, "START_AFTER_AT_MOST_SECONDS", 30.0)  # only the requests may start them here
    platform_server.route("GET", "/feed", Reply(200, big_feed(1), ATOM, delay=0.2))

    async def sweep() -> tuple[list[int], int]:
        async with HttpClient() as http, WorkerPool(1, FEED_MODULE, start_after=lambda: http.until_requests_sent(2)) as pool:
            await asyncio.sleep(0.5)
            before_the_requests = worker_processes(os.getpid())
            await asyncio.gather(*(http.request("GET", f"{platform_server.url}/feed") for _ in range(2)))
            return before_the_requests, await asyncio.wait_for(pool.started(), 20)

    before_the_requests, started = asyncio.run(sweep())
    assert before_the_requests == []
    assert started == 1


def test_workers_start_anyway_when_the_sweeps_requests_are_never_sent():
    async def sweep() -> int:
        async with WorkerPool(1, FEED_MODULE, start_after=asyncio.Event().wait) as pool:  # never set
            return await asyncio.wait_for(pool.started(), 20)

    assert asyncio.run(sweep()) == 1


def test_a_feed_that_is_no_feed_is_reported_from_a_worker_as_from_cmday_itself_in_the_users_language():
    set_language("es")
    arguments = dict(url="https://example.com/page?token=s3cret", headers={"Content-Type": "text/html"})
    with pytest.raises(SourceError) as here:
        parse_feed(b"<html><body>hola</body></html>", **arguments)

    async def in_a_worker():
        async with WorkerPool(1, preload=FEED_MODULE) as pool:
            assert await pool.started() == 1  # the call goes to the worker, not to this process
            return await pool.run(parse_feed, b"<html><body>hola</body></html>", **arguments)

    with pytest.raises(SourceError) as there:
        asyncio.run(in_a_worker())
    assert (there.value.message, there.value.hint) == (here.value.message, here.value.hint)
    assert "no es un feed" in there.value.message and "s3cret" not in there.value.message


KILLED_SWEEP = """
import asyncio, sys
from cmday.sources.feed.adapter import parse_feed
from cmday.workers import WorkerPool

async def main():
    async with WorkerPool(2, preload=("cmday.sources.feed.adapter",)) as pool:
        assert await pool.started() == 2
        await asyncio.gather(*(pool.run(parse_feed, b"<rss version='2.0'><channel></channel></rss>", url="https://x.example/")
                               for _ in range(20)))
        print("parsed", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


def test_workers_end_by_themselves_when_cmday_is_killed():
    sweep = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KILLED_SWEEP)], stdout=subprocess.PIPE, text=True)
    try:
        assert sweep.stdout.readline().strip() == "parsed"
        workers = worker_processes(sweep.pid)
        assert len(workers) == 2
        assert all(os.getsid(worker) == worker for worker in workers)  # a session of their own: Ctrl-C reaches only cmday
        sweep.kill()
        sweep.wait()
        deadline = time.monotonic() + 10
        while any(_running(worker) for worker in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_running(worker) for worker in workers)
    finally:
        sweep.kill()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"
