"""Instagram and Facebook through Meta's Graph API, against a real local server with the API's documented shapes.

Comment pages are recorded ones (python-facebook's test data, tests/fixtures/graph); the rest is built from
Meta's Graph API reference (IG Media, IG Comment, Page feed, error codes and usage headers) and says so.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cmday.http import HttpClient
from cmday.models import Project, ProjectInfo, WorkspaceConfig
from cmday.protocol import load_protocol
from cmday.sending import deliver
from cmday.sources.base import AuthenticationFailed, FetchContext, ReplyTarget
from cmday.sources.graph.api import GraphError
from cmday.sources.graph.facebook import FacebookAdapter
from cmday.sources.graph.instagram import InstagramAdapter
from cmday.sources.graph.settings import FacebookSource, InstagramSource
from cmday.store import Store
from cmday.sync import fetch_project
from cmday.workspace import Workspace
from tests.support.platform_server import PlatformServer, Reply
from tests.support.workspaces import add_source

NOW = datetime(2026, 4, 12, 7, 0, tzinfo=UTC)
TOKEN = "EAAGm0PX4ZCpsBAgraphtoken"
IG = "17841400008460056"
PAGE = "1234567890"
V = "/v21.0"


def recorded(fixtures: Path, name: str) -> Any:
    return json.loads((fixtures / "graph" / "instagram" / name).read_text(encoding="utf-8"))


def instagram(server: PlatformServer, **options: Any) -> InstagramSource:
    return InstagramSource(id="acme-ig", platform="instagram", ig_user_id=IG, token_env="ACME_IG_TOKEN",
                           base_url=server.url, **options)


def facebook(server: PlatformServer) -> FacebookSource:
    return FacebookSource(id="acme-fb", platform="facebook", page_id=PAGE, token_env="ACME_IG_TOKEN", base_url=server.url)


def sweep(tmp_path: Path, source) -> tuple[Store, Any]:
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[source])
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig(), projects={"acme": project})
    store = Store(tmp_path / "s.sqlite3")
    return store, lambda: fetch_project(store, workspace, project, load_protocol())


def context(http: HttpClient) -> FetchContext:
    return FetchContext(http=http, secret=lambda name: TOKEN, workspace_root=Path("."), now=NOW, project_slug="acme")


def graph_error(code: int, message: str, status: int = 400, **headers: str) -> Reply:
    # https://developers.facebook.com/docs/graph-api/guides/error-handling: the error object's shape
    return Reply(status, {"error": {"message": message, "type": "OAuthException", "code": code,
                                    "fbtrace_id": "AbCdEf"}}, headers=headers)


@pytest.fixture
def account(platform_server: PlatformServer, monkeypatch: pytest.MonkeyPatch) -> PlatformServer:
    """An IG professional account (reference: IG User, IG Media) with one post whose comments come in two pages."""
    monkeypatch.setenv("ACME_IG_TOKEN", TOKEN)
    platform_server.route("GET", f"{V}/{IG}", Reply(200, {"username": "acmecoffee", "id": IG}))
    platform_server.route("GET", f"{V}/{IG}/media", Reply(200, {"data": [
        {"id": "17846368219941692", "caption": "Brunch", "permalink": "https://www.instagram.com/p/B_abc/",
         "timestamp": "2020-01-01T09:00:00+0000", "comments_count": 5},
        {"id": "17846368219941693", "caption": None, "timestamp": "2020-01-02T09:00:00+0000", "comments_count": 0},
    ], "paging": {"cursors": {"before": "b", "after": "a"}}}))
    platform_server.route("GET", f"{V}/{IG}/tags", Reply(200, {"data": [
        {"id": "18000000000000001", "caption": "Coffee at @acmecoffee", "username": "visitor",
         "permalink": "https://www.instagram.com/p/C_tag/", "timestamp": "2020-06-02T08:00:00+0000"},
    ]}))
    return platform_server


def comment_pages(fixtures: Path) -> list[Reply]:
    first = recorded(fixtures, "comments_p1.json")
    # Nested replies and hidden state as the IG Comment reference documents them (`replies{...}`, `hidden`).
    first["data"][0]["username"] = "lucia"
    first["data"][0]["hidden"] = True
    first["data"][1]["replies"] = {"data": [
        {"id": "17900000000000001", "text": "Thanks!", "username": "acmecoffee", "timestamp": "2020-06-01T11:00:00+0000"},
        {"id": "17900000000000002", "text": "Me too", "username": "pablo", "timestamp": "2020-06-01T11:05:00+0000"},
    ]}
    return [Reply(200, first), Reply(200, recorded(fixtures, "comments_p2.json"))]


def test_instagram_comments_pages_replies_tags_and_hidden_come_in_once(
    account: PlatformServer, recorded_fixtures: Path, tmp_path: Path,
) -> None:
    account.route("GET", f"{V}/17846368219941692/comments", *comment_pages(recorded_fixtures))
    store, run = sweep(tmp_path, instagram(account))
    report = run()
    assert report.errors == [] and report.new == 6
    stored = {m.platform_id: m for m in store.mentions("acme", states=None)}
    assert set(stored) == {"17858154961981086", "17874875428706419", "17900000000000002", "17892250648466172",
                           "17914413430382429", "18000000000000001"}  # the brand's own "Thanks!" left out
    assert "hidden" in stored["17858154961981086"].flags and stored["17858154961981086"].author_handle == "@lucia"
    assert stored["17900000000000002"].in_reply_to == "17874875428706419"
    assert stored["18000000000000001"].kind == "mention"
    assert "no-author" in stored["17874875428706419"].flags  # the recorded page has no username: a null field
    second_page = account.requests_to(f"{V}/17846368219941692/comments")[1]
    assert second_page.query["after"] == ["after"]  # the cursor, never the token-bearing paging.next
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in account.requests)
    assert not any("access_token" in r.query for r in account.requests)
    assert json.loads(store.cursor("acme", "acme-ig"))["since"].startswith("2020-06-02T08:00")
    again = run()
    assert again.errors == [] and again.new == 0


def test_a_token_expiring_mid_fetch_moves_no_cursor_and_asks_to_log_in_again(
    account: PlatformServer, recorded_fixtures: Path, tmp_path: Path,
) -> None:
    first, _second = comment_pages(recorded_fixtures)
    # Code 190, subcode 463: "Session has expired" (Graph API error reference, access token errors).
    account.route("GET", f"{V}/17846368219941692/comments", first,
                  graph_error(190, "Error validating access token: Session has expired on Tuesday.", 401))
    store, run = sweep(tmp_path, instagram(account))
    [result] = run().results
    assert result.needs_auth and "log in again" in result.error
    assert TOKEN not in result.error
    assert store.cursor("acme", "acme-ig") is None  # the cursor never moved past what was not read
    account.route("GET", f"{V}/17846368219941692/comments", *comment_pages(recorded_fixtures))
    assert run().new == 6  # the next fetch, with a working token, reads the post's comments in full
    assert len(store.mentions("acme", states=None)) == 6


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_rate_limits_say_when_they_lift(account: PlatformServer, tmp_path: Path, code: int) -> None:
    # X-Business-Use-Case-Usage as documented in "Rate Limiting": per business id, minutes to regain access.
    usage = json.dumps({IG: [{"type": "instagram", "call_count": 100, "total_cputime": 30, "total_time": 40,
                              "estimated_time_to_regain_access": 25}]})
    account.route("GET", f"{V}/{IG}/media", graph_error(code, "(#4) Application request limit reached",
                                                         **{"X-Business-Use-Case-Usage": usage}))
    store, run = sweep(tmp_path, instagram(account))
    [result] = run().results
    lifts = datetime.now(UTC).astimezone()
    assert f"code {code}" in result.error and "lifts at about" in result.error
    shown = result.error.rsplit(" ", 1)[-1]
    minutes = (int(shown[:2]) * 60 + int(shown[3:]) - (lifts.hour * 60 + lifts.minute)) % (24 * 60)
    assert 24 <= minutes <= 26 and not result.needs_auth


def test_a_rate_limit_without_a_time_gives_the_app_usage(account: PlatformServer, tmp_path: Path) -> None:
    account.route("GET", f"{V}/{IG}/media", graph_error(4, "(#4) Application request limit reached",
                                                         **{"X-App-Usage": '{"call_count":100,"total_time":12,"total_cputime":9}'}))
    _store, run = sweep(tmp_path, instagram(account))
    [result] = run().results
    assert "100% of the app's hourly calls" in result.error


@pytest.mark.parametrize("code, message, permission", [
    (10, "(#10) Application does not have permission for this action", "instagram_manage_comments"),
    (200, "(#200) Requires pages_read_engagement permission to manage the object", "pages_read_engagement"),
])
def test_missing_permissions_are_named(
    account: PlatformServer, tmp_path: Path, code: int, message: str, permission: str,
) -> None:
    account.route("GET", f"{V}/17846368219941692/comments", graph_error(code, message, 403))
    _store, run = sweep(tmp_path, instagram(account))
    [result] = run().results
    assert f"lacks the permission {permission}" in result.error


def test_a_token_close_to_expiry_is_said_days_before(account: PlatformServer, tmp_path: Path) -> None:
    account.route("GET", f"{V}/17846368219941692/comments", Reply(200, {"data": []}))
    today = datetime.now(UTC).date()
    source = instagram(account, token_expires=date.fromordinal(today.toordinal() + 3))
    _store, run = sweep(tmp_path, source)
    [result] = run().results
    assert any("stops working in 3 days" in note or "stops working in 2 days" in note for note in result.notes)


def test_facebook_page_comments_replies_visitor_posts_and_missing_authors(
    platform_server: PlatformServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_IG_TOKEN", TOKEN)
    # Page feed with nested comments, per the Page Feed and Comment references; `from` is absent on comments
    # by people who have not allowed the app, as Meta documents for Page-scoped reads.
    platform_server.route("GET", f"{V}/{PAGE}/feed", Reply(200, {"data": [
        {"id": f"{PAGE}_111", "message": "Our new roast", "created_time": "2026-04-11T10:00:00+0000",
         "from": {"id": PAGE, "name": "Acme Coffee"}, "permalink_url": "https://www.facebook.com/acme/posts/111",
         "comments": {"data": [
             {"id": "111_1", "message": "Love it", "created_time": "2026-04-11T11:00:00+0000",
              "from": {"id": "555", "name": "Lucía"}, "is_hidden": False,
              "comments": {"data": [
                  {"id": "111_2", "message": "Thank you!", "created_time": "2026-04-11T11:10:00+0000",
                   "from": {"id": PAGE, "name": "Acme Coffee"}},
                  {"id": "111_3", "message": "Same", "created_time": "2026-04-11T11:20:00+0000", "from": None}]}},
             {"id": "111_4", "message": "spam spam", "created_time": "2026-04-11T12:00:00+0000", "is_hidden": True}],
             "paging": {"cursors": {"after": "QVFI"}, "next": "https://graph.facebook.com/v21.0/x?access_token=t"}}},
        {"id": f"{PAGE}_222", "message": "Cold coffee yesterday", "created_time": "2026-04-11T15:00:00+0000",
         "from": {"id": "777", "name": "Pablo"}},
    ]}))
    platform_server.route("GET", f"{V}/{PAGE}_111/comments", Reply(200, {"data": [
        {"id": "111_5", "message": "When do you open?", "created_time": "2026-04-11T13:00:00+0000",
         "from": {"id": "888", "name": "Ana"}}]}))
    store, run = sweep(tmp_path, facebook(platform_server))
    report = run()
    assert report.errors == []
    stored = {m.platform_id: m for m in store.mentions("acme", states=None)}
    assert set(stored) == {"111_1", "111_3", "111_4", "111_5", f"{PAGE}_222"}
    assert stored[f"{PAGE}_222"].kind == "mention" and stored["111_3"].in_reply_to == "111_1"
    assert "hidden" in stored["111_4"].flags and "no-author" in stored["111_3"].flags
    assert platform_server.requests_to(f"{V}/{PAGE}_111/comments")[0].query["after"] == ["QVFI"]


def test_instagram_reply_goes_once_and_a_lost_answer_is_found_before_any_resend(account: PlatformServer) -> None:
    target = ReplyTarget("17900000000000002", "@pablo", "reply",
                         {"graph": "comment", "id": "17900000000000002", "parent_id": "17874875428706419",
                          "permalink": "https://www.instagram.com/p/B_abc/"})
    # The reply is stored, its answer lost; the look-up finds it among the comment's replies (IG Comment /replies).
    account.route("POST", f"{V}/17874875428706419/replies", Reply(200, {"id": "17999"}, drop=True))
    account.route("GET", f"{V}/17874875428706419/replies", Reply(200, {"data": [
        {"id": "17999", "text": "See you  soon", "username": "acmecoffee", "timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%S+0000")}]}))

    async def go():
        async with HttpClient() as http:
            adapter = InstagramAdapter(instagram(account), context(http))
            return await deliver(lambda: adapter.reply(target, "See you soon", "k1"),
                                 lambda: adapter.find_reply(target, "See you soon", "k1", NOW), earlier_attempt=False)

    delivery = asyncio.run(go())
    assert delivery.found and delivery.sent.remote_id == "17999"
    posts = account.requests_to(f"{V}/17874875428706419/replies")
    assert [r.method for r in posts].count("POST") == 1  # a reply to a reply goes under its comment, once
    assert posts[0].query["message"] == ["See you soon"]


def test_facebook_reply_is_a_comment_on_the_comment_and_an_earlier_one_is_not_resent(
    platform_server: PlatformServer,
) -> None:
    target = ReplyTarget("111_3", "", "reply", {"graph": "comment", "id": "111_3", "thread": "111_1", "permalink": ""})
    platform_server.route("GET", f"{V}/111_1/comments", Reply(200, {"data": [
        {"id": "111_9", "message": "We open at 8", "created_time": NOW.strftime("%Y-%m-%dT%H:%M:%S+0000"),
         "from": {"id": PAGE, "name": "Acme Coffee"}, "permalink_url": "https://www.facebook.com/c/111_9"}]}))
    platform_server.route("POST", f"{V}/111_1/comments", Reply(200, {"id": "111_10"}))

    async def go(earlier: bool):
        async with HttpClient() as http:
            adapter = FacebookAdapter(facebook(platform_server), context(http))
            return await deliver(lambda: adapter.reply(target, "We open at 8", "k"),
                                 lambda: adapter.find_reply(target, "We open at 8", "k", NOW), earlier_attempt=earlier)

    found = asyncio.run(go(True))
    assert found.found and found.sent.remote_id == "111_9"
    assert not [r for r in platform_server.requests if r.method == "POST"]
    sent = asyncio.run(go(False))
    assert not sent.found and sent.sent.remote_id == "111_10"


def test_an_expired_token_on_a_reply_is_an_authentication_error(account: PlatformServer) -> None:
    target = ReplyTarget("17858154961981086", "@lucia", "reply", {"graph": "comment", "id": "17858154961981086"})
    account.route("POST", f"{V}/17858154961981086/replies", graph_error(190, "Error validating access token", 400))

    async def go():
        async with HttpClient() as http:
            await InstagramAdapter(instagram(account), context(http)).reply(target, "Hi", "k")

    with pytest.raises(AuthenticationFailed):
        asyncio.run(go())
    with pytest.raises(GraphError):
        asyncio.run(_refused(account))


async def _refused(account: PlatformServer) -> None:
    account.route("POST", f"{V}/17858154961981086/replies", graph_error(100, "Invalid parameter"))
    async with HttpClient() as http:
        await InstagramAdapter(instagram(account), context(http)).reply(
            ReplyTarget("17858154961981086", "", "reply", {"graph": "comment"}), "Hi", "k")


def test_tags_refused_leave_the_comments_read_and_say_why(
    account: PlatformServer, recorded_fixtures: Path, tmp_path: Path,
) -> None:
    account.route("GET", f"{V}/17846368219941692/comments", *comment_pages(recorded_fixtures))
    account.route("GET", f"{V}/{IG}/tags", graph_error(10, "(#10) Application does not have permission for this action", 403))
    store, run = sweep(tmp_path, instagram(account))
    [result] = run().results
    assert result.error is None and result.new == 5
    assert any("lacks the permission instagram_basic" in note for note in result.notes)
    assert store.cursor("acme", "acme-ig") is not None


def test_facebook_recommendations_come_in_as_mentions_and_are_answered_on_their_story(
    platform_server: PlatformServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_IG_TOKEN", TOKEN)
    platform_server.route("GET", f"{V}/{PAGE}/feed", Reply(200, {"data": []}))
    # The Recommendation fields of the Page Ratings reference (facebook_business's Recommendation.Field names them):
    # no id of its own, the story's id in `open_graph_story`, `reviewer` only where Meta gives it.
    platform_server.route("GET", f"{V}/{PAGE}/ratings", Reply(200, {"data": [
        {"created_time": "2026-04-11T18:00:00+0000", "has_rating": False, "has_review": True,
         "recommendation_type": "negative", "review_text": "Cold coffee and a rude waiter",
         "open_graph_story": {"id": "10158000000000001"}, "reviewer": {"id": "999", "name": "Marta"}},
        {"created_time": "2026-04-10T09:00:00+0000", "has_rating": False, "has_review": False,
         "recommendation_type": "positive", "open_graph_story": {"id": "10158000000000002"}},
        {"created_time": "2019-03-01T09:00:00+0000", "has_rating": True, "has_review": False, "rating": 4},
        {"has_rating": True, "rating": 2},
    ], "paging": {"cursors": {"before": "b", "after": "a"}}}))
    store, run = sweep(tmp_path, facebook(platform_server))
    [result] = run().results
    assert result.error is None and result.new == 3
    stored = {m.platform_id: m for m in store.mentions("acme", states=None)}
    negative = stored["10158000000000001"]
    assert negative.kind == "mention" and negative.text == "does not recommend the Page: Cold coffee and a rude waiter"
    assert negative.author_name == "Marta" and negative.url == "https://www.facebook.com/10158000000000001"
    assert stored["10158000000000002"].text == "recommends the Page" and "no-author" in stored["10158000000000002"].flags
    assert stored["rating:-:2019-03-01T09:00:00+00:00"].text == "rates the Page 4 stars"
    assert any("1 recommendation came with neither a story nor a date" in note for note in result.notes)
    assert run().new == 0

    platform_server.route("POST", f"{V}/10158000000000001/comments", Reply(200, {"id": "10158000000000001_77"}))
    target = ReplyTarget("10158000000000001", "Marta", "mention", json.loads(store.raw_payload(negative.id)))

    async def answer():
        async with HttpClient() as http:
            return await FacebookAdapter(facebook(platform_server), context(http)).reply(target, "Sorry, Marta", "k")

    assert asyncio.run(answer()).remote_id == "10158000000000001_77"


def test_facebook_recommendations_refused_leave_the_comments_and_say_how_to_stop_asking(
    platform_server: PlatformServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_IG_TOKEN", TOKEN)
    platform_server.route("GET", f"{V}/{PAGE}/feed", Reply(200, {"data": [
        {"id": f"{PAGE}_9", "message": "Hi", "created_time": "2026-04-11T15:00:00+0000", "from": {"id": "7", "name": "Pablo"}}]}))
    platform_server.route("GET", f"{V}/{PAGE}/ratings",
                          graph_error(283, "(#283) Requires pages_read_user_content permission to manage the object", 403))
    store, run = sweep(tmp_path, facebook(platform_server))
    [result] = run().results
    assert result.error is None and result.new == 1
    assert any("lacks the permission pages_read_user_content" in n and "ratings = false" in n for n in result.notes)
    assert store.cursor("acme", "acme-fb") is not None
    asked = len(platform_server.requests_to(f"{V}/{PAGE}/ratings"))
    (tmp_path / "off").mkdir()
    _store, run = sweep(tmp_path / "off", FacebookSource(id="acme-fb", platform="facebook", page_id=PAGE,
                                                         token_env="ACME_IG_TOKEN", base_url=platform_server.url,
                                                         ratings=False))
    [result] = run().results
    assert result.notes == [] and len(platform_server.requests_to(f"{V}/{PAGE}/ratings")) == asked


def _replies(first: int, count: int, after: str | None, nested: bool = False, field: str = "text") -> dict:
    """A page of replies as the IG Comment /replies and Comment /comments references give them; ids numbered."""
    page: dict[str, Any] = {"data": [
        {"id": f"1795{n:04d}", field: f"reply {n}", **({"username": f"fan{n}", "timestamp": f"2026-04-11T12:{n % 60:02d}:00+0000"}
                                                      if field == "text" else
                                                      {"from": {"id": f"8{n}", "name": f"Fan {n}"},
                                                       "created_time": f"2026-04-11T12:{n % 60:02d}:00+0000"})}
        for n in range(first, first + count)]}
    if after:
        page["paging"] = {"cursors": {"before": "b", "after": after},
                          "next": f"https://graph.facebook.com/v21.0/x?access_token=t&after={after}"}
    return page


def test_a_burst_of_replies_past_the_nested_page_is_read_whole_on_instagram(
    account: PlatformServer, tmp_path: Path,
) -> None:
    # 80 replies under one comment: 25 nested in the comment (Meta's page for `replies{...}`), then /replies pages.
    account.route("GET", f"{V}/17846368219941692/comments", Reply(200, {"data": [
        {"id": "17858000000000001", "text": "Giveaway! Reply to win", "username": "lucia",
         "timestamp": "2026-04-11T11:00:00+0000", "replies": _replies(0, 25, "R25")}]}))
    account.route("GET", f"{V}/17858000000000001/replies",
                  Reply(200, _replies(25, 50, "R75")), Reply(200, _replies(75, 5, None)))
    store, run = sweep(tmp_path, instagram(account))
    [result] = run().results
    assert result.error is None and result.new == 82 and not result.notes  # with the tagged post
    stored = {m.platform_id: m for m in store.mentions("acme", states=None)}
    assert {f"1795{n:04d}" for n in range(80)} <= set(stored)
    assert stored["17950079"].in_reply_to == "17858000000000001"
    pages = account.requests_to(f"{V}/17858000000000001/replies")
    assert [r.query["after"] for r in pages] == [["R25"], ["R75"]]  # cursors only, never the token-bearing next


def test_a_burst_of_replies_past_the_nested_page_is_read_whole_on_facebook(
    platform_server: PlatformServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_IG_TOKEN", TOKEN)
    platform_server.route("GET", f"{V}/{PAGE}/feed", Reply(200, {"data": [
        {"id": f"{PAGE}_5", "message": "Win a coffee", "created_time": "2026-04-11T10:00:00+0000",
         "from": {"id": PAGE, "name": "Acme Coffee"}, "comments": {"data": [
             {"id": "5_1", "message": "Me!", "created_time": "2026-04-11T11:00:00+0000", "from": {"id": "9", "name": "Ana"},
              "comments": _replies(0, 25, "F25", field="message")}]}}]}))
    platform_server.route("GET", f"{V}/5_1/comments", Reply(200, _replies(25, 12, None, field="message")))
    platform_server.route("GET", f"{V}/{PAGE}/ratings", Reply(200, {"data": []}))
    store, run = sweep(tmp_path, facebook(platform_server))
    [result] = run().results
    assert result.error is None and result.new == 38
    assert store.mentions("acme", states=None, limit=None)[-1].in_reply_to == "5_1"
    assert platform_server.requests_to(f"{V}/5_1/comments")[0].query["after"] == ["F25"]


def test_a_thread_longer_than_a_fetch_reads_is_said_not_dropped(account: PlatformServer, tmp_path: Path) -> None:
    account.route("GET", f"{V}/17846368219941692/comments", Reply(200, {"data": [
        {"id": "17858000000000001", "text": "Giveaway!", "username": "lucia", "timestamp": "2026-04-11T11:00:00+0000",
         "replies": _replies(0, 25, "R0")}]}))
    account.route("GET", f"{V}/17858000000000001/replies", *[Reply(200, _replies(25 + 50 * n, 50, f"R{n + 1}")) for n in range(10)])
    _store, run = sweep(tmp_path, instagram(account))
    [result] = run().results
    assert any("only the first 525 replies under https://www.instagram.com/p/B_abc/" in note for note in result.notes)


def test_a_post_that_mentions_the_account_is_answered_through_mentions_once(account: PlatformServer, tmp_path: Path) -> None:
    # Reference: IG User Mentions (POST /{ig-user-id}/mentions?media_id=&message=) and IG User Mentioned Media
    # (GET /{ig-user-id}?fields=mentioned_media.media_id(...){comments{...}}) for the look before any resend.
    store, run = sweep(tmp_path, instagram(account))
    account.route("GET", f"{V}/17846368219941692/comments", Reply(200, {"data": []}))
    run()
    [tagged] = store.mentions("acme", states=None)
    target = ReplyTarget(tagged.platform_id, tagged.author_handle, tagged.kind, json.loads(store.raw_payload(tagged.id)))
    account.route("POST", f"{V}/{IG}/mentions", Reply(200, {"id": "17870000000000009"}, drop=True))
    account.route("GET", f"{V}/{IG}", Reply(200, {"username": "acmecoffee", "id": IG}), Reply(200, {
        "mentioned_media": {"id": "18000000000000001", "comments": {"data": [
            {"id": "17870000000000001", "text": "Nice!", "username": "visitor", "timestamp": "2026-04-12T06:59:00+0000"},
            {"id": "17870000000000009", "text": "Thanks for coming!", "username": "acmecoffee",
             "timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%S+0000")}]}}, "id": IG}))

    async def go():
        async with HttpClient() as http:
            adapter = InstagramAdapter(instagram(account), context(http))
            return await deliver(lambda: adapter.reply(target, "Thanks for coming!", "k"),
                                 lambda: adapter.find_reply(target, "Thanks for coming!", "k", NOW), earlier_attempt=False)

    delivery = asyncio.run(go())
    assert delivery.found and delivery.sent.remote_id == "17870000000000009"
    [post] = [r for r in account.requests_to(f"{V}/{IG}/mentions") if r.method == "POST"]
    assert post.query["media_id"] == ["18000000000000001"] and post.query["message"] == ["Thanks for coming!"]
    look = account.requests_to(f"{V}/{IG}")[-1]
    assert look.query["fields"] == ["mentioned_media.media_id(18000000000000001){comments.limit(50){id,text,timestamp,username}}"]


def test_a_post_the_account_is_only_tagged_in_is_refused_before_any_draft(
    account: PlatformServer, workspace: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.cli_runner import run

    account.route("GET", f"{V}/{IG}/tags", Reply(200, {"data": [
        {"id": "18000000000000002", "caption": "Sunday brunch", "username": "visitor",
         "permalink": "https://www.instagram.com/p/C_phototag/", "timestamp": "2026-04-11T08:00:00+0000"}]}))
    account.route("GET", f"{V}/17846368219941692/comments", Reply(200, {"data": []}))
    monkeypatch.setenv("CMDAY_WORKSPACE", str(workspace))
    add_source(workspace, f'id = "acme-ig"\nplatform = "instagram"\nig_user_id = "{IG}"\ntoken_env = "ACME_IG_TOKEN"\nbase_url = "{account.url}"\n')
    assert run("fetch").exit_code == 0
    [mention] = json.loads(run("inbox", "--json").stdout)["mentions"]
    ran = run("reply", str(mention["id"]), "--text", "Thanks!", "--yes")
    assert ran.exit_code == 2 and "only tagged in" in ran.stderr and "https://www.instagram.com/p/C_phototag/" in ran.stderr
    assert not [r for r in account.requests if r.method == "POST"]
    again = run("reply", str(mention["id"]), "--text", "Something else", "--yes")
    assert "pending" not in again.stderr  # nothing was left half-sent


def test_recorded_replies_to_a_facebook_comment_are_followed_to_their_last_page(
    platform_server: PlatformServer, recorded_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_IG_TOKEN", TOKEN)
    first = json.loads((recorded_fixtures / "graph" / "facebook" / "comment_by_parent_p1.json").read_text(encoding="utf-8"))
    last = json.loads((recorded_fixtures / "graph" / "facebook" / "comment_by_parent_p2.json").read_text(encoding="utf-8"))
    parent = "2121008874780932_2498613793687103"
    platform_server.route("GET", f"{V}/{PAGE}/feed", Reply(200, {"data": [
        {"id": "2121008874780932_2498598377021978", "message": "New menu", "created_time": "2019-12-16T10:00:00+0000",
         "from": {"id": PAGE, "name": "Acme Coffee"}, "comments": {"data": [
             {"id": parent, "message": "What about vegan?", "created_time": "2019-12-16T11:00:00+0000",
              "from": {"id": "3", "name": "Ana"}, "comments": first}]}}]}))  # the first page of replies, nested
    platform_server.route("GET", f"{V}/{parent}/comments", Reply(200, last))
    platform_server.route("GET", f"{V}/{PAGE}/ratings", Reply(200, {"data": []}))
    store, run = sweep(tmp_path, facebook(platform_server))
    assert run().new == 8
    replies = [m for m in store.mentions("acme", states=None) if m.in_reply_to == parent]
    assert {m.text for m in replies} >= {"Good job!😏", "I have some tests", "sad"} and len(replies) == 7
    [rest] = platform_server.requests_to(f"{V}/{parent}/comments")
    assert rest.query["after"] == ["token"] and "access_token" not in rest.query
