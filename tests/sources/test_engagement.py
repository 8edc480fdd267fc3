"""Reactions to the brand's own posts: read by the Mastodon and Bluesky adapters, stored by a sweep, then shown.

Payloads are the documented Mastodon Status (tests/fixtures/mastodon/docs_examples) and the recorded
Bluesky getPosts answer (tests/fixtures/bluesky/responses), served by a real local HTTP server.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cmday import clock
from cmday.calendar.plan import load_plan
from cmday.errors import SourceError
from cmday.indicators import compute, parse_period
from cmday.protocol import load_protocol
from cmday.sources.base import AuthenticationFailed
from cmday.sources.bluesky.adapter import BlueskyAdapter
from cmday.sources.bluesky.settings import BlueskySource
from cmday.sources.mastodon.adapter import MastodonAdapter
from cmday.sources.mastodon.settings import MastodonSource
from cmday.store import Store
from cmday.sync import fetch_project
from cmday.workspace import load_workspace
from tests.cli_runner import run
from tests.support.adapters import header, run_adapter
from tests.support.platform_server import PlatformServer, Reply, Request

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")
TOKEN = "s3cr3t-mastodon-token"
PASSWORD = "qwer-tyui-asdf-ghjk"
STATUSES = "/api/v1/statuses"
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
DOCUMENTED_STATUS = "mastodon/docs_examples/statuses__get__200-ok__02.json"  # GET /api/v1/statuses/:id, 200
DOCUMENTED_NOT_FOUND = "mastodon/docs_examples/statuses__get__404-not-found__04.json"
DOCUMENTED_UNAUTHORIZED = "mastodon/docs_examples/statuses__get__401-unauthorized__03.json"
BSKY = "bluesky/responses"
BSKY_SESSION = f"{BSKY}/bskyr_repo_auth_direct__00__POST_xrpc_com_atproto_server_createSession__200.json"
BSKY_GET_POSTS = f"{BSKY}/bskyr_f_getposts__00__GET_xrpc_app_bsky_feed_getPosts__200.json"


# --- helpers ---------------------------------------------------------------------------------------


def with_adapter(adapter_type: type, source: Any, secret: str | None, action: Callable[[Any], Any]) -> Any:
    return run_adapter(adapter_type, source, secret, action, NOW)


def on_mastodon(server: PlatformServer, ids: list[str], token: str | None = TOKEN) -> Any:
    source = MastodonSource(id="m", platform="mastodon", instance=server.url, token_env="CMDAY_TEST_MASTODON_TOKEN")
    return with_adapter(MastodonAdapter, source, token, lambda adapter: adapter.post_metrics(ids))


def on_bluesky(server: PlatformServer, uris: list[str]) -> Any:
    source = BlueskySource(id="b", platform="bluesky", service=server.url, handle="bskyr.bsky.social",
                           password_env="CMDAY_TEST_BSKY")
    return with_adapter(BlueskyAdapter, source, PASSWORD, lambda adapter: adapter.post_metrics(uris))


def status(template: dict[str, Any], status_id: str, favourites: int, boosts: int, replies: int) -> dict[str, Any]:
    made = copy.deepcopy(template)
    made.update(id=status_id, url=f"https://mastodon.example/@acme/{status_id}", favourites_count=favourites,
                reblogs_count=boosts, replies_count=replies)
    return made


def own_uri(number: int) -> str:
    return f"at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3lown{number:08d}"


class BlueskyPosts:
    """app.bsky.feed.getPosts as the AppView answers it: the post views it has, in order; deleted ones left out."""

    def __init__(self, template: dict[str, Any], posts: dict[str, dict[str, int]]) -> None:
        self.template = template
        self.posts = posts

    def __call__(self, request: Request) -> Reply:
        uris = request.query.get("uris", [])
        if len(uris) > 25:
            return Reply(400, {"error": "InvalidRequest", "message": "uris must not have more than 25 elements"})
        views = []
        for uri in uris:
            if uri in self.posts:
                view = copy.deepcopy(self.template)
                view.update(uri=uri, **self.posts[uri])
                views.append(view)
        return Reply(200, {"posts": views})


@pytest.fixture
def bluesky(platform_server: PlatformServer, load) -> PlatformServer:
    session = load(BSKY_SESSION)
    tokens = {"accessJwt": "access-1", "refreshJwt": "refresh-1"}
    platform_server.route("POST", CREATE_SESSION, Reply(200, session | tokens))
    return platform_server


# --- Mastodon: GET /api/v1/statuses/:id ----------------------------------------------------------


def test_mastodon_reads_each_statuss_counts_and_leaves_deleted_ones_out(platform_server: PlatformServer, load):
    documented = load(DOCUMENTED_STATUS)  # favourites 112, boosts 98, replies 7
    platform_server.route("GET", f"{STATUSES}/1", Reply(200, documented))
    second = status(documented, "116000000000000002", 5, 0, 1)
    platform_server.route("GET", f"{STATUSES}/116000000000000002", Reply(200, second))
    platform_server.route("GET", f"{STATUSES}/116000000000000003", Reply(404, load(DOCUMENTED_NOT_FOUND)))

    metrics = on_mastodon(platform_server, ["1", "116000000000000002", "116000000000000003", "1"])

    assert metrics == {
        "1": {"favourites": 112.0, "boosts": 98.0, "replies": 7.0},
        "116000000000000002": {"favourites": 5.0, "boosts": 0.0, "replies": 1.0},
    }
    asked = [r for r in platform_server.requests if r.path.startswith(STATUSES)]
    assert sorted(r.path for r in asked) == [
        f"{STATUSES}/1", f"{STATUSES}/116000000000000002", f"{STATUSES}/116000000000000003",
    ]
    assert all(header(r, "Authorization") == f"Bearer {TOKEN}" for r in asked)


def test_mastodon_with_nothing_to_read_asks_nothing(platform_server: PlatformServer):
    assert on_mastodon(platform_server, []) == {}
    assert platform_server.requests == []


def test_mastodon_ids_are_quoted_into_the_path(platform_server: PlatformServer, load):
    platform_server.route("GET", f"{STATUSES}/a%2Fb", Reply(200, load(DOCUMENTED_STATUS)))

    assert on_mastodon(platform_server, ["a/b"]) == {"a/b": {"favourites": 112.0, "boosts": 98.0, "replies": 7.0}}


def test_mastodon_refusing_the_token_is_one_line_without_the_token(platform_server: PlatformServer, load):
    platform_server.route("GET", f"{STATUSES}/1", Reply(401, load(DOCUMENTED_UNAUTHORIZED)))

    with pytest.raises(AuthenticationFailed) as refused:
        on_mastodon(platform_server, ["1"])
    assert "\n" not in refused.value.message and TOKEN not in refused.value.message


def test_mastodon_answering_something_else_than_a_status_is_one_line(platform_server: PlatformServer):
    platform_server.route("GET", f"{STATUSES}/1", Reply(200, {"id": "1", "favourites_count": "many"}))

    with pytest.raises(SourceError) as unreadable:
        on_mastodon(platform_server, ["1"])
    assert "\n" not in unreadable.value.message and "status 1" in unreadable.value.message


def test_mastodon_without_a_token_fails_before_asking(platform_server: PlatformServer):
    with pytest.raises(AuthenticationFailed):
        on_mastodon(platform_server, ["1"], token=None)
    assert platform_server.requests == []


# --- Bluesky: app.bsky.feed.getPosts ---------------------------------------------------------------


def test_bluesky_reads_the_recorded_post_view(bluesky: PlatformServer, load):
    recorded = load(BSKY_GET_POSTS)
    bluesky.route("GET", GET_POSTS, Reply(200, recorded))
    uri = recorded["posts"][0]["uri"]  # likeCount 4, the others 0

    metrics = on_bluesky(bluesky, [uri])

    assert metrics == {uri: {"favourites": 4.0, "boosts": 0.0, "replies": 0.0, "quotes": 0.0}}
    [request] = bluesky.requests_to(GET_POSTS)
    assert request.query["uris"] == [uri]
    assert header(request, "Authorization") == "Bearer access-1"


def test_bluesky_asks_25_posts_a_call_and_leaves_deleted_ones_out(bluesky: PlatformServer, load):
    template = load(BSKY_GET_POSTS)["posts"][0]
    uris = [own_uri(n) for n in range(30)]
    counts = {"repostCount": 1, "replyCount": 2, "quoteCount": 3}
    alive = {uri: {"likeCount": n, **counts} for n, uri in enumerate(uris) if n != 7}
    bluesky.route("GET", GET_POSTS, BlueskyPosts(template, alive))

    metrics = on_bluesky(bluesky, uris)

    assert [len(r.query["uris"]) for r in bluesky.requests_to(GET_POSTS)] == [25, 5]
    assert set(metrics) == set(uris) - {own_uri(7)}
    assert metrics[own_uri(12)] == {"favourites": 12.0, "boosts": 1.0, "replies": 2.0, "quotes": 3.0}


def test_bluesky_counts_left_out_are_zero_and_unreadable_posts_are_skipped(bluesky: PlatformServer, load):
    template = load(BSKY_GET_POSTS)["posts"][0]
    bare = {k: v for k, v in template.items() if not k.endswith("Count")} | {"uri": own_uri(1)}
    broken = copy.deepcopy(template) | {"uri": own_uri(2), "likeCount": -3}
    bluesky.route("GET", GET_POSTS, Reply(200, {"posts": [bare, broken, "not a post"]}))

    assert on_bluesky(bluesky, [own_uri(1), own_uri(2)]) == {
        own_uri(1): {"favourites": 0.0, "boosts": 0.0, "replies": 0.0, "quotes": 0.0}
    }


@pytest.mark.parametrize(
    "reply",
    [
        Reply(400, {"error": "InvalidRequest", "message": "Error: uris/0 must be a valid at-uri"}),
        Reply(200, {"feed": []}),
        Reply(200, b"<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    ],
)
def test_bluesky_faults_are_one_line_source_errors_without_the_password(bluesky: PlatformServer, reply: Reply):
    bluesky.route("GET", GET_POSTS, reply)

    with pytest.raises(SourceError) as failed:
        on_bluesky(bluesky, [own_uri(1)])
    assert "\n" not in failed.value.message and PASSWORD not in failed.value.message


# --- end to end: a sweep stores them, indicators and the report show them --------------------------


def project_toml(server: PlatformServer) -> str:
    return f"""
