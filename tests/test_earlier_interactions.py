"""The author's earlier interactions with the brand, as `show` and `cmday work` put them beside a mention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _save(store: Store, project: str, platform_id: str, author: str, days_ago: int, text: str) -> int:
    at = NOW - timedelta(days=days_ago)
    store.save_batch(project, "m", "mastodon", [Mention("mastodon", platform_id, "mention", text, at, author_handle=author)], None, at)
    return next(m.id for m in store.mentions(project, states=None) if m.platform_id == platform_id)


def _history(cmday_home: Path) -> int:
    store = Store(cmday_home / "state.sqlite3")
    oldest = _save(store, "acme", "1", "@ana@m.example", 20, "my order never came")
    store.set_state(oldest, "answered", NOW - timedelta(days=19))
    ignored = _save(store, "acme", "2", "@ana@m.example", 9, "follow me back")
    store.set_state(ignored, "ignored", NOW - timedelta(days=9), reason="spam")
    _save(store, "acme", "3", "@bob@m.example", 5, "someone else entirely")
    _save(store, "other", "4", "@ana@m.example", 4, "another brand's mention")
    current = _save(store, "acme", "5", "@ana@m.example", 0, "is the terrace open")
    _save(store, "acme", "6", "@ana@m.example", -1, "written after the one shown")
    store.close()
    return current


def test_show_lists_the_authors_earlier_mentions_here_newest_first_with_state_and_day(workspace: Path, cmday_home: Path):
    current = _history(cmday_home)
    shown = run("show", str(current), "--workspace", str(workspace), "--offline").stdout
    assert "2 earlier from this author" in shown
    lines = shown[shown.index("2 earlier from this author"):].splitlines()[1:3]
    assert "Sat 21 Nov" in lines[0] and "ignored" in lines[0] and "follow me back" in lines[0]
    assert "Tue 10 Nov" in lines[1] and "answered" in lines[1] and "my order never came" in lines[1]
    assert "someone else" not in shown and "another brand" not in shown and "written after" not in shown


def test_show_says_when_the_author_writes_for_the_first_time_in_spanish_too(workspace: Path, cmday_home: Path):
    store = Store(cmday_home / "state.sqlite3")
    first = _save(store, "acme", "new-1", "@new@m.example", 1, "hello")
    store.close()
    assert "first mention from this author" in run("show", str(first), "--workspace", str(workspace), "--offline").stdout
    current = _history(cmday_home)
    shown = run("show", str(current), "--workspace", str(workspace), "--offline", "--lang", "es").stdout
    assert "2 anteriores de este autor" in shown and "ignorada" in shown and "sáb 21 nov" in shown
