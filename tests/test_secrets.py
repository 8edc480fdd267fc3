"""Secrets stay secret: no redirect carries them elsewhere, and no message, log, stored error or JSON holds one."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cmday.errors import ExitCode, SourceError
from cmday.http import HttpClient
from cmday.secrets import redact, remember
from cmday.sources.bluesky.adapter import BlueskyAdapter
from cmday.sources.bluesky.settings import BlueskySource
from tests.cli_runner import run
from tests.support.adapters import header, run_adapter
from tests.support.platform_server import PlatformServer, Reply

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PASSWORD = "hunter2-app-pass-word"
CREATE = "/xrpc/com.atproto.server.createSession"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
# A token a server issued with a line break in it: httpx refuses it with "Illegal header value b'Bearer …'".
BROKEN_TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLWJvZHk\nX-Injected: c2VjcmV0LXRhaWw"
TOKEN_PIECES = ("c2VjcmV0LXRva2VuLWJvZHk", "c2VjcmV0LXRhaWw")


@pytest.fixture
def elsewhere():
    """A second server: another origin (another port), where nothing with a credential may arrive."""
    server = PlatformServer().start()
    try:
        yield server
    finally:
        server.stop()


def session_reply(access: str = "access-1") -> Reply:
    # Shape of com.atproto.server.createSession#output (https://docs.bsky.app/docs/api/com-atproto-server-create-session).
    return Reply(200, {"accessJwt": access, "refreshJwt": "refresh-token-1", "did": "did:plc:acme", "handle": "acme.bsky.social"})


def bluesky(url: str) -> BlueskySource:
    return BlueskySource(id="b", platform="bluesky", service=url, handle="acme.bsky.social", password_env="ACME_BSKY")


def fetch_all(adapter) -> list:
    async def go():
        return [batch async for batch in adapter.fetch(None)]

    return go()


# -- redirects -------------------------------------------------------------------------------------


def test_a_login_redirected_to_another_host_never_sends_the_password_there(platform_server, elsewhere):
    platform_server.route("POST", CREATE, Reply(307, headers={"Location": elsewhere.url + CREATE}))
    elsewhere.route("POST", CREATE, session_reply())

    with pytest.raises(SourceError) as raised:
        run_adapter(BlueskyAdapter, bluesky(platform_server.url), PASSWORD, fetch_all, NOW)

    assert elsewhere.requests == []
    assert "redirected a POST request to another host" in raised.value.message
    assert PASSWORD not in raised.value.message
    assert len(platform_server.requests_to(CREATE)) == 1  # refused, not retried


def test_a_redirect_within_the_same_server_is_still_followed_with_its_body(platform_server):
    platform_server.route("POST", "/old/login", Reply(308, headers={"Location": "/new/login"}))
    platform_server.route("POST", "/new/login", Reply(200, {"ok": True}))

    async def go():
        async with HttpClient(timeout=5) as http:
            return await http.request("POST", platform_server.url + "/old/login", json_body={"identifier": "a", "password": "b"})

    assert asyncio.run(go()).json() == {"ok": True}
    assert platform_server.requests_to("/new/login")[0].json() == {"identifier": "a", "password": "b"}


def test_a_get_redirected_to_another_host_arrives_without_credentials(platform_server, elsewhere):
    platform_server.route("GET", "/feed", Reply(302, headers={"Location": elsewhere.url + "/feed"}))
    elsewhere.route("GET", "/feed", Reply(200, "moved here"))

    async def go():
        async with HttpClient(timeout=5) as http:
            return await http.request(
                "GET", platform_server.url + "/feed",
                headers={"Authorization": "Bearer token-for-the-first-host", "Cookie": "session=abc", "Accept": "text/plain"},
            )

    assert asyncio.run(go()).text == "moved here"
    arrived = elsewhere.requests_to("/feed")[0]
    assert header(arrived, "Authorization") is None and header(arrived, "Cookie") is None
    assert header(arrived, "Accept") == "text/plain"
    assert header(platform_server.requests_to("/feed")[0], "Authorization") == "Bearer token-for-the-first-host"


def test_endless_redirects_stop(platform_server):
    platform_server.route("GET", "/loop", Reply(302, headers={"Location": "/loop"}))

    async def go():
        async with HttpClient(timeout=5) as http:
            await http.request("GET", platform_server.url + "/loop")

    with pytest.raises(SourceError, match="redirected more than 5 times"):
        asyncio.run(go())


# -- redaction -------------------------------------------------------------------------------------


def test_redact_hides_a_secret_in_the_shape_httpx_quotes_it(platform_server):
    try:
        httpx.get(platform_server.url + "/x", headers={"Authorization": f"Bearer {BROKEN_TOKEN}"})
    except httpx.LocalProtocolError as error:
        message = str(error)
    assert "Illegal header value" in message and TOKEN_PIECES[0] in message  # what the library really says

    remember(BROKEN_TOKEN)

    hidden = redact(message)
    assert "Illegal header value" in hidden and "***" in hidden
    assert not any(piece in hidden for piece in TOKEN_PIECES)
    assert not any(piece in redact(json.dumps({"e": message})) for piece in TOKEN_PIECES)


def bluesky_workspace(workspace: Path, url: str) -> Path:
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "b"\nplatform = "bluesky"\nservice = "{url}"\nhandle = "acme.bsky.social"\npassword_env = "ACME_BSKY"\n',
        encoding="utf-8",
    )
    return workspace


def stored_errors(cmday_home: Path) -> list[str]:
    with sqlite3.connect(cmday_home / "state.sqlite3") as db:
        return [row[0] or "" for row in db.execute("SELECT last_error FROM sources")]


def test_a_server_issued_token_with_a_line_break_never_reaches_a_message_json_or_the_state(
    workspace: Path, cmday_home: Path, platform_server, monkeypatch
):
    platform_server.route("POST", CREATE, session_reply(BROKEN_TOKEN))
    monkeypatch.setenv("ACME_BSKY", PASSWORD)
    bluesky_workspace(workspace, platform_server.url)

    fetched = run("fetch", "--workspace", str(workspace))
    as_json = run("fetch", "--workspace", str(workspace), "--json")
    sources = run("sources", "--workspace", str(workspace), "--json")
    morning = run("morning", "--workspace", str(workspace), "--offline", "--json")

    assert fetched.exit_code == ExitCode.SOURCES
    assert "a header holds characters HTTP does not allow" in fetched.stderr
    assert json.loads(as_json.stdout)["errors"][0]["source"] == "b"
    shown = [fetched.stderr, fetched.stdout, as_json.stdout, as_json.stderr, sources.stdout, morning.stdout, *stored_errors(cmday_home)]
    for text in shown:
        assert not any(piece in text for piece in (*TOKEN_PIECES, PASSWORD)), text
    assert platform_server.requests_to(NOTIFICATIONS) == []  # the broken header never went out


def test_a_server_quoting_the_token_in_its_error_is_redacted_on_stderr_in_json_and_in_the_state(
    workspace: Path, cmday_home: Path, platform_server, monkeypatch
):
    token = "mZsGbOK3pP9rTqL0xWvYdEaHc7Uf2NiJ"
    # Mastodon's error entity (https://docs.joinmastodon.org/entities/Error/), from a server that echoes the token.
    platform_server.route("GET", "/api/v1/notifications", Reply(401, {"error": f"The access token {token} is invalid"}))
    monkeypatch.setenv("ACME_MASTODON", token)
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "m"\nplatform = "mastodon"\ninstance = "{platform_server.url}"\ntoken_env = "ACME_MASTODON"\n',
        encoding="utf-8",
    )

    fetched = run("fetch", "--workspace", str(workspace))
    as_json = run("fetch", "--workspace", str(workspace), "--json")
    sources = run("sources", "--workspace", str(workspace), "--json")

    assert fetched.exit_code == ExitCode.SOURCES
    assert "The access token *** is invalid" in fetched.stderr
    for text in (fetched.stderr, as_json.stdout, sources.stdout, *stored_errors(cmday_home)):
        assert token not in text
    assert "***" in stored_errors(cmday_home)[0]


# -- debug logs and stored payloads ------------------------------------------------------------------


def cmday(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A real cmday process: --debug logging is set up once per process, as a user's run does."""
    executable = str(Path(sys.executable).parent / "cmday")
    return subprocess.run([executable, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Alerts</title><id>urn:alerts</id><updated>2026-11-23T09:00:00Z</updated>
<entry><id>urn:e1</id><title type="html">Acme &lt;b&gt;coffee&lt;/b&gt; review</title><link href="https://news.example/acme"/>
<updated>2026-11-23T09:00:00Z</updated><content type="html">Acme is fine</content></entry></feed>"""


def test_debug_logs_and_stored_payloads_hide_a_feed_url_query(workspace: Path, cmday_home: Path, platform_server):
    # An Atom feed per RFC 4287, served at a private URL whose query string is the credential.
    platform_server.route("GET", "/private.atom", Reply(200, FEED, headers={"Content-Type": "application/atom+xml"}))
    feed_token = "feedtoken-9f8e7d6c5b4a"
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "alerts"\nplatform = "rss"\nurl = "{platform_server.url}/private.atom?key={feed_token}"\n',
        encoding="utf-8",
    )

    ran = cmday("fetch", "--workspace", str(workspace), "--debug", env={"CMDAY_HOME": str(cmday_home)})

    assert ran.returncode == 0, ran.stderr
    assert "private.atom" in ran.stderr  # the logs are there, only the query is hidden
    assert feed_token not in ran.stderr and feed_token not in ran.stdout
    with sqlite3.connect(cmday_home / "state.sqlite3") as db:
        raws = [row[0] for row in db.execute("SELECT raw FROM mentions")]
    assert raws and all(feed_token not in raw for raw in raws)
    assert "urn:e1" in raws[0]


def test_debug_logs_of_an_escalation_hide_the_webhook_url(workspace: Path, cmday_home: Path, platform_server):
    from cmday.mention import Mention
    from cmday.store import Store
    from tests.support.workspaces import use_protocol

    hook_path = "/hooks/T0ACME/B0TEAM/wh00secret00part"
    platform_server.route("POST", hook_path, Reply(200, "ok"))
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n')
    store = Store(cmday_home / "state.sqlite3")
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "terrible", NOW)], None, NOW)
    mention_id = store.mentions("acme")[0].id
    store.close()

    ran = cmday(
        "escalate", str(mention_id), "--to", "team", "--workspace", str(workspace), "--debug",
        env={"CMDAY_HOME": str(cmday_home), "ACME_SLACK": platform_server.url + hook_path},
    )

    assert ran.returncode == 0, ran.stderr
    assert len(platform_server.requests_to(hook_path)) == 1
    assert "HTTP Request: POST" in ran.stderr  # httpx did log the request
    assert "wh00secret00part" not in ran.stderr and "B0TEAM" not in ran.stderr


# -- a token where its variable's name belongs --------------------------------------------------------


@pytest.mark.parametrize(
    "pasted",
    ["ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0", "Xq7RmT2vLp9KsN4wJh6YbC3dF8gZ1aEu", "abcd-efgh-ijkl-mnop"],
)
def test_a_token_pasted_into_token_env_is_called_a_token_and_not_printed(workspace: Path, pasted: str):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "m"\nplatform = "mastodon"\ninstance = "https://m.example"\ntoken_env = "{pasted}"\n',
        encoding="utf-8",
    )

    ran = run("morning", "--workspace", str(workspace), "--offline")
    in_spanish = run("morning", "--workspace", str(workspace), "--offline", "--lang", "es")

    assert ran.exit_code == ExitCode.CONFIG
    assert "sources[1].token_env" in ran.stderr and "looks like a token" in ran.stderr
    assert "variable's name" in ran.stderr
    assert pasted not in ran.stderr and pasted not in in_spanish.stderr
    assert "token" in in_spanish.stderr and "variable" in in_spanish.stderr


def test_a_variable_name_in_token_env_is_still_accepted(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + '\n[[sources]]\nid = "m"\nplatform = "mastodon"\ninstance = "https://m.example"\ntoken_env = "ACME_MASTODON_TOKEN_2026"\n',
        encoding="utf-8",
    )
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert ran.exit_code == 0, ran.stderr


def test_a_feed_urls_query_and_password_are_hidden_but_its_host_is_kept():
    from cmday.secrets import remember_url

    remember_url("https://ana:feedpass-77x@alerts.example/feed.xml?token=q-tok-3141")

    shown = redact("cannot connect to https://ana:feedpass-77x@alerts.example/feed.xml?token=q-tok-3141: refused")
    assert "feedpass-77x" not in shown and "q-tok-3141" not in shown
    assert "alerts.example/feed.xml" in shown


def test_a_debug_traceback_holds_no_known_secret_in_any_chained_exception():
    import traceback

    from cmday.secrets import redact_exception

    secret = "debug-secret-4242-token"
    remember(secret)
    try:
        try:
            raise ValueError(f"Illegal header value b'Bearer {secret}'")
        except ValueError as inner:
            raise SourceError(f"request failed: {inner}", hint=f"token {secret!r}") from inner
    except SourceError as error:
        redact_exception(error)
        printed = "".join(traceback.format_exception(error))

    assert secret not in printed and "Illegal header value b'Bearer ***'" in printed
