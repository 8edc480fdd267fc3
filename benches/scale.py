"""Agency scale: twelve brands, five sources each, a year of mentions. `inbox`, `check`, `morning` and `report`
on a 10,000-mention state and on a 1,000,000-mention one, with the same 500 mentions open in both.

Run: .venv/bin/python benches/scale.py [--keep DIR] [--postgres]   (prints medians; not a timed test)
`--keep DIR` builds the states in DIR once (the million takes a few minutes) and reuses them on later runs.
`--postgres` measures a team's shared state instead: a PostgreSQL started as the test suite starts it
(Debian's package), one database per size. SCALE_SIZES=10000,100000 picks other sizes.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
BRANDS = 12
SOURCES = 5
OPEN = 500  # the open queue: what a CM has in front of them, whatever the size of the history
DAYS = 365
RUNS = 5
SIZES = tuple(int(size) for size in os.environ.get("SCALE_SIZES", "10000,1000000").split(","))

PROJECT = """[project]
name = "Brand {n}"
slug = "brand{n}"
timezone = "Europe/Madrid"

[routine]
workday_start = "09:00"
workday_end = "18:00"

[[objectives]]
kpi = "response_time_median_minutes"
target = 60
"""


def build_workspace(root: Path) -> None:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "cmday.toml").write_text('timezone = "Europe/Madrid"\n', encoding="utf-8")
    for n in range(BRANDS):
        (root / "projects" / f"brand{n}.toml").write_text(PROJECT.format(n=n), encoding="utf-8")


def build_state(state: Path | str, count: int, now: datetime) -> None:
    """`count` mentions over a year, spread over the brands and their sources, the newest OPEN still open."""
    from cmday.mention import Mention
    from cmday.store import Store

    store = Store(state)
    rng = random.Random(count)
    categories = ["question", "praise", "praise", "complaint", "mention", "spam", "request"]
    platforms = ["mastodon", "bluesky", "instagram", "rss", "facebook"]
    chunk = 20_000
    for start in range(0, count, chunk):
        batches: dict[tuple[int, int], list[Mention]] = {}
        for index in range(start, min(start + chunk, count)):
            brand, source = rng.randrange(BRANDS), rng.randrange(SOURCES)
            at = now - timedelta(minutes=rng.randint(60, DAYS * 24 * 60))
            category = rng.choice(categories)
            raw = {"favourites_count": rng.randint(0, 40), "account": {"followers_count": rng.randint(0, 9000)}}
            batches.setdefault((brand, source), []).append(Mention(
                platforms[source], str(index), "mention", f"mention number {index} about brand {brand}", at,
                author_handle=f"@u{rng.randint(1, 20_000)}", url=f"https://{platforms[source]}.example/{index}",
                category=category, urgent=category == "complaint", sla_due=at + timedelta(hours=2), raw=raw,
            ))
        for (brand, source), mentions in batches.items():
            store.save_batch(f"brand{brand}", f"s{source}", platforms[source], mentions, None, now)
    # Everything answered some minutes after it came, but the newest OPEN: one transaction for all of them.
    stored = [m for brand in range(BRANDS) for m in store.mentions(f"brand{brand}", states=None)]
    newest = {m.id for m in sorted(stored, key=lambda m: m.created_at, reverse=True)[:OPEN]}
    store.answer_many([(m.id, m.created_at + timedelta(minutes=m.id % 600)) for m in stored if m.id not in newest])
    for day in range(DAYS):
        for brand in range(BRANDS):
            store.set_kpi(f"brand{brand}", "followers.mastodon", (now - timedelta(days=day)).date().isoformat(), 20_000 - day, "api", now)
    store.close()
    if isinstance(state, str):  # PostgreSQL: as a team's state is once autovacuum has been by, minutes after a bulk load
        import psycopg

        with psycopg.connect(state, password=os.environ["CMDAY_STATE_PASSWORD"], autocommit=True) as db:
            db.execute("VACUUM ANALYZE")


def seconds(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    keep = Path(sys.argv[sys.argv.index("--keep") + 1]) if "--keep" in sys.argv else None
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or Path(scratch)
        workspace = folder / "ws"
        build_workspace(workspace)
        now = datetime.now(UTC)
        month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        commands = {
            "inbox": ["inbox"],
            "check --offline": ["check", "--offline"],
            "morning --offline": ["morning", "--offline"],
            f"report -p brand0 --month {month}": ["report", "-p", "brand0", "--month", month, "--format", "html", "--out", str(folder / "r.html")],
        }
        envs = {}
        server = None
        if "--postgres" in sys.argv:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.support.postgres import PASSWORD, Postgres

            server = Postgres()
            server.start()
            os.environ["CMDAY_STATE_PASSWORD"] = PASSWORD  # how cmday reads it here too; never in the URL
        for size in SIZES:
            home = folder / f"home-{size}"
            home.mkdir(parents=True, exist_ok=True)
            state: Path | str = home / "state.sqlite3"
            marker = home / "built.json"
            if server is not None:
                state = server.new_database()
            if server is not None or not marker.is_file() or json.loads(marker.read_text())["day"] != now.date().isoformat():
                for stale in home.glob("state.sqlite3*"):
                    stale.unlink()
                started = time.perf_counter()
                build_state(state, size, now)
                marker.write_text(json.dumps({"day": now.date().isoformat()}))
                print(f"state: {size:,} mentions ({BRANDS} brands x {SOURCES} sources, {DAYS} days, {OPEN} open), "
                      f"built in {time.perf_counter() - started:.0f} s", flush=True)
            envs[size] = {**os.environ, "CMDAY_HOME": str(home), "COLUMNS": "100"}
            if server is not None:
                envs[size] |= {"CMDAY_STATE_URL": str(state), "CMDAY_STATE_PASSWORD": PASSWORD}
            envs[size].pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode kept, not recompiled every run
        # sizes alternate run by run, after one run each that reads the state into the page cache: a busy
        # moment of the machine or a cold cache falls on both sizes, not on one
        times: dict[tuple[int, str], list[float]] = {(size, name): [] for size in SIZES for name in commands}
        for run in range(RUNS + 1):
            for name, words in commands.items():
                for size in SIZES:
                    took = seconds([str(BIN / "cmday"), *words, "--workspace", str(workspace)], envs[size])
                    if run:
                        times[(size, name)].append(took)
        if server is not None:
            server.stop()
        figures = {size: {name: statistics.median(times[(size, name)]) for name in commands} for size in SIZES}
        small, big = SIZES
        print(f"state: {'PostgreSQL' if server is not None else 'SQLite'}")
        for name in commands:
            ratio = figures[big][name] / figures[small][name]
            print(f"cmday {name:<34} {small:>9,}: {figures[small][name] * 1000:5.0f} ms   {big:,}: "
                  f"{figures[big][name] * 1000:5.0f} ms   ratio {ratio:.2f}x  (target <= 1.5x; report < 3 s)")


if __name__ == "__main__":
    main()
