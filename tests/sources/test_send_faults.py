"""A reply or a post goes out at most once, whatever happens mid-send: real `cmday` processes killed, answers lost, 502s, races.

The platforms are tests/support/fake_platforms.py on the local server: each stores the POST first and
only then misbehaves, which is where these faults happen in life. Every case ends with exactly one
status on the server. The mentions are recorded notifications (tests/fixtures).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cmday.errors import ExitCode
from cmday.sources.bluesky.fetch import read_notifications
from cmday.sources.bluesky.send import record_key
from cmday.sources.mastodon.fetch import mentions_from_notifications
from cmday.store import Store
from tests.support.fake_platforms import BlueskyPds, MastodonInstance

NOTIFICATIONS_PAGE = "mastodon/responses/mpy_hist_0959c06c_entity_notification_mastodon_social__00__GET_api_v1_notifications__200.json"
BSKY_NOTIFICATIONS = "bluesky/responses/bskyr_n_notifications__00__GET_xrpc_app_bsky_notification_listNotifications__200.json"
BSKY_SESSION = "bluesky/responses/bskyr_repo_auth_direct__00__POST_xrpc_com_atproto_server_createSession__200.json"
REPLY_TO_A_REPLY = "at://did:plc:lprqqpoyjspuma25n5gofocf/app.bsky.feed.post/3lmicbemya22g"
TEXT = "Thanks for telling us, we are on it!"
CMDAY = str(Path(sys.executable).parent / "cmday")
signals = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


class Platform:
    """One platform's fake, the workspace pointing at it, and the mention stored to answer."""

    def __init__(self, name: str, fake: Any, mention_id: int, env: dict[str, str], workspace: Path) -> None:
        self.name, self.fake, self.mention_id, self.env, self.workspace = name, fake, mention_id, env, workspace

    def posts(self) -> int:
        return len(self.fake.posts) if self.name == "mastodon" else len(self.fake.records)

    def cmday(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([CMDAY, *args, "--workspace", str(self.workspace)], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([CMDAY, *args, "--workspace", str(self.workspace)], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def reply(self, text: str = TEXT, *more: str) -> subprocess.CompletedProcess:
        return self.run("reply", str(self.mention_id), "--text", text, "--yes", *more)


def _add_source(workspace: Path, toml: str) -> None:
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + toml, encoding="utf-8")


def mastodon_platform(workspace: Path, cmday_home: Path, server, load, honours_keys: bool) -> Platform:
    fake = MastodonInstance(server, honours_keys=honours_keys)
    _add_source(workspace, f'\n[[sources]]\nid = "masto"\nplatform = "mastodon"\ninstance = "{server.url}"\ntoken_env = "ACME_MASTODON_TOKEN"\n')
    notification = next(n for n in load(NOTIFICATIONS_PAGE) if n["type"] == "mention" and (n["status"] or {}).get("visibility") == "public")
    [mention], _skipped = mentions_from_notifications([notification], "mastodon.social")
    fake.watch(mention.platform_id)
    mention_id = _store(cmday_home, "masto", "mastodon", mention)
    return Platform("mastodon", fake, mention_id, {**os.environ, "CMDAY_HOME": str(cmday_home), "ACME_MASTODON_TOKEN": "token-1"}, workspace)


def bluesky_platform(workspace: Path, cmday_home: Path, server, load) -> Platform:
    fake = BlueskyPds(server, load(BSKY_SESSION))
    _add_source(workspace, f'\n[[sources]]\nid = "bsky"\nplatform = "bluesky"\nservice = "{server.url}"\n'
                           'handle = "bskyr.bsky.social"\npassword_env = "ACME_BSKY"\n')
    notification = next(n for n in load(BSKY_NOTIFICATIONS)["notifications"] if n["uri"] == REPLY_TO_A_REPLY)
    fake.knows(notification)
    [mention] = read_notifications({"notifications": [notification]}, None).mentions
    mention_id = _store(cmday_home, "bsky", "bluesky", mention)
    return Platform("bluesky", fake, mention_id, {**os.environ, "CMDAY_HOME": str(cmday_home), "ACME_BSKY": "app-pass-1"}, workspace)


def _store(cmday_home: Path, source_id: str, platform: str, mention: Any) -> int:
    store = Store(cmday_home / "state.sqlite3")
    store.save_batch("acme", source_id, platform, [mention], None, datetime.now(UTC))
    [stored] = store.mentions("acme")
    store.close()
    return stored.id


@pytest.fixture(params=["mastodon", "bluesky"])
def platform(request, workspace: Path, cmday_home: Path, platform_server, load) -> Platform:
    if request.param == "mastodon":
        return mastodon_platform(workspace, cmday_home, platform_server, load, honours_keys=False)
    return bluesky_platform(workspace, cmday_home, platform_server, load)


def _mention_state(platform: Platform) -> str:
    store = Store(platform.workspace.parent / "cmday-home" / "state.sqlite3")
    try:
        return store.mention(platform.mention_id).state
    finally:
        store.close()


def _wait(condition: Callable[[], bool], process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@signals
def test_a_reply_killed_after_the_platform_stored_it_is_never_posted_again(platform: Platform):
    platform.fake.queue.append("hold")  # stored, then the answer waits while cmday is killed
    process = platform.cmday("reply", str(platform.mention_id), "--text", TEXT, "--yes")
    _wait(platform.fake.stored.is_set, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    platform.fake.release.set()
    assert platform.posts() == 1 and _mention_state(platform) == "open"

    again = platform.reply()

    assert again.returncode == 0, again.stderr
    assert f"already on {platform.name} from an earlier attempt, not posted again" in again.stderr
    assert platform.posts() == 1
    assert _mention_state(platform) == "answered"
    assert platform.reply().returncode == ExitCode.USAGE  # answered: a third run needs --again
    assert platform.posts() == 1


@signals
def test_a_killed_reply_run_again_with_another_text_says_what_is_pending(platform: Platform):
    platform.fake.queue.append("hold")
    process = platform.cmday("reply", str(platform.mention_id), "--text", TEXT, "--yes")
    _wait(platform.fake.stored.is_set, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    platform.fake.release.set()

    other = platform.reply("Something else entirely")
    assert other.returncode == ExitCode.NOT_SENT
    assert "has a reply pending since" in other.stderr and TEXT in other.stderr and "--resume" in other.stderr
    discarded = platform.run("reply", str(platform.mention_id), "--discard", "--text", "Something else entirely", "--yes")
    assert discarded.returncode == 0, discarded.stderr
    assert "not posted again" in discarded.stderr  # the platform holds it: recorded as sent, nothing discarded
    assert platform.posts() == 1 and _mention_state(platform) == "answered"


@pytest.mark.parametrize("fault", ["drop", "502"])
def test_a_reply_stored_then_cut_off_or_502_is_found_instead_of_posted_twice(platform: Platform, fault: str):
    # The Mastodon fake ignores Idempotency-Key: only looking at the thread keeps this to one reply.
    platform.fake.queue.append(fault)

    ran = platform.reply()

    assert ran.returncode == 0, ran.stderr
    assert "not posted again" in ran.stderr
    assert platform.posts() == 1 and _mention_state(platform) == "answered"


def test_a_reply_that_never_reached_the_platform_is_sent_on_the_next_run(platform: Platform, cmday_home: Path):
    store = Store(cmday_home / "state.sqlite3")  # a run killed before its POST left the machine
    store.claim_reply(platform.mention_id, TEXT, "", "key-before-kill", datetime.now(UTC), since=datetime.now(UTC))
    store.close()

    ran = platform.reply()

    assert ran.returncode == 0, ran.stderr
    assert "sent: " in ran.stderr and platform.posts() == 1
    if platform.name == "bluesky":
        assert list(platform.fake.records) == [record_key("key-before-kill")]  # the pending draft's own key


def test_discard_alone_drops_a_pending_reply_the_platform_never_got_and_sends_nothing(platform: Platform, cmday_home: Path):
    store = Store(cmday_home / "state.sqlite3")  # a run killed before its POST left the machine
    store.claim_reply(platform.mention_id, TEXT, "", "key-before-kill", datetime.now(UTC), since=datetime.now(UTC))
    store.close()

    ran = platform.run("reply", str(platform.mention_id), "--discard")

    assert ran.returncode == 0, ran.stderr
    assert f"the pending reply is not on {platform.name}; discarded" in ran.stderr and "not sent" not in ran.stderr
    assert platform.posts() == 0 and _mention_state(platform) == "open"
    assert platform.reply().returncode == 0 and platform.posts() == 1  # a new reply goes out afresh


def test_two_replies_started_at_once_post_one(platform: Platform):
    platform.fake.queue.append("delay:1.5")  # the first POST takes a while: the second cmday arrives meanwhile
    first = platform.cmday("reply", str(platform.mention_id), "--text", TEXT, "--yes")
    second = platform.cmday("reply", str(platform.mention_id), "--text", TEXT, "--yes")
    outcomes = [(p.wait(60), p.stderr.read()) for p in (first, second)]

    assert platform.posts() == 1, outcomes
    codes = sorted(code for code, _err in outcomes)
    assert codes[0] == 0 and codes[1] in (0, ExitCode.USAGE, ExitCode.NOT_SENT), outcomes
    assert _mention_state(platform) == "answered"


def test_a_reply_whose_answer_times_out_is_looked_up_not_resent(workspace: Path, cmday_home: Path, platform_server, load, monkeypatch):
    from cmday import reply
    from cmday.workspace import load_workspace

    masto = mastodon_platform(workspace, cmday_home, platform_server, load, honours_keys=False)
    masto.fake.queue.append("hold")  # stored, and no answer before cmday's timeout
    monkeypatch.setenv("ACME_MASTODON_TOKEN", "token-1")
    loaded = load_workspace(workspace)
    store = Store(cmday_home / "state.sqlite3")
    mention = store.mention(masto.mention_id)

    outcome = reply.send(store, loaded, loaded.projects["acme"], mention, TEXT, since=datetime.now(UTC), http_options={"timeout": 0.5})
    masto.fake.release.set()

    assert outcome.found and masto.posts() == 1
    assert store.mention(mention.id).state == "answered"
    store.close()


# --- publishing ---------------------------------------------------------------------------------------


def _ready_post(workspace: Path, platform: str) -> str:
    project = workspace / "projects" / "acme.toml"
    text = project.read_text(encoding="utf-8").replace('platforms = ["mastodon"]', f'platforms = ["{platform}"]')
    project.write_text(text, encoding="utf-8")
    at = datetime.now(UTC).astimezone().replace(microsecond=0, second=0)
    _add_source(workspace, f'\n[[posts]]\nat = {at.strftime("%Y-%m-%dT%H:%M:00")}\nplatform = "{platform}"\n'
                           'text = "Good morning: oat milk in every shop"\nstatus = "ready"\nid = "oat"\n')
    return "oat"


@signals
def test_a_publish_killed_after_the_platform_stored_it_is_never_posted_again(platform: Platform):
    key = _ready_post(platform.workspace, platform.name)
    platform.fake.queue.append("hold")
    process = platform.cmday("publish", key, "--yes")
    _wait(platform.fake.stored.is_set, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    platform.fake.release.set()

    again = platform.run("publish", key, "--yes")

    assert again.returncode == 0, again.stderr
    assert "earlier attempt, not posted again" in again.stderr  # the CM is told nothing went out twice
    assert platform.posts() == 1
    assert platform.run("publish", key, "--yes").returncode == ExitCode.USAGE
    assert platform.posts() == 1


# --- what is sent is what is shown and counted ---------------------------------------------------------


def _dry_run(platform: Platform, text: str) -> tuple[int, dict]:
    import json

    from tests.cli_runner import run

    ran = run("reply", str(platform.mention_id), "--text", text, "--dry-run", "--json", "--workspace", str(platform.workspace))
    return ran.exit_code, json.loads(ran.stdout)


def _secrets_in(monkeypatch, platform: Platform) -> None:
    """The in-process CLI reads the source's secret from this process's environment."""
    for name, value in platform.env.items():
        if name.startswith("ACME_"):
            monkeypatch.setenv(name, value)


def test_dry_run_shows_exactly_what_each_platform_would_post(platform: Platform, monkeypatch):
    _secrets_in(monkeypatch, platform)
    code, shown = _dry_run(platform, TEXT)
    assert code == 0
    if platform.name == "mastodon":
        assert shown["text"] == "@WAHa_06x36 " + TEXT  # Mastodon notifies the author through the @acct in front
    else:
        assert shown["text"] == TEXT  # Bluesky: the reply refs notify the author; nothing is added

    sent = platform.reply()
    assert sent.returncode == 0, sent.stderr
    if platform.name == "mastodon":
        assert platform.fake.posts[0]["content"] == "<p>@WAHa_06x36 " + TEXT + "</p>"
    else:
        [record] = platform.fake.records.values()
        assert record["text"] == shown["text"]


def test_the_length_is_counted_on_what_is_sent(platform: Platform, monkeypatch):
    _secrets_in(monkeypatch, platform)
    limit = 500 if platform.name == "mastodon" else 300
    code, shown = _dry_run(platform, "é" * limit)  # exactly the limit as written
    if platform.name == "mastodon":
        assert code == ExitCode.USAGE  # the @acct in front takes it past 500
        assert shown["findings"][0]["rule"] == "length"
    else:
        assert code == 0 and not [f for f in shown["findings"] if f["rule"] == "length"]


# --- Bluesky logs in once ---------------------------------------------------------------------------------


def test_bluesky_logs_in_once_and_keeps_the_session_private(workspace: Path, cmday_home: Path, platform_server, load):
    bsky = bluesky_platform(workspace, cmday_home, platform_server, load)

    first = bsky.run("fetch")
    second = bsky.run("fetch")

    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    assert bsky.fake.logins == 1  # the second command used the kept session: no createSession
    [kept] = (cmday_home / "secrets").glob("acme.bsky.session")
    assert kept.stat().st_mode & 0o777 == 0o600
    for ran in (first, second, bsky.run("sources", "--check"), bsky.run("sources", "--json")):
        assert "access-" not in ran.stdout + ran.stderr and "refresh-" not in ran.stdout + ran.stderr
    assert bsky.fake.logins == 1


def test_an_expired_bluesky_session_is_refreshed_and_a_refused_refresh_logs_in_again(workspace: Path, cmday_home: Path, platform_server, load):
    bsky = bluesky_platform(workspace, cmday_home, platform_server, load)
    assert bsky.run("fetch").returncode == 0

    bsky.fake.expire_access()  # the access token's two hours are over
    assert bsky.run("fetch").returncode == 0
    assert (bsky.fake.logins, bsky.fake.refreshes) == (1, 1)

    bsky.fake.expire_access()
    bsky.fake.refresh = "revoked"  # the refresh token too: only then a new login
    assert bsky.run("fetch").returncode == 0
    assert (bsky.fake.logins, bsky.fake.refreshes) == (2, 1)
    assert bsky.run("fetch").returncode == 0
    assert bsky.fake.logins == 2


def test_a_refused_reply_exits_6_and_stays_pending(workspace: Path, cmday_home: Path, platform_server, load):
    from tests.support.platform_server import Reply

    masto = mastodon_platform(workspace, cmday_home, platform_server, load, honours_keys=True)
    platform_server.route("POST", "/api/v1/statuses", Reply(422, {"error": "Validation failed: Text character limit of 500 exceeded"}), masto.fake.create)

    refused = masto.reply()

    assert refused.returncode == ExitCode.NOT_SENT == 6
    assert "not sent:" in refused.stderr and "character limit" in refused.stderr
    assert _mention_state(masto) == "open"
    again = masto.reply()  # the same command once the cause is fixed: the pending draft goes, once
    assert again.returncode == 0, again.stderr
    assert masto.posts() == 1


def test_an_earlier_answer_is_not_taken_for_this_send_but_one_written_since_is(workspace: Path, cmday_home: Path, platform_server, load):
    import asyncio
    import json
    from datetime import timedelta

    from cmday.http import HttpClient
    from cmday.sources.base import FetchContext, ReplyTarget
    from cmday.sources.mastodon.adapter import MastodonAdapter
    from cmday.sources.mastodon.settings import MastodonSource

    masto = mastodon_platform(workspace, cmday_home, platform_server, load, honours_keys=True)
    store = Store(cmday_home / "state.sqlite3")
    mention = store.mention(masto.mention_id)
    target = ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, json.loads(store.raw_payload(mention.id)))
    store.close()
    source = MastodonSource(id="masto", platform="mastodon", instance=platform_server.url, token_env="T")

    def find(text: str, since: datetime):
        async def go():
            async with HttpClient(timeout=5) as http:
                context = FetchContext(http=http, secret=lambda _n: "token-1", workspace_root=workspace, now=since, project_slug="acme")
                return await MastodonAdapter(source, context).find_reply(target, text, "key", since)

        return asyncio.run(go())

    from tests.support.platform_server import Request

    def post(text: str, minutes_ago: float) -> None:
        body = f'{{"status": "{text}", "in_reply_to_id": "{mention.platform_id}"}}'.encode()
        masto.fake.create(Request("POST", "/api/v1/statuses", {}, {}, body))
        masto.fake.posts[-1]["created_at"] = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()

    post("@WAHa_06x36 First answer, an hour ago", 60)
    post("@WAHa_06x36 Second answer, two minutes ago", 2)
    began = datetime.now(UTC)
    assert find("A third answer", began) is None  # the brand's earlier replies are not this send
    assert find("Second answer, two minutes ago", began).remote_id == masto.fake.posts[1]["id"]  # same text, within the skew
    post("@WAHa_06x36 Written by hand after the send failed", 0)
    assert find("A third answer", began - timedelta(seconds=30)).remote_id == masto.fake.posts[2]["id"]


@signals
def test_a_publish_with_an_image_killed_after_the_status_was_stored_is_never_posted_again(platform: Platform, platform_server):
    from tests.sources.test_sending import INSTANCE, PNG, attachment
    from tests.support.platform_server import Reply

    key = _ready_post(platform.workspace, platform.name)
    (platform.workspace / "media").mkdir(exist_ok=True)
    (platform.workspace / "media" / "menu.png").write_bytes(PNG)
    project = platform.workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + 'media = [{ path = "media/menu.png", alt = "The menu board" }]\n',
                       encoding="utf-8")
    platform_server.route("GET", "/api/v2/instance", Reply(200, INSTANCE))
    platform_server.route("POST", "/api/v2/media", Reply(200, attachment("7", "https://files.example/menu.png")))
    blob = {"$type": "blob", "ref": {"$link": "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"},
            "mimeType": "image/png", "size": len(PNG)}
    platform_server.route("POST", "/xrpc/com.atproto.repo.uploadBlob", Reply(200, {"blob": blob}))
    platform.fake.queue.append("hold")
    process = platform.cmday("publish", key, "--yes")
    _wait(platform.fake.stored.is_set, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    platform.fake.release.set()

    again = platform.run("publish", key, "--yes")

    assert again.returncode == 0, again.stderr
    assert platform.posts() == 1
    uploads = platform_server.requests_to("/api/v2/media") + platform_server.requests_to("/xrpc/com.atproto.repo.uploadBlob")
    assert len(uploads) == 1  # the second run found the post: nothing uploaded again
