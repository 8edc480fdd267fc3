"""Sweep speed: eight and sixty-four sources of one project at once against one slow server, an agency's
twelve brands of five sources in one sweep, storing 50,000 mentions, listing a big inbox.

Run: .venv/bin/python benches/sweep.py   (prints figures; not a timed test)
     .venv/bin/python benches/sweep.py --only inbox   (or --only sweep: one part alone)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmday.mention import Mention  # noqa: E402
from cmday.models import (
    Project,  # noqa: E402
    WorkspaceConfig,  # noqa: E402
)
from cmday.protocol import load_protocol  # noqa: E402
from cmday.store import Store  # noqa: E402
from cmday.sync import fetch_projects  # noqa: E402
from cmday.workspace import Workspace  # noqa: E402
from tests.support.platform_server import PlatformServer, Reply  # noqa: E402

FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>alerts {n}</title><id>tag:bench,{n}</id><updated>2026-11-22T08:00:00Z</updated>
{entries}</feed>"""
ENTRY = (
    "<entry><id>tag:bench,{n}-{i}</id><title>Acme news {i}</title><link href=\"https://news.example/{n}/{i}\"/>"
    "<updated>2026-11-22T07:{m:02d}:00Z</updated><content type=\"html\">story {i}</content></entry>"
)

# Shaped as Google Alerts writes its entries (tests/fixtures/rss/google_alerts): the keyword in bold, a
# redirect link, &nbsp; and, in every other entry, an apostrophe as &#39;, which feedparser's sanitiser reads
ALERT = (
    "<entry><id>tag:google.com,2013:googlealerts/feed:{n}{i:03d}</id>"
    "<title type=\"html\">Report on the &lt;b&gt;Acme&lt;/b&gt; market {i}</title>"
    "<link href=\"https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news.example/{n}/{i}&amp;ct=ga\"></link>"
    "<published>2026-11-22T07:{m:02d}:00Z</published><updated>2026-11-22T07:{m:02d}:00Z</updated>"
    "<content type=\"html\">&lt;b&gt;Acme&lt;/b&gt; {apostrophe} shares rose&amp;nbsp;...</content><author><name></name></author></entry>"
)

FEEDS = 64
BRANDS, PER_BRAND = 12, 5  # a small agency: sixty sources


def serve_feeds() -> None:
    """The slow platform, in a process of its own: in cmday's process its threads would take turns with the
    sweep for the interpreter, and a sweep would be timed with its server. Prints its address, serves until stdin closes."""
    server = PlatformServer().start()
    for n in range(FEEDS):
        entries = "".join(ENTRY.format(n=n, i=i, m=i % 60) for i in range(20))
        server.route("GET", f"/feeds/{n}", Reply(200, FEED.format(n=n, entries=entries), {"Content-Type": "application/atom+xml"}, delay=0.3))
        alerts = "".join(ALERT.format(n=n, i=i, m=i % 60, apostrophe="Acme&amp;#39;s" if i % 2 else "its") for i in range(20))
        server.route("GET", f"/alerts/{n}", Reply(200, FEED.format(n=n, entries=alerts), {"Content-Type": "application/atom+xml"}, delay=0.3))
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


def sweep_seconds(url: str, brands: int, per_brand: int, folder: Path, kind: str = "feeds") -> float:
    """One sweep over `brands` projects of `per_brand` feeds each, as `cmday fetch` runs it for the workspace."""
    projects = [
        Project.model_validate({
            "project": {"name": f"Brand {b}", "slug": f"brand-{b}"},
            "sources": [{"id": f"feed-{n}", "platform": "rss", "url": f"{url}/{kind}/{b * per_brand + n}"} for n in range(per_brand)],
        })
        for b in range(brands)
    ]
    workspace = Workspace(root=folder, config=WorkspaceConfig())
    store = Store(folder / f"sweep-{brands}x{per_brand}-{time.perf_counter_ns()}.sqlite3")
    start = time.perf_counter()
    reports = fetch_projects(store, workspace, [(project, load_protocol()) for project in projects])
    elapsed = time.perf_counter() - start
    assert not [e for r in reports for e in r.errors], [e for r in reports for e in r.errors]
    assert sum(r.new for r in reports) == brands * per_brand * 20
    store.close()
    return elapsed


