"""A mention's thread as the platform shows it: the adapters' `thread` and `cmday show`, against a real local server.

Mastodon: no recorded or documented Context answer exists in tests/fixtures, so the Context here is built
from the documented Status example (docs_examples) and a status recorded from mastodon.social, in the shape
https://docs.joinmastodon.org/entities/Context/ gives (`ancestors` oldest first, `descendants`).
Bluesky: the recorded getPostThread answers (bsky.social) have no parents, so the parent chains are the
AppView's own test snapshots (bluesky-social/atproto, thread.test.ts.snap): "fetches ancestors" and
"handles deleted posts correctly 3" (a notFoundPost parent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cmday.errors import SourceError
from cmday.mention import Mention
from cmday.sources.bluesky.adapter import BlueskyAdapter
from cmday.sources.bluesky.settings import BlueskySource
from cmday.sources.mastodon.adapter import MastodonAdapter
from cmday.sources.mastodon.settings import MastodonSource
from cmday.store import Store
from tests.cli_runner import run
from tests.support.adapters import header, run_adapter
from tests.support.platform_server import PlatformServer, Reply

NOW = datetime(2026, 4, 12, 7, 0, tzinfo=UTC)
TOKEN = "s3cr3t-mastodon-token"
PASSWORD = "qwer-tyui-asdf-ghjk"
DOCUMENTED_STATUS = "mastodon/docs_examples/Status__example__block__01.json"
RECORDED_STATUS = "mastodon/responses/mpy_entity_status_mastodon_social__00__GET_api_v1_statuses_110446223051565765__200.json"
BSKY_SESSION = "bluesky/responses/bskyr_repo_auth_direct__00__POST_xrpc_com_atproto_server_createSession__200.json"
BSKY_RECORDED_THREAD = "bluesky/responses/bskyr_f_postthread__00__GET_xrpc_app_bsky_feed_getPostThread__200.json"
BSKY_ANCESTORS = "bluesky/snapshots/thread__00__appview_thread_views_fetches_ancestors_1.json"
BSKY_DELETED_PARENT = "bluesky/snapshots/thread__06__appview_thread_views_handles_deleted_posts_correctly_3.json"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
GET_POST_THREAD = "/xrpc/app.bsky.feed.getPostThread"
MENTION_ID = "110446300000000000"
CONTEXT_PATH = f"/api/v1/statuses/{MENTION_ID}/context"
BSKY_URI = "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"


def mastodon_context(load: Callable[[str], Any]) -> dict[str, Any]:
    """Gargron's documented status as the root, the recorded one answering it: the two ancestors of MENTION_ID."""
    root = load(DOCUMENTED_STATUS)
    parent = load(RECORDED_STATUS)
    parent["in_reply_to_id"] = root["id"]
    return {"ancestors": [root, parent], "descendants": []}


def masto(url: str) -> MastodonSource:
    return MastodonSource(id="m", platform="mastodon", instance=url, token_env="ACME_MASTODON_TOKEN")


def bsky(url: str) -> BlueskySource:
    return BlueskySource(id="b", platform="bluesky", service=url, handle="acme.bsky.social", password_env="X")


def thread(adapter: type, source: Any, secret: str, platform_id: str) -> list[Mention]:
    return run_adapter(adapter, source, secret, lambda a: a.thread(platform_id), NOW)


# -- Mastodon ------------------------------------------------------------------------------------------------


def test_mastodon_thread_reads_the_ancestors_oldest_first(platform_server: PlatformServer, load):
    platform_server.route("GET", CONTEXT_PATH, Reply(200, mastodon_context(load)))
    parents = thread(MastodonAdapter, masto(platform_server.url), TOKEN, MENTION_ID)
    assert [p.platform_id for p in parents] == ["103270115826048975", "110446223051565765"]
    assert [p.kind for p in parents] == ["mention", "reply"]
    root = parents[0]
    assert root.author_handle == "@Gargron@127.0.0.1" and root.author_name == "Eugen"
    assert root.text.startswith('"I lost my inheritance') and "<p>" not in root.text
    assert "https://www.theguardian.com/money/2019/dec/07/" in root.text  # the shortened link in full
    assert parents[1].author_handle == "@halcy@icosahedron.website"
    assert parents[1].text.startswith("CW: test post for mastodon.py stuff")
    [request] = platform_server.requests_to(CONTEXT_PATH)
    assert header(request, "Authorization") == f"Bearer {TOKEN}"


def test_mastodon_thread_keeps_the_ten_nearest_and_skips_what_it_cannot_read(platform_server: PlatformServer, load):
    status = load(DOCUMENTED_STATUS)
    ancestors = [dict(status, id=str(1000 + n), in_reply_to_id=str(999 + n)) for n in range(12)]
    ancestors[-1] = {"id": "broken"}  # no account, no content
    platform_server.route("GET", CONTEXT_PATH, Reply(200, {"ancestors": ancestors, "descendants": []}))
    parents = thread(MastodonAdapter, masto(platform_server.url), TOKEN, MENTION_ID)
    assert [p.platform_id for p in parents] == [str(1000 + n) for n in range(2, 11)]


