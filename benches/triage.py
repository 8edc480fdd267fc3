"""Triage speed: classifying 100,000 mentions against a protocol of 200 rules (mentions per second).

Run: .venv/bin/python benches/triage.py   (prints figures; not a timed test)
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cmday.mention import Mention
from cmday.models import Project
from cmday.protocol import load_protocol
from cmday.triage import Triage

WORDS = "coffee latte shop order service card machine milk oat sunday open price refund cold late great love thanks".split()


def big_protocol(folder: Path) -> Path:
    """The shipped protocol plus 200 extra rules (words and patterns) spread over the categories."""
    rng = random.Random(7)
    lines = []
    for _index in range(200):
        category = rng.choice(["complaint", "question", "request", "praise", "spam", "crisis"])
        lines.append(f"[categories.{category}]") if f"[categories.{category}]" not in lines else None
    body = {c: [] for c in ["complaint", "question", "request", "praise", "spam", "crisis"]}
    for index in range(200):
        body[rng.choice(list(body))].append(f"word{index} {rng.choice(WORDS)}")
    text = "".join(f"[categories.{c}]\nwords = {words!r}\n\n".replace("'", '"') for c, words in body.items())
    path = folder / "big.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    rng = random.Random(1)
    now = datetime.now(UTC)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))) for _ in range(2000)]
    project = Project.model_validate({"project": {"name": "Acme", "slug": "acme"}, "listen": {"urgent": ["allergy", "refund"]}})
    with tempfile.TemporaryDirectory() as folder:
        protocol = load_protocol(big_protocol(Path(folder)), Path(folder))
    rules = sum(len(c.rule.words) + len(c.rule.patterns) for c in protocol.categories)
    triage = Triage.for_project(project, protocol)
    mentions = [Mention("mastodon", str(i), "mention", texts[i % len(texts)], now) for i in range(100_000)]
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for mention in mentions:
            triage.apply(mention)
        runs.append(time.perf_counter() - start)
    median = statistics.median(runs)
    print(f"protocol: {rules} words and patterns in {len(protocol.categories)} categories")
    print(f"triage of 100,000 mentions: median {median:.2f} s, {100_000 / median:,.0f} mentions/s")


if __name__ == "__main__":
    main()
