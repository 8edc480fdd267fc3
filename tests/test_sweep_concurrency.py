"""A sweep fetches many sources at once, every brand's together, as many as cmday.toml's `fetch_concurrency` allows."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from cmday.protocol import load_protocol
from cmday.store import Store
from cmday.sync import fetch_project
from cmday.workspace import load_workspace
from tests.cli_runner import run
from tests.support.platform_server import PlatformServer, Reply

FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>alerts</title><id>tag:t,{n}</id><updated>2026-11-22T08:00:00Z</updated>
<entry><id>tag:t,{n}-1</id><title>Acme news</title><link href="https://news.example/{n}"/><updated>2026-11-22T07:00:00Z</updated>
<content type="html">story</content></entry></feed>"""
SOURCES = 6


def slow_feeds(server: PlatformServer) -> list[int]:
    """Feeds that each take 0.2 s; returns a list whose one number becomes the most answered at once."""
    lock, busy, most = threading.Lock(), [0], [0]

    def answer(n: int):
        def handler(_request) -> Reply:
            with lock:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
            time.sleep(0.2)
            with lock:
                busy[0] -= 1
            return Reply(200, FEED.format(n=n), {"Content-Type": "application/atom+xml"})

        return handler

    for n in range(SOURCES):
        server.route("GET", f"/feeds/{n}", answer(n))
    return most


def sweep(tmp_path: Path, server: PlatformServer, config: str) -> None:
    root = tmp_path / "ws"
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text(config, encoding="utf-8")
    sources = "".join(f'[[sources]]\nid = "feed-{n}"\nplatform = "rss"\nurl = "{server.url}/feeds/{n}"\n\n' for n in range(SOURCES))
    (root / "projects" / "acme.toml").write_text(f'[project]\nname = "Acme"\nslug = "acme"\n\n{sources}', encoding="utf-8")
    workspace = load_workspace(root)
    store = Store(tmp_path / "state.sqlite3")
    try:
        report = fetch_project(store, workspace, workspace.projects["acme"], load_protocol())
    finally:
        store.close()
    assert [r.error for r in report.results] == [None] * SOURCES
    assert sum(r.new for r in report.results) == SOURCES


@pytest.mark.parametrize("config,most", [("", SOURCES), ("fetch_concurrency = 2\n", 2), ("fetch_concurrency = 1\n", 1)])
def test_a_sweep_fetches_as_many_sources_at_once_as_the_workspace_allows(tmp_path, platform_server, config, most):
    seen = slow_feeds(platform_server)
    sweep(tmp_path, platform_server, config)
    assert seen[0] == most


BRANDS = ("acme", "bolt", "cafe", "dune")
DELAY = 1.0  # each feed answers after this long: one brand after another would take len(BRANDS) times it


def test_every_brand_is_fetched_at_the_same_time_and_a_failing_source_stops_no_other_brand(tmp_path, platform_server):
    root = tmp_path / "ws"
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text('owner = "Ana"\n', encoding="utf-8")
    for brand in BRANDS:
        feeds = []
        for n in range(2):
            platform_server.route("GET", f"/{brand}/{n}", Reply(200, FEED.format(n=f"{brand}-{n}"), {"Content-Type": "application/atom+xml"}, delay=DELAY))
            feeds.append(f'[[sources]]\nid = "alerts-{n}"\nplatform = "rss"\nurl = "{platform_server.url}/{brand}/{n}"\n')
        if brand == "acme":  # its platform fails after the same wait
            platform_server.route("GET", "/acme/broken", Reply(500, "Internal Server Error", delay=DELAY))
            feeds.append(f'[[sources]]\nid = "broken"\nplatform = "rss"\nurl = "{platform_server.url}/acme/broken"\n')
        (root / "projects" / f"{brand}.toml").write_text(f'[project]\nname = "{brand.title()}"\n\n' + "\n".join(feeds), encoding="utf-8")

    start = time.monotonic()
    ran = run("fetch", "--workspace", str(root), "--json")
    elapsed = time.monotonic() - start

    assert ran.exit_code == 0, ran.stderr
    fetched = json.loads(ran.stdout)
    assert [(e["project"], e["source"]) for e in fetched["errors"]] == [("acme", "broken")]
    stored = {brand: sorted(m["source"] for m in fetched["mentions"] if m["project"] == brand) for brand in BRANDS}
    assert stored == {brand: ["alerts-0", "alerts-1"] for brand in BRANDS}
    assert elapsed < DELAY * (len(BRANDS) - 1.5), elapsed  # together: about DELAY; one brand after another: 4 x DELAY
