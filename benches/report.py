"""Speed of the monthly report: `cmday report` over a 100,000-mention state (six months of a busy brand).

Run: .venv/bin/python benches/report.py   (prints medians; not a timed test)
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
MENTIONS = 100_000
DAYS = 183  # the six months a monthly trend shows
RUNS = 5

PROJECT = """
[project]
name = "Acme"
timezone = "Europe/Madrid"

[routine]
workday_start = "09:00"
workday_end = "18:00"

[[objectives]]
kpi = "response_time_median_minutes"
target = 60

[[objectives]]
kpi = "answered_share"
target = 0.95
"""


def build_state(state: Path, workspace: Path, now: datetime) -> None:
    from cmday.mention import Mention
    from cmday.store import Store

    (workspace / "projects").mkdir(parents=True)
    (workspace / "cmday.toml").write_text('timezone = "Europe/Madrid"\n', encoding="utf-8")
    (workspace / "projects" / "acme.toml").write_text(PROJECT, encoding="utf-8")
    store = Store(state)
    rng = random.Random(1)
    categories = ["question", "praise", "praise", "complaint", "mention", "spam", "request"]
    platforms = ["mastodon", "bluesky", "instagram", "rss"]
    batch = []
    for index in range(MENTIONS):
        at = now - timedelta(minutes=rng.randint(60, DAYS * 24 * 60))
        category = "crisis" if rng.random() < 0.001 else rng.choice(categories)
        batch.append(Mention(rng.choice(platforms), str(index), "mention", f"mention number {index} about the brand", at,
                             author_handle=f"@u{rng.randint(1, 5000)}", category=category, urgent=category == "complaint",
                             sla_due=at + timedelta(hours=2), raw={"favourites_count": rng.randint(0, 40)}))
    store.save_batch("acme", "m", "mastodon", batch, None, now)
    answered = []
    for mention in store.mentions("acme", states=None):
        if mention.id % 20:  # nineteen in twenty answered, within minutes to a day
            answered.append((mention.id, mention.created_at + timedelta(minutes=rng.choice([3, 8, 15, 30, 45, 90, 180, 600, 1500]))))
    store.answer_many(answered)  # one transaction: a hundred thousand would take minutes
    for mention_id in range(1, MENTIONS, 500):
        store.add_escalation(mention_id, "manager", "email", "", now - timedelta(days=mention_id % DAYS), True, "")
    for day in range(DAYS):
        store.set_kpi("acme", "followers.mastodon", (now - timedelta(days=day)).date().isoformat(), 20_000 - day * 7, "api", now)
    store.close()


def median_seconds(action, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        workspace = Path(folder) / "ws"
        now = datetime.now(UTC)
        started = time.perf_counter()
        build_state(home / "state.sqlite3", workspace, now)
        print(f"state: {MENTIONS:,} mentions over {DAYS} days, built in {time.perf_counter() - started:.1f} s")

        from cmday.calendar.plan import load_plan
        from cmday.indicators import period_of
        from cmday.report import build, render_html, render_markdown, speaking
        from cmday.store import Store
        from cmday.workspace import load_workspace

        loaded = load_workspace(workspace)
        project = loaded.projects["acme"]
        zone = loaded.project_zone(project)
        plan = load_plan(loaded, project)
        month = period_of("month", now.astimezone(zone).date()).previous
        store = Store(home / "state.sqlite3")
        try:
            with speaking("en"):
                computed = median_seconds(lambda: build(plan, store, month, now, "en"))
                report = build(plan, store, month, now, "en")
                html_time = median_seconds(lambda: render_html(report))
                md_time = median_seconds(lambda: render_markdown(report))
        finally:
            store.close()
        came = report.indicators.get("mentions_in").value
        print(f"month {month.label}: {came:,} mentions in it")
        print(f"compute (one computation, 6-month trend): median {computed:.2f} s")
        print(f"render HTML: median {html_time * 1000:.0f} ms; render Markdown: median {md_time * 1000:.0f} ms")

        env = {**os.environ, "CMDAY_HOME": str(home)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode kept, not recompiled every run
        argv = [str(BIN / "cmday"), "report", "--workspace", str(workspace), "--month", month.label, "--format", "html", "--out", str(Path(folder) / "r.html")]
        whole = median_seconds(lambda: subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True))
        print(f"cmday report --month {month.label} --format html (whole command): median {whole:.2f} s")


if __name__ == "__main__":
    main()
