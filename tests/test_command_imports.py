"""What `cmday check --offline` and `cmday inbox` load before doing their work: each module a command never uses
costs every run of it (issue #21: the inbox's target is under 300 ms on 100,000 mentions)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cmday.mention import Mention
from cmday.store import Store

# Printed when the command has finished, so what it loaded on the way counts, not only what the app imports.
LOADED_AT_EXIT = """
import atexit, sys
atexit.register(lambda: print("LOADED " + " ".join(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["cmday", *sys.argv[1:]]
from cmday.cli.app import main
main()
"""

# Network and sending code (an offline command reads only the state), logging (only --debug logs), statistics
# (only `close` takes a median: it brings decimal and fractions).
NEVER_OFFLINE = {"httpx", "asyncio", "cmday.http", "cmday.sync", "cmday.sources.base", "cmday.publishing", "cmday.sending", "logging",
                 "statistics"}
# The inbox lists mentions: it matches no crisis and shows no checklist.
NEVER_IN_INBOX = NEVER_OFFLINE | {"cmday.triage", "cmday.checklists", "cmday.calendar"}


def loaded_by(workspace: Path, *args: str) -> tuple[str, set[str]]:
    ran = subprocess.run([sys.executable, "-c", LOADED_AT_EXIT, *args, "--workspace", str(workspace)], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "100"}, check=False)
    assert ran.returncode == 0, ran.stderr
    modules = next(line for line in ran.stderr.splitlines() if line.startswith("LOADED ")).split()[1:]
    return ran.stdout, set(modules)


def with_open_mentions(workspace: Path, cmday_home: Path) -> Path:
    now = datetime.now(UTC)
    store = Store(cmday_home / "state.sqlite3")
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", str(i), "mention", f"refund please {i}", now - timedelta(minutes=i))
                                                for i in range(3)], None, now)
    store.close()
    return workspace


def test_the_inbox_loads_no_network_code_no_crisis_matching_and_no_checklists(workspace: Path, cmday_home: Path):
    shown, loaded = loaded_by(with_open_mentions(workspace, cmday_home), "inbox")
    assert "refund please 0" in shown
    assert {"cmday.routine", "cmday.store.sqlite"} <= loaded  # what it does use: the check below would not notice a rename
    assert loaded & NEVER_IN_INBOX == set()


def test_an_offline_check_loads_no_network_code_logging_or_statistics(workspace: Path, cmday_home: Path):
    shown, loaded = loaded_by(with_open_mentions(workspace, cmday_home), "check", "--offline")
    assert "refund please 0" in shown
    assert {"cmday.triage", "cmday.checklists"} <= loaded  # it does show the crisis banner and the checklist
    assert loaded & NEVER_OFFLINE == set()