def main(only: str | None = None) -> None:
    if only in (None, "sweep"):
        sweeps()
    if only in (None, "inbox"):
        store_and_inbox()


def sweeps() -> None:
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the workers as installed: bytecode kept, not compiled at every start
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as folder:
            single = statistics.median(sweep_seconds(url, 1, 1, Path(folder)) for _ in range(5))
            eight = statistics.median(sweep_seconds(url, 1, 8, Path(folder)) for _ in range(5))
            many = statistics.median(sweep_seconds(url, 1, FEEDS, Path(folder)) for _ in range(5))
            agency = statistics.median(sweep_seconds(url, BRANDS, PER_BRAND, Path(folder)) for _ in range(5))
            alerts = statistics.median(sweep_seconds(url, 1, FEEDS, Path(folder), "alerts") for _ in range(5))
        print(f"one source (server answers after 300 ms): median {single * 1000:.0f} ms")
        print(f"eight sources at once:                    median {eight * 1000:.0f} ms  (ratio {eight / single:.2f}x, target <= 1.5x)")
        print(f"sixty-four sources at once:               median {many * 1000:.0f} ms  (ratio {many / single:.2f}x, target <= 3x)")
        print(f"twelve brands of five sources, one sweep: median {agency * 1000:.0f} ms  (ratio {agency / single:.2f}x, target <= 3x)")
        print(f"sixty-four Google Alerts-shaped feeds:    median {alerts * 1000:.0f} ms  (ratio {alerts / single:.2f}x)")
    finally:
        server.stdin.close()
        server.wait()


def store_and_inbox() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "store.sqlite3")
        now = datetime.now(UTC)
        mentions = [Mention("mastodon", str(i), "mention", f"mention {i} about acme", now - timedelta(seconds=i)) for i in range(50_000)]
        start = time.perf_counter()
        for chunk in range(0, len(mentions), 500):
            store.save_batch("bench", "m", "mastodon", mentions[chunk : chunk + 500], str(chunk), now)
        elapsed = time.perf_counter() - start
        print(f"storing 50,000 mentions in batches of 500: {50_000 / elapsed:,.0f} mentions/s")
        more = [Mention("bluesky", str(i), "mention", f"more {i}", now - timedelta(seconds=i)) for i in range(50_000)]
        for chunk in range(0, len(more), 500):
            store.save_batch("bench", "b", "bluesky", more[chunk : chunk + 500], None, now)
        store.answer_many([(m.id, now) for m in store.mentions("bench", states=None) if m.id % 50 != 0])
        store.close()
        ws = Path(folder) / "ws"
        (ws / "projects").mkdir(parents=True)
        (ws / "cmday.toml").write_text("", encoding="utf-8")
        (ws / "projects" / "bench.toml").write_text('[project]\nname = "Bench"\n', encoding="utf-8")
        earlier = time.time() - 3600  # written a while ago, as a CM's files are: cmday.validated remembers them
        for settings in (ws / "cmday.toml", ws / "projects" / "bench.toml"):
            os.utime(settings, (earlier, earlier))
        env = {**os.environ, "CMDAY_HOME": folder}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode kept, not recompiled every run
        os.replace(Path(folder) / "store.sqlite3", Path(folder) / "state.sqlite3")
        cmday = str(Path(sys.executable).parent / "cmday")
        runs = []
        for _ in range(9):
            start = time.perf_counter()
            subprocess.run([cmday, "inbox", "--workspace", str(ws)], env=env, stdout=subprocess.DEVNULL, check=True)
            runs.append(time.perf_counter() - start)
        print(f"cmday inbox on 100,000 mentions (2,000 open): median {statistics.median(runs) * 1000:.0f} ms")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve_feeds()
    elif sys.argv[1:2] == ["--only"] and sys.argv[2:] in (["sweep"], ["inbox"]):
        main(sys.argv[2])
    elif sys.argv[1:]:
        sys.exit("usage: sweep.py [--only sweep|inbox]")
    else:
        main()
