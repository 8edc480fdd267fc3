"""`cmday work` driven through a real pseudo-terminal: keys in, state and the Mastodon server checked after."""

from __future__ import annotations

import html
import os
import pty
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.support.fake_platforms import MastodonInstance
from tests.support.platform_server import Reply

CMDAY = str(Path(sys.executable).parent / "cmday")


def _add(store: Store, platform_id: str, text: str, minutes_ago: int, urgent: bool = False, author: str = "", url: str = "") -> None:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    store.save_batch("acme", "masto", "mastodon", [Mention(
        "mastodon", platform_id, "mention", text, at, author_handle=author or f"@{platform_id}@m.example", url=url,
        category="mention", urgent=urgent, sla_due=at + timedelta(minutes=60),
    )], None, at)


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env={**env, "COLUMNS": "80", "LINES": "24"}, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.seen:
            assert time.monotonic() < deadline, f"never saw {text!r} in {self.seen[-1500:]!r}"
            ready, _w, _x = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    assert self.process.poll() is None or text in self.seen, self.seen[-1500:]

    def send(self, keys: str) -> None:
        time.sleep(0.2)  # the screen is whole before the next key, as a person sees it
        self.seen = ""
        os.write(self.master, keys.encode())


def test_reply_ignore_snooze_and_quit_in_a_real_terminal(workspace: Path, cmday_home: Path, platform_server):
    instance = MastodonInstance(platform_server)
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + f'\n[[sources]]\nid = "masto"\nplatform = "mastodon"\n'
                       f'instance = "{platform_server.url}"\ntoken_env = "ACME_MASTODON_TOKEN"\n', encoding="utf-8")
    store = Store(cmday_home / "state.sqlite3")
    _add(store, "101", "you are the best cafe\n" + "and the croissants are great too " * 120, 50, urgent=True)
    _add(store, "102", "buy followers cheap", 40)
    _add(store, "103", "will you open on sunday", 30)
    _add(store, "104", "nice pictures", 20)
    store.close()
    instance.watch("101")
    # the status answered, as GET /api/v1/statuses/:id returns it (https://docs.joinmastodon.org/entities/Status/; nothing recorded fits)
    platform_server.route("GET", "/api/v1/statuses/101", Reply(200, {
        "id": "101", "uri": "https://m.example/users/fan/statuses/101", "created_at": "2026-12-01T08:00:00.000Z",
        "account": {"id": "7", "acct": "fan@m.example", "username": "fan"}, "content": "<p>you are the best cafe</p>",
        "visibility": "public", "language": "en"}))
    env = {**os.environ, "CMDAY_HOME": str(cmday_home), "ACME_MASTODON_TOKEN": "token-1", "NO_COLOR": "1", "TERM": "xterm"}
    env.pop("CI", None)

    terminal = Terminal([CMDAY, "work", "--workspace", str(workspace), "--offline", "--lang", "en"], env)
    terminal.expect("4 of 4 left")
    terminal.expect("q quit")
    first_screen = terminal.seen.split("\x1b[2J")[-1]
    assert first_screen.count("\n") < 24  # a long mention is cut inside its part of 80x24: the keys stay visible
    assert "\x1b[3" not in first_screen  # NO_COLOR: no colours
    terminal.send("1")  # the first suggested template, through reply.send
    terminal.expect("3 of 4 left")
    terminal.expect("q quit")
    assert "sent: " in terminal.seen  # said on the next screen, not wiped by it
    terminal.send("i")
    terminal.expect("Why ignore it?")
    terminal.send("spam\n")
    terminal.expect("2 of 4 left")
    terminal.send("z")
    terminal.expect("Snooze until")
    terminal.send("2h\n")
    terminal.expect("1 of 4 left")
    terminal.send("q")
    terminal.expect("Done in this session")
    assert terminal.process.wait(30) == 0

    store = Store(cmday_home / "state.sqlite3")
    states = {m.platform_id: (m.state, m.state_reason) for m in store.mentions("acme", states=None)}
    store.close()
    assert states["101"][0] == "answered"
    assert states["102"] == ("ignored", "spam")
    assert states["103"][0] == "snoozed"
    assert states["104"][0] == "open"
    assert len(instance.posts) == 1 and instance.posts[0]["in_reply_to_id"] == "101"