[project]
name = "Acme Coffee"
slug = "acme"
timezone = "Europe/Madrid"

[[sources]]
id = "brand-masto"
platform = "mastodon"
instance = "{server.url}"
token_env = "ACME_MASTODON_TOKEN"

[[posts]]
at = 2026-11-16T10:00:00
platform = "mastodon"
text = "Winter blend is here"
status = "ready"

[[posts]]
at = 2026-11-17T10:00:00
platform = "mastodon"
text = "A post deleted since"
status = "ready"

[[posts]]
at = 2026-11-17T12:00:00
platform = "bluesky"
text = "Latte art on Bluesky"
status = "ready"

[[posts]]
at = 2026-10-01T10:00:00
platform = "mastodon"
text = "Autumn blend, long ago"
status = "ready"
"""


@pytest.fixture
def swept(platform_server: PlatformServer, load, tmp_path: Path, cmday_home: Path, monkeypatch: pytest.MonkeyPatch):
    """A workspace with one Mastodon source and four posts published through cmday, and a sweep on 18 November."""
    root = tmp_path / "ws"
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text('owner = "Ana"\ntimezone = "Europe/Madrid"\n', encoding="utf-8")
    (root / "projects" / "acme.toml").write_text(project_toml(platform_server), encoding="utf-8")
    monkeypatch.setenv("ACME_MASTODON_TOKEN", TOKEN)
    monkeypatch.setattr(clock, "now", lambda: NOW)
    platform_server.route("GET", "/api/v1/notifications", Reply(200, []))
    account = {"id": "14715", "username": "acme", "acct": "acme", "followers_count": 1234, "following_count": 56,
               "statuses_count": 789}
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, account))
    documented = load(DOCUMENTED_STATUS)
    for status_id, counts in (("116000000000000001", (30, 4, 2)), ("115000000000000009", (1, 1, 1))):
        platform_server.route("GET", f"{STATUSES}/{status_id}", Reply(200, status(documented, status_id, *counts)))
    platform_server.route("GET", f"{STATUSES}/116000000000000002", Reply(404, load(DOCUMENTED_NOT_FOUND)))

    workspace = load_workspace(root)
    project = workspace.projects["acme"]
    keys = {planned.post.text: planned.key for planned in load_plan(workspace, project).posts}
    store = Store(cmday_home / "state.sqlite3")
    published = [
        ("Winter blend is here", datetime(2026, 11, 16, 9, 0, tzinfo=UTC), "116000000000000001"),
        ("A post deleted since", datetime(2026, 11, 17, 9, 0, tzinfo=UTC), "116000000000000002"),
        ("Latte art on Bluesky", datetime(2026, 11, 17, 11, 0, tzinfo=UTC), own_uri(1)),
        ("Autumn blend, long ago", datetime(2026, 10, 1, 8, 0, tzinfo=UTC), "115000000000000009"),  # 48 days before
    ]
    for text, at, remote_id in published:
        assert store.claim_publication("acme", keys[text], at)
        store.finish_publication("acme", keys[text], "published", at, remote_id=remote_id,
                                 url=f"https://mastodon.example/@acme/{remote_id}")
    yield store, workspace, project, keys, root
    store.close()


def test_a_sweep_stores_the_reactions_of_this_sources_recent_posts(swept, platform_server: PlatformServer):
    store, workspace, project, keys, _root = swept

    report = fetch_project(store, workspace, project, load_protocol())

    assert report.errors == [] and report.results[0].notes == []
    posts = {v.key: (v.day, v.value, v.origin) for v in store.kpi_values("acme") if v.key.startswith("post.")}
    winter = keys["Winter blend is here"]
    assert posts == {
        f"post.{winter}.favourites": ("2026-11-18", 30, "api"),
        f"post.{winter}.boosts": ("2026-11-18", 4, "api"),
        f"post.{winter}.replies": ("2026-11-18", 2, "api"),
    }
    asked = sorted(r.path for r in platform_server.requests if r.path.startswith(STATUSES))
    # The deleted one is asked and skipped; the Bluesky post and the one older than 30 days are never asked.
    assert asked == [f"{STATUSES}/116000000000000001", f"{STATUSES}/116000000000000002"]


def test_a_later_sweep_the_same_day_replaces_the_days_figures(swept, platform_server: PlatformServer, load):
    store, workspace, project, keys, _root = swept
    fetch_project(store, workspace, project, load_protocol())
    platform_server.route("GET", f"{STATUSES}/116000000000000001",
                          Reply(200, status(load(DOCUMENTED_STATUS), "116000000000000001", 41, 4, 3)))

    fetch_project(store, workspace, project, load_protocol())

    [favourites] = store.kpi_values("acme", f"post.{keys['Winter blend is here']}.favourites")
    assert (favourites.day, favourites.value) == ("2026-11-18", 41)


def test_the_indicators_and_the_report_show_the_posts_engagement(swept):
    store, workspace, project, keys, root = swept
    fetch_project(store, workspace, project, load_protocol())

    figures = compute(load_plan(workspace, project), store, parse_period("2026-W47"), NOW)
    winter = next(p for p in figures.details.posts if p.key == keys["Winter blend is here"])
    assert winter.engagement == {"boosts": 4, "favourites": 30, "replies": 2} and winter.total == 36
    assert figures.details.posts[0] is winter  # the post with reactions comes first

    store.close()
    ran = run("report", "--workspace", str(root), "--project", "acme", "--month", "2026-11", "--format", "md")
    assert ran.exit_code == 0, ran.stderr
    assert "favourites 30" in ran.stdout and "boosts 4" in ran.stdout and "replies 2" in ran.stdout


def test_reactions_that_cannot_be_read_are_a_note_not_a_failed_fetch(swept, platform_server: PlatformServer):
    store, workspace, project, _keys, _root = swept
    platform_server.route("GET", f"{STATUSES}/116000000000000001", Reply(500, {"error": "boom"}))

    report = fetch_project(store, workspace, project, load_protocol())

    assert report.errors == []
    [note] = report.results[0].notes
    assert note.startswith("reactions to published posts not read: ") and "\n" not in note and TOKEN not in note
    assert not [v for v in store.kpi_values("acme") if v.key.startswith("post.")]
    assert {v.key for v in store.kpi_values("acme")} >= {"followers.mastodon"}  # the account's figures are in


def test_a_post_naming_another_source_is_not_read_by_this_one(swept, platform_server: PlatformServer):
    store, _workspace, _project, _keys, root = swept
    text = (root / "projects" / "acme.toml").read_text(encoding="utf-8")
    text += """