def test_mastodon_thread_of_a_status_without_parents_is_empty(platform_server: PlatformServer):
    platform_server.route("GET", CONTEXT_PATH, Reply(200, {"ancestors": [], "descendants": []}))
    assert thread(MastodonAdapter, masto(platform_server.url), TOKEN, MENTION_ID) == []


def test_mastodon_thread_failures_are_one_line_without_the_token(platform_server: PlatformServer, load):
    platform_server.route("GET", CONTEXT_PATH, Reply(404, load("mastodon/docs_examples/statuses__get__404-not-found__04.json")))
    with pytest.raises(SourceError) as gone:
        thread(MastodonAdapter, masto(platform_server.url), TOKEN, MENTION_ID)
    platform_server.route("GET", CONTEXT_PATH, Reply(200, ["not", "a", "context"]))
    with pytest.raises(SourceError) as odd:
        thread(MastodonAdapter, masto(platform_server.url), TOKEN, MENTION_ID)
    for error in (gone.value, odd.value):
        assert "\n" not in error.message and TOKEN not in error.message
    assert "context of status" in odd.value.message


# -- Bluesky -------------------------------------------------------------------------------------------------


def snapshot(load: Callable[[str], Any], name: str) -> dict[str, Any]:
    """An AppView snapshot holds the `thread` value; getPostThread answers it wrapped (app.bsky.feed.getPostThread#output)."""
    return {"thread": load(name)}


def bsky_routes(server: PlatformServer, load, *threads: Any) -> None:
    # bskyr blanked the JWTs before publishing its cassette; any non-empty token stands in for them.
    server.route("POST", CREATE_SESSION, Reply(200, load(BSKY_SESSION) | {"accessJwt": "access-1", "refreshJwt": "refresh-1"}))
    server.route("GET", GET_POST_THREAD, *[Reply(200, t) if not isinstance(t, Reply) else t for t in threads])


def test_bluesky_thread_walks_the_parent_chain_oldest_first(platform_server: PlatformServer, load):
    bsky_routes(platform_server, load, snapshot(load, BSKY_ANCESTORS))
    parents = thread(BlueskyAdapter, bsky(platform_server.url), PASSWORD, BSKY_URI)
    assert [(p.author_handle, p.text, p.kind) for p in parents] == [
        ("alice.test", "again", "mention"),
        ("bob.test", "hear that label_me label_me_2", "reply"),
    ]
    assert parents[1].in_reply_to == "record(4)"
    [request] = platform_server.requests_to(GET_POST_THREAD)
    assert request.query == {"uri": [BSKY_URI], "depth": ["0"], "parentHeight": ["10"]}
    assert header(request, "Authorization") == "Bearer access-1"


def test_bluesky_thread_expands_link_facets_as_the_inbox_does(platform_server: PlatformServer, load):
    answer = snapshot(load, BSKY_ANCESTORS)
    text = "read bsky.app/pro..."
    answer["thread"]["parent"]["post"]["record"]["text"] = text
    answer["thread"]["parent"]["post"]["record"]["facets"] = [{
        "index": {"byteStart": 5, "byteEnd": len(text.encode())},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://bsky.app/profile/alice.test"}],
    }]
    bsky_routes(platform_server, load, answer)
    parents = thread(BlueskyAdapter, bsky(platform_server.url), PASSWORD, BSKY_URI)
    assert parents[-1].text == "read https://bsky.app/profile/alice.test"


def test_bluesky_thread_stops_at_a_deleted_or_blocked_parent(platform_server: PlatformServer, load):
    deleted = snapshot(load, BSKY_DELETED_PARENT)  # the parent is a notFoundPost: nothing above it is shown
    blocked = snapshot(load, BSKY_ANCESTORS)
    blocked["thread"]["parent"]["parent"] = {
        "$type": "app.bsky.feed.defs#blockedPost", "uri": "record(4)", "blocked": True,
        "author": {"did": "user(0)", "viewer": {"blockedBy": True}},
    }
    bsky_routes(platform_server, load, deleted, blocked)
    assert thread(BlueskyAdapter, bsky(platform_server.url), PASSWORD, BSKY_URI) == []
    [parent] = thread(BlueskyAdapter, bsky(platform_server.url), PASSWORD, BSKY_URI)
    assert parent.author_handle == "bob.test"


def test_bluesky_thread_of_a_post_without_parents_is_empty(platform_server: PlatformServer, load):
    bsky_routes(platform_server, load, load(BSKY_RECORDED_THREAD))
    assert thread(BlueskyAdapter, bsky(platform_server.url), PASSWORD, BSKY_URI) == []