def test_without_a_terminal_it_points_to_inbox_and_reply(workspace: Path, cmday_home: Path):
    ran = subprocess.run([CMDAY, "work", "--workspace", str(workspace), "--offline"], capture_output=True, text=True,
                         env={**os.environ, "CMDAY_HOME": str(cmday_home)}, stdin=subprocess.DEVNULL, timeout=60)
    assert ran.returncode == 2
    assert "cmday inbox" in ran.stderr and "cmday reply" in ran.stderr and len(ran.stderr.strip().splitlines()) == 1


def _mastodon_workspace(workspace: Path, platform_server) -> MastodonInstance:
    instance = MastodonInstance(platform_server)
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + f'\n[[sources]]\nid = "masto"\nplatform = "mastodon"\n'
                       f'instance = "{platform_server.url}"\ntoken_env = "ACME_MASTODON_TOKEN"\n', encoding="utf-8")
    return instance


def _answerable(instance: MastodonInstance, platform_server, status_id: str) -> None:
    instance.watch(status_id)
    # the status answered, as GET /api/v1/statuses/:id returns it (https://docs.joinmastodon.org/entities/Status/)
    platform_server.route("GET", f"/api/v1/statuses/{status_id}", Reply(200, {
        "id": status_id, "uri": f"https://m.example/users/fan/statuses/{status_id}", "created_at": "2026-12-01T08:00:00.000Z",
        "account": {"id": "7", "acct": "fan@m.example", "username": "fan"}, "content": "<p>hello</p>",
        "visibility": "public", "language": "en"}))


def test_back_returns_to_the_mention_before_and_edit_sends_what_the_editor_saved(workspace: Path, cmday_home: Path, platform_server, tmp_path: Path):
    instance = _mastodon_workspace(workspace, platform_server)
    store = Store(cmday_home / "state.sqlite3")
    _add(store, "201", "will you open on sunday", 50, urgent=True)
    _add(store, "202", "nice pictures", 40)
    _add(store, "200", "where is my order", 3 * 24 * 60, author="@201@m.example")  # the same person, three days ago
    store.set_state(next(m.id for m in store.mentions("acme") if m.platform_id == "200"), "answered", datetime.now(UTC))
    store.close()
    _answerable(instance, platform_server, "201")
    # the editor a user would have: it keeps what it was given to start from, then saves the user's own words
    given = tmp_path / "given.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\ncp "$1" {given}\nprintf "Yes, from 10 to 14. See you!\\n" > "$1"\n', encoding="utf-8")
    editor.chmod(0o755)
    env = {**os.environ, "CMDAY_HOME": str(cmday_home), "ACME_MASTODON_TOKEN": "token-1", "NO_COLOR": "1", "TERM": "xterm",
           "EDITOR": str(editor), "VISUAL": str(editor)}
    env.pop("CI", None)

    terminal = Terminal([CMDAY, "work", "--workspace", str(workspace), "--offline", "--lang", "en"], env)
    terminal.expect("q quit")
    assert "@201@m.example" in terminal.seen
    assert "1 earlier from this author · " in terminal.seen and " answered" in terminal.seen
    terminal.send("s")
    terminal.expect("@202@m.example")
    terminal.expect("q quit")
    assert "first mention from this author" in terminal.seen
    terminal.send("b")  # back to the one skipped over: still open, still counted
    terminal.expect("@201@m.example")
    terminal.expect("q quit")
    assert "2 of 2 left" in terminal.seen
    terminal.send("e")
    terminal.expect("1 of 2 left")  # sent, and the next one is on screen
    terminal.send("b")  # back onto the one just answered: the screen says so, and nothing is sent twice
    terminal.expect("replied in this session")
    terminal.expect("q quit")
    terminal.send("1")
    terminal.expect("nothing sent")
    terminal.send(" ")
    terminal.expect("q quit")
    terminal.send("q")
    terminal.expect("Done in this session")
    assert terminal.process.wait(30) == 0

    started_from = given.read_text(encoding="utf-8")
    assert not started_from.startswith("\n") and "# Replying to #" in started_from  # the first template, what it answers below
    assert len(instance.posts) == 1
    assert instance.posts[0]["in_reply_to_id"] == "201" and "Yes, from 10 to 14. See you!" in html.unescape(instance.posts[0]["content"])
    store = Store(cmday_home / "state.sqlite3")
    states = {m.platform_id: m.state for m in store.mentions("acme", states=None)}
    store.close()
    assert states == {"200": "answered", "201": "answered", "202": "open"}


