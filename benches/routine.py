"""Speed of the routine: `cmday --help` against importing Typer and Rich, and `cmday check` on a big state.

Run: .venv/bin/python benches/routine.py   (prints medians; not a timed test)
"""

from __future__ import annotations

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
RUNS = 15


def median_seconds(argv: list[str], env: dict[str, str], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_state(home: Path, workspace: Path, count: int) -> None:
    from cmday.mention import Mention
    from cmday.store import Store

    (workspace / "projects").mkdir(parents=True)
    (workspace / "cmday.toml").write_text('timezone = "Europe/Madrid"\n', encoding="utf-8")
    (workspace / "projects" / "acme.toml").write_text('[project]\nname = "Acme"\n', encoding="utf-8")
    store = Store(home / "state.sqlite3")
    rng = random.Random(1)
    now = datetime.now(UTC)
    categories = ["question", "praise", "complaint", "mention", "spam"]
    batch = []
    for index in range(count):
        at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
        category = rng.choice(categories)
        batch.append(Mention("mastodon", str(index), "mention", f"mention number {index}", at, author_handle=f"@u{index % 500}",
                             category=category, urgent=category == "complaint", sla_due=at + timedelta(hours=2)))
    store.save_batch("acme", "m", "mastodon", batch, None, now)
    # most of history is answered, as in a real account
    store.answer_many([(m.id, m.created_at) for m in store.mentions("acme", states=None) if m.id % 20 != 0])
    store.close()


def main() -> None:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode kept, not recompiled every run
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        env["CMDAY_HOME"] = str(home)
        baseline = median_seconds([str(BIN / "python"), "-c", "import typer, rich.console"], env)
        help_time = median_seconds([str(BIN / "cmday"), "--help"], env)
        print(f"python -c 'import typer, rich.console': median {baseline * 1000:.0f} ms")
        print(f"cmday --help:                           median {help_time * 1000:.0f} ms  (ratio {help_time / baseline:.2f}x, target <= 1.5x)")
        subprocess.run([str(BIN / "cmday"), "morning", "--demo"], env=env, stdout=subprocess.DEVNULL, check=True)
        demo = median_seconds([str(BIN / "cmday"), "check", "--demo"], env)
        print(f"cmday check --demo:                     median {demo * 1000:.0f} ms")
        workspace = Path(folder) / "ws"
        big_home = Path(folder) / "big"
        build_state(big_home, workspace, 10_000)
        env["CMDAY_HOME"] = str(big_home)
        big = median_seconds([str(BIN / "cmday"), "check", "--workspace", str(workspace)], env)
        print(f"cmday check, 10,000 mentions (500 open): median {big * 1000:.0f} ms  (target < 300 ms)")


if __name__ == "__main__":
    main()
