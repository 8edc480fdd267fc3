"""A command's session: the state file opened only when needed, closed whole, shared safely with a second cmday."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from cmday.mention import Mention
from cmday.session import Session
from cmday.store import Store
from tests.cli_runner import run

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def two_mentions(cmday_home: Path) -> list[int]:
    store = Store(cmday_home / "state.sqlite3")
    try:
        store.save_batch("acme", "m", "mastodon", [Mention("mastodon", str(i), "mention", f"hola {i}", NOW) for i in (1, 2)], None, NOW)
        return sorted(m.id for m in store.mentions("acme", states=None))
    finally:
        store.close()


def states(workspace: Path) -> dict[int, str]:
    ran = run("inbox", "--state", "all", "--workspace", str(workspace), "--json")
    return {m["id"]: m["state"] for m in json.loads(ran.stdout)["mentions"]}


def test_a_command_that_needs_no_state_creates_no_state_file(workspace: Path, cmday_home: Path):
    ran = run("lint", "Thanks for writing!", "--workspace", str(workspace))
    assert ran.exit_code == 0, ran.stderr
    assert not (cmday_home / "state.sqlite3").exists()


def test_after_a_command_the_state_file_holds_everything_on_its_own_and_is_private(workspace: Path, cmday_home: Path):
    first, _second = two_mentions(cmday_home)
    assert run("mark", str(first), "answered", "--workspace", str(workspace)).exit_code == 0
    state = cmday_home / "state.sqlite3"
    # closed whole: no -wal or -shm beside it, so a copy of the one file is a complete backup
    assert not state.with_name("state.sqlite3-wal").exists() and not state.with_name("state.sqlite3-shm").exists()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    with sqlite3.connect(state) as copy:
        assert copy.execute("SELECT state FROM mentions WHERE id = ?", (first,)).fetchone() == ("answered",)


def test_two_cmday_at_once_each_see_what_the_other_stored(workspace: Path, cmday_home: Path):
    first, second = two_mentions(cmday_home)
    session = Session(workspace)  # one cmday, still running
    try:
        session.store.set_state(first, "answered", session.now)
        ran = run("mark", str(second), "ignored", "--why", "spam", "--workspace", str(workspace))  # a second, meanwhile
        assert ran.exit_code == 0, ran.stderr
        assert session.store.mention(second).state == "ignored"  # the first reads what the second wrote, not a stale copy
    finally:
        session.close()
    assert states(workspace) == {first: "answered", second: "ignored"}


def test_a_second_cmday_waits_for_the_one_writing_instead_of_failing(workspace: Path, cmday_home: Path):
    first, _second = two_mentions(cmday_home)
    writing = threading.Event()

    def another_cmday_writing() -> None:
        db = sqlite3.connect(cmday_home / "state.sqlite3", isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        writing.set()
        time.sleep(1.0)
        db.execute("COMMIT")
        db.close()

    other = threading.Thread(target=another_cmday_writing)
    other.start()
    writing.wait(5)
    started = time.monotonic()
    ran = run("mark", str(first), "answered", "--workspace", str(workspace))
    waited = time.monotonic() - started
    other.join()
    assert ran.exit_code == 0, ran.stderr
    assert waited >= 0.5  # it waited for the other writer ...
    assert states(workspace)[first] == "answered"  # ... and its own write is kept


def test_the_demo_never_touches_your_own_state(cmday_home: Path):
    assert run("morning", "--demo").exit_code == 0  # its sweep brings the demo's mentions
    mentions = json.loads(run("inbox", "--demo", "--json").stdout)["mentions"]
    assert run("mark", str(mentions[0]["id"]), "answered", "--demo").exit_code == 0
    assert not (cmday_home / "state.sqlite3").exists()
    demo = Session(demo=True)
    try:
        assert demo.state_path.is_relative_to(cmday_home / "demo") and demo.outbox.is_relative_to(cmday_home / "demo")
        assert demo.store.mention(mentions[0]["id"]).state == "answered"
    finally:
        demo.close()