[[sources]]
id = "other-masto"
platform = "mastodon"
instance = "https://other.example"
token_env = "ACME_OTHER_TOKEN"
enabled = false

[[posts]]
at = 2026-11-17T18:00:00
source = "other-masto"
text = "Sent from the other account"
status = "ready"
"""
    (root / "projects" / "acme.toml").write_text(text, encoding="utf-8")
    workspace = load_workspace(root)
    project = workspace.projects["acme"]
    other = next(p.key for p in load_plan(workspace, project).posts if p.post.source == "other-masto")
    store.claim_publication("acme", other, NOW - timedelta(hours=12))
    store.finish_publication("acme", other, "published", NOW - timedelta(hours=12), remote_id="116000000000000077")

    report = fetch_project(store, workspace, project, load_protocol(), only_source="brand-masto")

    assert report.errors == []
    assert f"{STATUSES}/116000000000000077" not in {r.path for r in platform_server.requests}


def test_reactions_too_slow_to_come_are_a_note(swept, platform_server: PlatformServer, monkeypatch: pytest.MonkeyPatch):
    store, workspace, project, _keys, _root = swept
    monkeypatch.setattr("cmday.publishing.ENGAGEMENT_TIMEOUT_SECONDS", 0.3)
    platform_server.route("GET", f"{STATUSES}/116000000000000001", Reply(200, {}, delay=1.0))

    report = fetch_project(store, workspace, project, load_protocol())

    assert report.errors == []
    [note] = report.results[0].notes
    assert note.startswith("reactions to published posts not read: no complete answer within")


def test_the_accounts_figures_are_read_by_the_first_sweep_of_the_day(swept, platform_server: PlatformServer, monkeypatch):
    store, workspace, project, _keys, _root = swept
    credentials = "/api/v1/accounts/verify_credentials"

    fetch_project(store, workspace, project, load_protocol())
    fetch_project(store, workspace, project, load_protocol())  # a check a few hours later: no account call
    assert len(platform_server.requests_to(credentials)) == 1

    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(days=1))
    fetch_project(store, workspace, project, load_protocol())
    assert len(platform_server.requests_to(credentials)) == 2
    assert [(v.day, v.value) for v in store.kpi_values("acme", "followers.mastodon")] == [("2026-11-18", 1234), ("2026-11-19", 1234)]