def test_an_editor_left_without_saving_sends_nothing(workspace: Path, cmday_home: Path, platform_server, tmp_path: Path):
    instance = _mastodon_workspace(workspace, platform_server)
    store = Store(cmday_home / "state.sqlite3")
    _add(store, "301", "will you open on sunday", 50)
    store.close()
    _answerable(instance, platform_server, "301")
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\n: > "$1"\n', encoding="utf-8")  # the user empties the text and quits
    editor.chmod(0o755)
    env = {**os.environ, "CMDAY_HOME": str(cmday_home), "ACME_MASTODON_TOKEN": "token-1", "NO_COLOR": "1", "TERM": "xterm",
           "EDITOR": str(editor), "VISUAL": str(editor)}
    env.pop("CI", None)

    terminal = Terminal([CMDAY, "work", "--workspace", str(workspace), "--offline", "--lang", "en"], env)
    terminal.expect("q quit")
    terminal.send("e")
    terminal.expect("1 of 1 left")
    terminal.expect("q quit")
    terminal.send("q")
    terminal.expect("Done in this session: nothing")
    assert terminal.process.wait(30) == 0
    assert instance.posts == []


def test_recategorise_is_stored_and_kept_by_triage_and_open_hands_only_web_links_to_the_browser(workspace: Path, cmday_home: Path, tmp_path: Path):
    store = Store(cmday_home / "state.sqlite3")
    _add(store, "401", "the coffee was cold again", 50, url="https://m.example/@fan/401")
    _add(store, "402", "look at this", 40, url="javascript:alert(1)")
    _add(store, "403", "the coffee was cold too", 30)
    store.close()
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"  # what webbrowser runs for BROWSER: the command, the URL as its argument
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    env = {**os.environ, "CMDAY_HOME": str(cmday_home), "NO_COLOR": "1", "TERM": "xterm", "BROWSER": str(browser)}
    env.pop("CI", None)

    terminal = Terminal([CMDAY, "work", "--workspace", str(workspace), "--offline", "--lang", "en"], env)
    terminal.expect("q quit")
    assert "@401@m.example" in terminal.seen
    terminal.send("o")
    terminal.expect("opened in the browser: https://m.example/@fan/401")
    terminal.expect("q quit")
    terminal.send("c")
    terminal.expect("Category (")
    terminal.send("\n")  # Enter alone: changed my mind, nothing happens
    terminal.expect("q quit")
    assert "error" not in terminal.seen and "mention" in terminal.seen
    terminal.send("c")
    terminal.expect("Category (")
    assert "3 complaint" in terminal.seen
    terminal.send("complaint\n")
    terminal.expect("complaint (set by hand)")  # the same mention, now a complaint
    terminal.expect("q quit")
    assert "3 of 3 left" in terminal.seen and "@401@m.example" in terminal.seen
    terminal.send("s")
    terminal.expect("@402@m.example")
    terminal.expect("q quit")
    terminal.send("o")
    terminal.expect("not a web address")
    terminal.send(" ")
    terminal.expect("q quit")
    terminal.send("q")
    terminal.expect("1 re-categorised")
    assert terminal.process.wait(30) == 0

    assert opened.read_text(encoding="utf-8").splitlines() == ["https://m.example/@fan/401"]
    ran = run("triage", "--workspace", str(workspace), "--offline")  # the protocol's words would make it a mention again
    assert ran.exit_code == 0, ran.stderr
    store = Store(cmday_home / "state.sqlite3")
    by_id = {m.platform_id: m for m in store.mentions("acme", states=None)}
    store.close()
    assert by_id["401"].category == "complaint" and by_id["401"].urgent
    assert by_id["401"].sla_due == by_id["401"].created_at + timedelta(minutes=60)  # the complaint's deadline
    assert by_id["403"].category == "mention"  # the same words elsewhere: the others' triage untouched