def test_bluesky_thread_failures_are_one_line(platform_server: PlatformServer, load):
    not_found = Reply(400, {"error": "NotFound", "message": f"Post not found: {BSKY_URI}"})
    bsky_routes(platform_server, load, not_found, {"nothing": "here"})
    with pytest.raises(SourceError) as gone:
        thread(BlueskyAdapter, bsky(platform_server.url), PASSWORD, BSKY_URI)
    assert gone.value.message == f"Bluesky refused app.bsky.feed.getPostThread: Post not found: {BSKY_URI}"
    with pytest.raises(SourceError) as odd:
        thread(BlueskyAdapter, bsky(platform_server.url), PASSWORD, BSKY_URI)
    assert odd.value.message == "app.bsky.feed.getPostThread answered without a thread cmday can read"
    assert PASSWORD not in gone.value.message + odd.value.message


# -- cmday show ----------------------------------------------------------------------------------------------


@pytest.fixture
def stored(workspace: Path, cmday_home: Path, platform_server: PlatformServer, monkeypatch: pytest.MonkeyPatch) -> int:
    """A Mastodon source pointing at the local server, and one stored reply whose stored parent is known."""
    monkeypatch.setenv("ACME_MASTODON_TOKEN", TOKEN)
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "masto"\nplatform = "mastodon"\ninstance = "{platform_server.url}"\ntoken_env = "ACME_MASTODON_TOKEN"\n',
        encoding="utf-8",
    )
    at = datetime(2026, 4, 12, 6, 0, tzinfo=UTC)
    store = Store(cmday_home / "state.sqlite3")
    stored_parent = Mention("mastodon", "110446223051565765", "mention", "the stored [bold]parent[/bold]", at, author_handle="@halcy")
    reply = Mention("mastodon", MENTION_ID, "reply", "and a reply", at, author_handle="@ana", in_reply_to="110446223051565765")
    store.save_batch("acme", "masto", "mastodon", [stored_parent, reply], None, at)
    mention_id = next(m.id for m in store.mentions("acme") if m.platform_id == MENTION_ID)
    store.close()
    return mention_id


def show(workspace: Path, mention_id: int, *flags: str):
    return run("show", str(mention_id), "--workspace", str(workspace), *flags)


def test_show_puts_the_platform_thread_above_the_mention(workspace: Path, stored: int, platform_server: PlatformServer, load):
    context = mastodon_context(load)
    context["ancestors"][0]["content"] = "<p>[red]not markup[/red]</p>"
    platform_server.route("GET", CONTEXT_PATH, Reply(200, context))
    ran = show(workspace, stored)
    assert ran.exit_code == 0, ran.stderr
    assert "[red]not markup[/red]" in ran.stdout  # shown literally, never as Rich markup
    assert ran.stdout.index("@Gargron@127.0.0.1") < ran.stdout.index("@halcy@icosahedron.website") < ran.stdout.index("and a reply")
    assert "stored" not in ran.stdout and ran.stderr == ""


def test_show_json_gives_the_platform_thread_without_ids(workspace: Path, stored: int, platform_server: PlatformServer, load):
    platform_server.route("GET", CONTEXT_PATH, Reply(200, mastodon_context(load)))
    ran = show(workspace, stored, "--json")
    assert ran.exit_code == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["mentions"][0]["id"] == stored
    assert [(t["id"], t["platform_id"], t["source"], t["state"]) for t in data["thread"]] == [
        (None, "103270115826048975", "masto", None), (None, "110446223051565765", "masto", None),
    ]
    assert set(data["thread"][0]) == set(data["mentions"][0])  # the same keys as any mention


def test_show_falls_back_to_the_stored_thread_when_the_platform_fails(workspace: Path, stored: int, platform_server: PlatformServer):
    platform_server.route("GET", CONTEXT_PATH, Reply(500, {"error": "down"}))
    ran = show(workspace, stored)
    assert ran.exit_code == 0
    assert "the stored [bold]parent[/bold]" in ran.stdout and "and a reply" in ran.stdout
    [line] = ran.stderr.strip().splitlines()
    assert line.startswith("could not read the thread from mastodon, showing what is stored: ")
    assert TOKEN not in ran.stderr
    data = json.loads(show(workspace, stored, "--json").stdout)
    assert [t["platform_id"] for t in data["thread"]] == ["110446223051565765"] and data["thread"][0]["id"] is not None


def test_show_offline_never_asks_the_platform(workspace: Path, stored: int, platform_server: PlatformServer):
    ran = show(workspace, stored, "--offline")
    assert ran.exit_code == 0 and "the stored [bold]parent[/bold]" in ran.stdout
    assert platform_server.requests == []
