"""The Bluesky adapter against a real local HTTP server serving payloads recorded from bsky.social and atproto."""

from __future__ import annotations

import asyncio
import bisect
import copy
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmday.errors import SourceError
from cmday.http import HttpClient
from cmday.models import Project, ProjectInfo, WorkspaceConfig
from cmday.protocol import load_protocol
from cmday.sources.base import AuthenticationFailed, Batch, FetchContext
from cmday.sources.bluesky.adapter import BlueskyAdapter
from cmday.sources.bluesky.entities import LATE_INDEXING, PostRecord, parse_time
from cmday.sources.bluesky.fetch import read_notifications, read_search
from cmday.sources.bluesky.settings import BlueskySource
from cmday.sources.bluesky.text import text_with_links
from cmday.store import Store
from cmday.sync import fetch_project
from cmday.workspace import Workspace
from tests.support.platform_server import Reply, Request

NOW = datetime(2025, 5, 19, 18, 0, tzinfo=UTC)
PASSWORD = "qwer-tyui-asdf-ghjk"
CREATE = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
RESPONSES = "bluesky/responses"
NOTIFICATIONS_FILE = f"{RESPONSES}/bskyr_n_notifications__00__GET_xrpc_app_bsky_notification_listNotifications__200.json"
SEARCH_FILE = f"{RESPONSES}/bskyr_f_search__00__GET_xrpc_app_bsky_feed_searchPosts__200.json"
SESSION_FILE = f"{RESPONSES}/bskyr_repo_auth_direct__00__POST_xrpc_com_atproto_server_createSession__200.json"
REFUSED_FILE = f"{RESPONSES}/bskyr_repo_auth_cache__00__POST_xrpc_com_atproto_server_createSession__401.json"
EXPIRED_FILE = "bluesky/issue_reports/expiredtoken__Preloading_TwitterAPIBridge_issue2__400.json"
REVOKED_FILE = "bluesky/issue_reports/expiredtoken_revoked__mikf_gallery-dl_issue8646__400.reconstructed.json"
RATE_FILE = "bluesky/issue_reports/ratelimitexceeded__Gorcenski_skeeter-deleter_issue5__429.reconstructed.json"
RATE_HEADERS_FILE = "bluesky/issue_reports/ratelimitexceeded__Gorcenski_skeeter-deleter_issue5__429.headers.reconstructed.json"
REPLIES_SNAPSHOT = "bluesky/snapshots/notifications__07__notification_views_filters_notifications_by_multiple_reasons_1.json"
END_OF_LIST: dict[str, Any] = {"notifications": []}


@dataclass
class Run:
    batches: list[Batch] = field(default_factory=list)
    error: Exception | None = None

    @property
    def mentions(self) -> list:
        return [m for b in self.batches for m in b.mentions]

    @property
    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for batch in self.batches:
            for key, value in batch.counts.items():
                total[key] = total.get(key, 0) + value
        return total

    @property
    def cursor(self) -> dict[str, Any]:
        return json.loads(self.batches[-1].cursor)


def source(url: str, **overrides: Any) -> BlueskySource:
    fields = {"id": "b", "platform": "bluesky", "service": url, "handle": "acme.bsky.social", "password_env": "X"}
    return BlueskySource(**(fields | overrides))


def collect(src: BlueskySource, cursor: str | None = None, secret: str | None = PASSWORD, state: dict | None = None,
            **http_options: float) -> Run:
    """Run one fetch; what was yielded before an error is kept, as sync would have stored it."""
    run = Run()

    async def go() -> None:
        async with HttpClient(**http_options) as http:
            context = FetchContext(
                http=http, secret=lambda name: secret, workspace_root=Path("."), now=NOW, project_slug="acme",
                state={} if state is None else state,
            )
            try:
                async for batch in BlueskyAdapter(src, context).fetch(cursor):
                    run.batches.append(batch)
            except Exception as error:  # noqa: BLE001 - the test looks at it
                run.error = error

    asyncio.run(go())
    return run


def fetch(src: BlueskySource, cursor: str | None = None, **options: Any) -> Run:
    run = collect(src, cursor, **options)
    if run.error:
        raise run.error
    return run


def header(request: Request, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


def assert_password_hidden(error: BaseException) -> None:
    shown = " ".join(str(part) for part in (error, getattr(error, "message", ""), getattr(error, "hint", "")))
    assert PASSWORD not in shown
    assert PASSWORD not in repr(error)


@pytest.fixture
def load(recorded_fixtures: Path):
    def read(name: str) -> Any:
        return json.loads((recorded_fixtures / name).read_text(encoding="utf-8"))

    return read


@pytest.fixture
def session(load):
    def reply(access: str = "access-1", refresh: str = "refresh-1") -> Reply:
        body = load(SESSION_FILE)
        # bskyr blanked the JWTs before publishing its cassette; any non-empty token stands in for them.
        assert body["accessJwt"] == body["refreshJwt"] == ""
        return Reply(200, body | {"accessJwt": access, "refreshJwt": refresh})

    return reply


@pytest.fixture
def notifications(load):
    return load(NOTIFICATIONS_FILE)


@pytest.fixture
def server(platform_server, session, notifications):
    """Login works and the recorded notifications page is the whole list (asking for older ones gets none)."""
    platform_server.route("POST", CREATE, session())
    platform_server.route("GET", NOTIFICATIONS, lambda r: Reply(200, END_OF_LIST if "cursor" in r.query else notifications))
    return platform_server


# -- notifications -------------------------------------------------------------------------------


def test_recorded_notifications_become_mentions_replies_and_quotes(server):
    run = fetch(source(server.url))

    kinds = [m.kind for m in run.mentions]
    assert kinds.count("mention") == 11 and kinds.count("quote") == 7 and len(kinds) == 18
    assert run.counts == {"favourites": 13, "boosts": 2, "follows": 17}
    first = run.mentions[0]
    assert first.platform == "bluesky"
    assert first.platform_id == "at://did:plc:lprqqpoyjspuma25n5gofocf/app.bsky.feed.post/3lmicbemya22g"
    assert first.url == "https://bsky.app/profile/josephjefe.bsky.social/post/3lmicbemya22g"
    assert first.author_handle == "josephjefe.bsky.social"
    assert first.author_url == "https://bsky.app/profile/josephjefe.bsky.social"
    assert first.language == "en"
    assert first.in_reply_to == "at://did:plc:lprqqpoyjspuma25n5gofocf/app.bsky.feed.post/3lmib4yep2k2g"
    assert first.created_at == datetime(2025, 4, 10, 20, 1, 53, 909000, tzinfo=UTC)
    assert first.raw["reason"] == "mention"
    quote = next(m for m in run.mentions if m.kind == "quote")
    assert quote.author_name == "Chris Kenny"
    swedish = next(m for m in run.mentions if m.author_handle == "magnusx71.bsky.social")
    assert swedish.language == "sv"
    assert swedish.author_name == "Arga Statistikern"


def test_login_and_every_call_carry_what_xrpc_expects(server):
    fetch(source(server.url))

    [login] = server.requests_to(CREATE)
    assert login.json() == {"identifier": "acme.bsky.social", "password": PASSWORD}
    listing = server.requests_to(NOTIFICATIONS)[0]
    assert header(listing, "Authorization") == "Bearer access-1"
    assert listing.query["limit"] == ["50"]
    assert all(PASSWORD not in r.path and PASSWORD not in json.dumps(r.query) for r in server.requests)


def test_timestamps_in_every_recorded_shape_are_parsed():
    assert parse_time("2025-02-24T04:27:20.710330Z") == datetime(2025, 2, 24, 4, 27, 20, 710330, tzinfo=UTC)
    assert parse_time("2025-03-20T17:15:03-03:00") == datetime(2025, 3, 20, 20, 15, 3, tzinfo=UTC)
    assert parse_time("2023-10-02T09:17:45.9229303Z") == datetime(2023, 10, 2, 9, 17, 45, 922930, tzinfo=UTC)
    assert parse_time("2023-07-21T01:33:51.481951") == datetime(2023, 7, 21, 1, 33, 51, 481951, tzinfo=UTC)
    assert parse_time("2023-12-13T20:37:03Z") == datetime(2023, 12, 13, 20, 37, 3, tzinfo=UTC)
    assert parse_time("2023-10-03T03:04:39.441080+00:00") == datetime(2023, 10, 3, 3, 4, 39, 441080, tzinfo=UTC)
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_a_broken_created_at_falls_back_to_indexed_at(notifications):
    page = copy.deepcopy(notifications)
    mention = next(n for n in page["notifications"] if n["reason"] == "mention")
    mention["record"]["createdAt"] = "not a date"

    [first, *_rest] = read_notifications(page, None).mentions

    assert first.created_at == parse_time(mention["indexedAt"])


def test_replies_from_the_atproto_snapshot_keep_their_parent(load):
    page = load(REPLIES_SNAPSHOT)

    mentions = read_notifications(page, None).mentions

    assert [m.kind for m in mentions] == ["reply", "reply", "reply", "mention"]
    assert [m.in_reply_to for m in mentions[:3]] == ["record(3)", "record(4)", "record(4)"]
    # The snapshot replaces URIs by placeholders: no bsky.app link can be made, and none is invented.
    assert mentions[0].url == ""
    assert mentions[0].author_url == "https://bsky.app/profile/carol.test"
    assert mentions[3].text == "@alice.bluesky.xyz is the best"


def test_items_that_fail_validation_are_skipped_and_counted(notifications):
    page = copy.deepcopy(notifications)
    items = page["notifications"]
    del items[13]["author"]  # the first mention
    items[19]["indexedAt"] = "sometime"  # a quote
    items[0] = "not a notification"
    items[22]["record"] = ["not", "a", "post"]  # a mention
    items[25]["record"]["facets"] = [{"index": "nowhere"}, 7]  # cosmetic: the mention stays

    read = read_notifications(page, None)

    assert read.counts["skipped"] == 4
    assert len(read.mentions) == 18 - 3


def test_a_page_that_is_not_a_listing_is_a_source_error():
    with pytest.raises(SourceError, match="not a page of results"):
        read_notifications({"posts": []}, None)
    with pytest.raises(SourceError):
        read_search([1, 2], None, set())


# -- facets --------------------------------------------------------------------------------------


def test_shortened_links_after_emoji_and_accents_are_expanded_by_byte_offsets(platform_server, session, load):
    platform_server.route("POST", CREATE, session())
    platform_server.route("GET", NOTIFICATIONS, Reply(200, END_OF_LIST))
    platform_server.route("GET", SEARCH, Reply(200, load(SEARCH_FILE)))

    run = fetch(source(platform_server.url, search=["redistricting"]))

    thread = next(m for m in run.mentions if m.platform_id.endswith("/3lpjy3eabqs2l"))
    # 🧵 is 4 bytes in UTF-8: slicing the text by characters would cut the wrong span.
    assert "in a thread 🧵" in thread.text
    assert thread.text.endswith(
        "the brief of the LULAC plaintiffs:\n\n"
        "https://drive.google.com/file/d/1PvWocH9A_Kn_cxRX8uDoMsfDwqbVGkGk/view?usp=sharing"
    )
    apple = next(m for m in run.mentions if m.author_handle == "bodyballistics.bsky.social")
    assert "Let’s stay on track" in apple.text
    assert apple.text.endswith("come a calling soon. \n\nhttps://apple.news/AcGBmSTmyTiabB-T0uj90Cg")
    assert "..." not in apple.text


def test_accented_text_before_a_full_link_and_mentions_stay_as_written(notifications):
    swedish = next(m for m in read_notifications(notifications, None).mentions if m.language == "sv")

    assert swedish.text.startswith("Följarkurva på den här appen")
    assert "in R on posit.cloud thx to @chriskenny.bsky.social. #rstats" in swedish.text


def test_spanish_post_with_emoji_accents_and_a_shortened_link():
    text = "¡Qué café! ☕️🇪🇸 Reseña aquí: cafe-aroma.example/resenas/malas... ¿opiniones?"
    label = "cafe-aroma.example/resenas/malas..."
    start = text.encode().index(label.encode())
    facets = [_link(start, start + len(label.encode()), "https://cafe-aroma.example/resenas/malasana-2025")]

    shown = text_with_links(text, PostRecord.model_validate({"text": text, "facets": facets}).facets)

    assert shown == "¡Qué café! ☕️🇪🇸 Reseña aquí: https://cafe-aroma.example/resenas/malasana-2025 ¿opiniones?"


def test_a_link_label_that_hides_its_target_shows_both_and_bad_offsets_are_ignored():
    text = "Gana premios 🎁 aquí"
    data = text.encode()
    start = data.index("aquí".encode())
    record = PostRecord.model_validate({
        "text": text,
        "facets": [
            _link(start, len(data), "https://spam.example/x"),
            _link(2, 900, "https://out.of.range"),
            _link(data.index("🎁".encode()) + 1, start, "https://split.character"),
            {"index": {"byteStart": 0, "byteEnd": 4}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}]},
        ],
    })

    assert text_with_links(text, record.facets) == "Gana premios 🎁 aquí (https://spam.example/x)"


def _link(start: int, end: int, uri: str) -> dict[str, Any]:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]}


# -- search --------------------------------------------------------------------------------------


def test_search_hits_are_search_mentions_without_the_accounts_own_posts(server, load):
    server.route("GET", SEARCH, Reply(200, load(SEARCH_FILE)))

    run = fetch(source(server.url, handle="mcpli.bsky.social", search=["redistricting"]))

    hits = [m for m in run.mentions if m.kind == "search"]
    assert len(hits) == 25 - 3  # mcpli wrote three of them
    assert all(m.author_handle != "mcpli.bsky.social" for m in hits)
    [query] = server.requests_to(SEARCH)
    assert query.query == {"q": ["redistricting"], "sort": ["latest"], "limit": ["50"]}
    assert header(query, "Authorization") == "Bearer access-1"
    assert run.cursor["search"] == {"redistricting": "2025-05-19T17:10:09.813000Z"}


def test_a_post_seen_in_notifications_and_in_search_has_one_id(server, notifications, load):
    search = load(SEARCH_FILE)
    mention = next(n for n in notifications["notifications"] if n["reason"] == "mention")
    search["posts"][0] = {k: mention[k] for k in ("uri", "cid", "author", "record", "indexedAt")}
    server.route("GET", SEARCH, Reply(200, search))

    run = fetch(source(server.url, search=["bskyr"]))

    ids = [m.platform_id for m in run.mentions if m.platform_id == mention["uri"]]
    assert len(ids) == 2
    assert {m.kind for m in run.mentions if m.platform_id == mention["uri"]} == {"mention", "search"}


# -- the cursor ----------------------------------------------------------------------------------


def test_a_second_run_only_yields_what_is_new_and_stops_at_the_mark(server, notifications):
    first = fetch(source(server.url))
    newer = copy.deepcopy(next(n for n in notifications["notifications"] if n["reason"] == "mention"))
    newer["uri"] = newer["uri"].rsplit("/", 1)[0] + "/3lpnewpost2x"
    newer["indexedAt"] = "2025-05-18T09:00:00.000Z"
    server.route("GET", NOTIFICATIONS, Reply(200, notifications | {"notifications": [newer, *notifications["notifications"]]}))
    server.requests.clear()

    second = fetch(source(server.url), cursor=first.batches[-1].cursor)

    assert [m.platform_id for m in second.mentions] == [newer["uri"]]
    assert second.counts == {}  # likes and follows already counted last time
    assert len(server.requests_to(NOTIFICATIONS)) == 1  # the first page reached the mark
    assert second.cursor["notifications_seen"] == "2025-05-18T09:00:00.000000Z"
    third = fetch(source(server.url), cursor=second.batches[-1].cursor)
    # read again, as what lies within LATE_INDEXING below the mark always is (storing keeps it once), not counted again
    assert [m.platform_id for m in third.mentions] == [newer["uri"]] and third.counts == {}


def test_pages_go_back_to_the_mark_and_only_the_last_batch_moves_it(platform_server, session, notifications):
    items = notifications["notifications"]
    pages = {None: {"notifications": items[:25], "cursor": "c1"}, "c1": {"notifications": items[25:]}}
    platform_server.route("POST", CREATE, session())
    platform_server.route("GET", NOTIFICATIONS, lambda r: Reply(200, pages[r.query.get("cursor", [None])[0]]))

    run = fetch(source(platform_server.url), cursor=json.dumps({"search": {"old keyword": "2025-01-01T00:00:00Z"}}))

    assert [b.cursor is None for b in run.batches] == [True, False]
    assert len(run.mentions) == 18
    assert run.cursor == {
        "notifications_seen": "2025-05-17T08:44:44.416000Z",
        "search": {"old keyword": "2025-01-01T00:00:00Z"},  # a keyword no longer searched is not forgotten
    }


def test_a_failure_half_way_keeps_what_came_but_not_the_mark(platform_server, session, notifications):
    items = notifications["notifications"]
    platform_server.route("POST", CREATE, session())
    platform_server.route(
        "GET", NOTIFICATIONS,
        lambda r: Reply(500, {"error": "InternalServerError"}) if r.query.get("cursor") else Reply(
            200, {"notifications": items[:25], "cursor": "c1"}),
    )
    previous = json.dumps({"notifications_seen": "2024-01-01T00:00:00Z", "search": {}})

    run = collect(source(platform_server.url), cursor=previous)

    assert isinstance(run.error, SourceError)
    assert len(run.mentions) == sum(n["reason"] in ("mention", "quote") for n in items[:25]) == 4
    # The mark stays where it was; the next fetch carries on below what the first page held.
    assert json.loads(run.batches[-1].cursor) == {
        "notifications_seen": "2024-01-01T00:00:00Z",
        "notifications_seen/backlog": {"cursor": "c1", "newest": "2025-05-17T08:44:44.416000Z"},
        "search": {},
    }


def test_a_new_keyword_reads_one_page_then_pages_back_to_its_mark(server, load):
    search = load(SEARCH_FILE)  # its cursor "25" offers a further page
    server.route("GET", SEARCH, lambda r: Reply(200, {"posts": []} if r.query.get("cursor") else search))
    src = source(server.url, search=["redistricting"])

    first = fetch(src)
    assert len(server.requests_to(SEARCH)) == 1
    second = fetch(src, cursor=first.batches[-1].cursor)
    # only what lies within LATE_INDEXING below the newest is read again (storing keeps it once)
    newest = max(parse_time(post["indexedAt"]) for post in search["posts"])
    again = [post["uri"] for post in search["posts"] if parse_time(post["indexedAt"]) > newest - LATE_INDEXING]
    assert [m.platform_id for m in second.mentions if m.kind == "search"] == again
    assert 0 < len(again) < len(search["posts"]) and len(server.requests_to(SEARCH)) == 2


def test_an_unreadable_cursor_starts_afresh(server):
    assert len(fetch(source(server.url), cursor="{not json").mentions) == 18
    assert len(fetch(source(server.url), cursor="[1, 2]").mentions) == 18


# -- the session ---------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_and_the_call_repeated(server, session, load, notifications):
    server.route("GET", NOTIFICATIONS, Reply(400, load(EXPIRED_FILE)), Reply(200, notifications), Reply(200, END_OF_LIST))
    server.route("POST", REFRESH, session(access="access-2", refresh="refresh-2"))

    run = fetch(source(server.url))

    assert len(run.mentions) == 18
    [refresh] = server.requests_to(REFRESH)
    assert header(refresh, "Authorization") == "Bearer refresh-1"
    assert [header(r, "Authorization") for r in server.requests_to(NOTIFICATIONS)][:2] == [
        "Bearer access-1", "Bearer access-2"]
    assert len(server.requests_to(CREATE)) == 1


def test_a_revoked_refresh_token_leads_to_one_new_login(server, session, load, notifications):
    server.route("GET", NOTIFICATIONS, Reply(400, load(EXPIRED_FILE)), Reply(200, notifications), Reply(200, END_OF_LIST))
    server.route("POST", REFRESH, Reply(400, load(REVOKED_FILE)))
    server.route("POST", CREATE, session(), session(access="access-3"))

    run = fetch(source(server.url))

    assert len(run.mentions) == 18
    assert len(server.requests_to(CREATE)) == 2
    assert header(server.requests_to(NOTIFICATIONS)[1], "Authorization") == "Bearer access-3"


def test_when_refresh_and_login_both_fail_the_user_is_told_to_log_in_again(server, session, load):
    server.route("GET", NOTIFICATIONS, Reply(400, load(EXPIRED_FILE)))
    server.route("POST", REFRESH, Reply(400, load(REVOKED_FILE)))
    server.route("POST", CREATE, session(), Reply(401, load(REFUSED_FILE)))

    with pytest.raises(AuthenticationFailed, match="Bluesky refused the login") as caught:
        fetch(source(server.url))

    # what the server said of the login (the password changed or revoked), and what to do
    assert load(REFUSED_FILE)["message"] in caught.value.message
    assert "cmday auth b" in caught.value.message and "X" in caught.value.message
    assert_password_hidden(caught.value)


def test_a_token_still_refused_after_renewal_is_not_retried_forever(server, session, load):
    server.route("GET", NOTIFICATIONS, Reply(400, load(EXPIRED_FILE)))
    server.route("POST", REFRESH, session(access="access-2"))

    with pytest.raises(AuthenticationFailed, match="log in again"):
        fetch(source(server.url))

    assert len(server.requests_to(NOTIFICATIONS)) == 2


def test_a_wrong_app_password_is_an_authentication_failure(platform_server, load):
    platform_server.route("POST", CREATE, Reply(401, load(REFUSED_FILE)))

    with pytest.raises(AuthenticationFailed, match="Invalid identifier or password") as caught:
        fetch(source(platform_server.url))

    assert "acme.bsky.social" in caught.value.message and "cmday auth b" in caught.value.message
    assert_password_hidden(caught.value)
    assert platform_server.requests_to(NOTIFICATIONS) == []


def test_a_missing_app_password_names_where_to_put_it(platform_server):
    with pytest.raises(AuthenticationFailed, match="no app password") as caught:
        fetch(source(platform_server.url, password_env="ACME_BSKY"), secret=None)

    assert "ACME_BSKY" in caught.value.message and "cmday auth b" in caught.value.message
    assert platform_server.requests == []


def test_the_session_is_kept_for_the_run(server):
    state: dict = {}
    fetch(source(server.url), state=state)
    fetch(source(server.url), state=state)

    assert len(server.requests_to(CREATE)) == 1
    assert PASSWORD not in repr(state)


# -- faults --------------------------------------------------------------------------------------


def test_rate_limited_with_blueskys_own_headers_then_served(server, load, notifications):
    # Bluesky sends RateLimit-* headers (Reset is an epoch), no Retry-After: the client backs off on its own.
    headers = {k: v for k, v in load(RATE_HEADERS_FILE).items() if k.lower() != "content-length"}
    server.route("GET", NOTIFICATIONS, Reply(429, json.dumps(load(RATE_FILE)), headers), Reply(200, notifications),
                 Reply(200, END_OF_LIST))

    run = fetch(source(server.url), max_retry_wait=2)

    assert len(run.mentions) == 18
    assert len(server.requests_to(NOTIFICATIONS)) == 3


def test_still_rate_limited_after_the_wait_is_a_source_error(server, load):
    server.route("GET", NOTIFICATIONS, Reply(429, load(RATE_FILE), {"Retry-After": "1", "RateLimit-Remaining": "0"}))

    with pytest.raises(SourceError, match="rate-limiting"):
        fetch(source(server.url), max_retry_wait=2)


def test_a_server_error_is_a_source_error_and_a_passing_one_is_retried(server, notifications):
    server.route("GET", NOTIFICATIONS, Reply(500, {"error": "InternalServerError", "message": "Internal Server Error"}))
    with pytest.raises(SourceError, match="500"):
        fetch(source(server.url))

    server.route("GET", NOTIFICATIONS, Reply(503, b"upstream down", {"Retry-After": "0"}), Reply(200, notifications),
                 Reply(200, END_OF_LIST))
    assert len(fetch(source(server.url), max_retry_wait=2).mentions) == 18


def test_another_xrpc_refusal_names_the_method(server):
    server.route("GET", SEARCH, Reply(400, {"error": "InvalidRequest", "message": "Error: Params must have the property \"q\""}))

    with pytest.raises(SourceError, match="searchPosts.*Params must have") as caught:
        fetch(source(server.url, search=["acme"]))

    assert not isinstance(caught.value, AuthenticationFailed)


def test_a_slow_server_times_out(server):
    server.route("GET", NOTIFICATIONS, Reply(200, END_OF_LIST, delay=2))

    with pytest.raises(SourceError, match="did not answer in time"):
        fetch(source(server.url), timeout=0.5)


def test_malformed_json_is_a_source_error(server):
    server.route("GET", NOTIFICATIONS, Reply(200, b'{"notifications": [{"uri": ', {"Content-Type": "application/json"}))

    with pytest.raises(SourceError, match="malformed JSON"):
        fetch(source(server.url))


def test_a_truncated_body_is_a_source_error(server, notifications):
    server.route("GET", NOTIFICATIONS, Reply(200, notifications, truncate_to=300))

    with pytest.raises(SourceError, match="broke off"):
        fetch(source(server.url))


def test_a_login_answer_without_tokens_is_a_source_error(platform_server):
    platform_server.route("POST", CREATE, Reply(200, {"did": "did:plc:x"}))

    with pytest.raises(SourceError, match="usable session"):
        fetch(source(platform_server.url))


# -- properties ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
fields = st.sampled_from(
    ["uri", "author", "reason", "record", "indexedAt", "did", "handle", "displayName", "text", "createdAt", "facets",
     "langs", "reply", "parent", "index", "byteStart", "byteEnd", "features", "$type"]
)
reasons = st.sampled_from(["mention", "reply", "quote", "like", "follow", "repost", "verified"])
shaped = st.recursive(
    json_values | reasons,
    lambda children: st.dictionaries(fields, children, max_size=6) | st.lists(children, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.one_of(
    json_values,
    st.fixed_dictionaries({"notifications": st.lists(shaped, max_size=5)}, optional={"cursor": json_values}),
    st.fixed_dictionaries({"posts": st.lists(shaped, max_size=5)}, optional={"cursor": json_values}),
))
def test_any_json_is_read_or_refused_with_a_source_error(payload):
    for read in (lambda p: read_notifications(p, None), lambda p: read_search(p, NOW, {"did:plc:x"})):
        try:
            page = read(payload)
        except SourceError:
            continue
        for mention in page.mentions:
            assert mention.created_at.tzinfo is not None
            mention.text.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=60),
    facets=st.lists(
        st.fixed_dictionaries({
            "index": st.fixed_dictionaries({"byteStart": st.integers(-3, 200), "byteEnd": st.integers(-3, 200)}),
            "features": st.lists(st.fixed_dictionaries({
                "$type": st.sampled_from(["app.bsky.richtext.facet#link", "app.bsky.richtext.facet#mention"]),
                "uri": st.text(max_size=20),
            }), max_size=2),
        }) | json_values,
        max_size=5,
    ),
)
def test_any_facets_on_any_text_never_crash(text, facets):
    record = PostRecord.model_validate({"text": text, "facets": facets})

    shown = text_with_links(record.text, record.facets)

    shown.encode("utf-8")
    if not any(isinstance(f, dict) and f.get("features") for f in facets):
        assert shown == text


@settings(max_examples=200, deadline=None)
@given(before=st.text(max_size=30), after=st.text(max_size=30), path=st.from_regex(r"[a-z0-9/]{1,20}", fullmatch=True))
def test_a_shortened_link_is_expanded_wherever_multibyte_text_puts_it(before, after, path):
    label = f"example.com/{path[:5]}..."
    text = before + label + after
    start = len(before.encode())
    uri = f"https://example.com/{path[:5]}{path}"
    facets = PostRecord.model_validate({"text": text, "facets": [_link(start, start + len(label.encode()), uri)]}).facets

    assert text_with_links(text, facets) == before + uri + after


# -- end to end ----------------------------------------------------------------------------------


def test_fetching_a_project_stores_each_mention_once(server, load, tmp_path, monkeypatch):
    server.route("GET", SEARCH, Reply(200, load(SEARCH_FILE)))
    monkeypatch.setenv("X", PASSWORD)
    project = Project(
        project=ProjectInfo(name="Acme", slug="acme"),
        sources=[source(server.url, search=["redistricting"])],
    )
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig())
    store = Store(tmp_path / "s.sqlite3")

    report = fetch_project(store, workspace, project, load_protocol(), http_options={"max_retry_wait": 2})

    assert report.errors == []
    assert report.new == 18 + 25
    assert report.results[0].counts == {"favourites": 13, "boosts": 2, "follows": 17}
    stored = store.mentions("acme", states=None)
    assert len(stored) == 43
    assert {m.kind for m in stored} == {"mention", "quote", "search"}
    cursor = json.loads(store.cursor("acme", "b"))
    assert cursor["notifications_seen"] == "2025-05-17T08:44:44.416000Z"

    again = fetch_project(store, workspace, project, load_protocol(), http_options={"max_retry_wait": 2})

    assert again.errors == [] and again.new == 0
    assert len(store.mentions("acme", states=None)) == 43


# -- bursts larger than one fetch reads --------------------------------------------------------------


class Timeline:
    """A listNotifications as the AppView answers it (or one that ignores `reasons`, as older servers do).

    Listed newest first by `sortAt`, the earlier of a post's createdAt and the moment it was indexed, and
    shown as its `indexedAt`. With `reasons`, each page is read as the AppView's paginateNotifications reads
    it (@atproto/bsky, api/app/bsky/notification/listNotifications): up to ten reads of `limit` raw
    notifications, until half a page matches; a page can come back empty, with a cursor. The cursor here is
    an offset into the raw listing.
    """

    def __init__(self, template: dict[str, Any], honours_reasons: bool = True) -> None:
        self.template = template
        self.items: list[dict[str, Any]] = []  # newest first
        self.clock = datetime(2025, 5, 1, tzinfo=UTC)
        self.honours_reasons = honours_reasons
        self.slow_cursor: str | None = None  # the page at this cursor answers too late for the source's time limit

    def add(self, count: int, reason: str = "mention") -> None:
        """`count` notifications newer than everything already there."""
        for _index in range(count):
            self.clock = self.clock.replace(microsecond=0) + timedelta(seconds=1)
            self.items.insert(0, self._item(reason, self.clock))

    def add_late(self, written_before_newest: timedelta, reason: str = "mention") -> str:
        """A post written a while before the newest notification, indexed only now: listed where its createdAt puts it."""
        item = self._item(reason, self.clock - written_before_newest)
        place = bisect.bisect(self.items, -parse_time(item["indexedAt"]).timestamp(),
                              key=lambda n: -parse_time(n["indexedAt"]).timestamp())
        self.items.insert(place, item)
        return item["uri"]

    def _item(self, reason: str, moment: datetime) -> dict[str, Any]:
        item = copy.deepcopy(self.template)
        stamp = moment.isoformat().replace("+00:00", ".000Z")
        item["uri"] = f"at://did:plc:someone/app.bsky.feed.post/n{len(self.items):05d}"
        item["reason"], item["indexedAt"] = reason, stamp
        item["record"] = {**item["record"], "createdAt": stamp}
        return item

    def __call__(self, request: Request) -> Reply:
        wanted = request.query.get("reasons") if self.honours_reasons else None
        start = int(request.query.get("cursor", ["0"])[0])
        size = int(request.query["limit"][0])
        page, position = [], start
        for _attempt in range(10 if wanted else 1):
            read = self.items[position : position + size]
            position += len(read)
            page += [n for n in read if not wanted or n["reason"] in wanted]
            if not wanted or len(page) >= math.ceil(size / 2) or position >= len(self.items):
                break
        more = position < len(self.items)
        slow = self.slow_cursor is not None and request.query.get("cursor", [None])[0] == self.slow_cursor
        delay = 3.0 if slow else 0.0
        return Reply(200, {"notifications": page} | ({"cursor": str(position)} if more else {}), delay=delay)


@pytest.fixture
def timeline(platform_server, session, notifications):
    template = next(n for n in notifications["notifications"] if n["reason"] == "mention")
    line = Timeline(template)
    platform_server.route("POST", CREATE, session())
    platform_server.route("GET", NOTIFICATIONS, line)
    return line


def sweep_into(store: Store, tmp_path: Path, url: str, monkeypatch, **http_options: Any) -> Any:
    monkeypatch.setenv("X", PASSWORD)
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[source(url)])
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig())
    options = {"max_retry_wait": 2} | http_options
    [result] = fetch_project(store, workspace, project, load_protocol(), http_options=options).results
    assert result.error is None or http_options
    return result


def test_700_mentions_between_two_fetches_all_arrive_and_the_fetch_says_it_has_more(
    timeline, platform_server, tmp_path, monkeypatch
):
    store = Store(tmp_path / "s.sqlite3")
    timeline.add(50)
    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 50
    timeline.add(700)

    second = sweep_into(store, tmp_path, platform_server.url, monkeypatch)
    assert second.new == 500 and second.more_to_read
    assert any("more to read" in note for note in second.notes)
    third = sweep_into(store, tmp_path, platform_server.url, monkeypatch)

    assert third.new == 200 and not third.more_to_read
    assert len(store.mentions("acme", states=None)) == 750
    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 0


def test_a_burst_read_in_two_fetches_also_gets_what_came_in_between(timeline, platform_server, tmp_path, monkeypatch):
    store = Store(tmp_path / "s.sqlite3")
    timeline.add(10)
    sweep_into(store, tmp_path, platform_server.url, monkeypatch)
    timeline.add(600)
    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 500
    timeline.add(30)  # while the CM was away from the keyboard

    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 100 + 30
    assert len(store.mentions("acme", states=None)) == 640


@pytest.mark.parametrize("honours_reasons", [True, False])
def test_100_mentions_then_500_likes_lose_no_mention(honours_reasons, timeline, platform_server, tmp_path, monkeypatch):
    timeline.honours_reasons = honours_reasons
    store = Store(tmp_path / "s.sqlite3")
    timeline.add(5)
    sweep_into(store, tmp_path, platform_server.url, monkeypatch)
    timeline.add(100)
    timeline.add(500, reason="like")

    first = sweep_into(store, tmp_path, platform_server.url, monkeypatch)
    if honours_reasons:  # the likes are read apart and never take the mentions' pages
        assert first.new == 100
        assert first.counts["favourites"] == 500
        # the likes' ten pages end where the AppView had more raw notifications to look through: read next time
        later = sweep_into(store, tmp_path, platform_server.url, monkeypatch)
        assert later.new == 0 and later.counts.get("favourites", 0) == 0 and not later.more_to_read
    else:  # the likes fill this fetch's pages: the mentions come with the next one, none lost
        assert first.new == 0 and first.more_to_read
        assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 100
    assert len(store.mentions("acme", states=None)) == 105


def test_mentions_under_a_run_of_likes_longer_than_one_appview_page_all_arrive(timeline, platform_server, tmp_path, monkeypatch):
    store = Store(tmp_path / "s.sqlite3")
    timeline.add(5)
    sweep_into(store, tmp_path, platform_server.url, monkeypatch)
    timeline.add(3)
    timeline.add(1080, reason="like")  # the AppView looks through 500 a page: one page comes back empty, with a cursor
    timeline.add(2)

    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 5
    assert len(store.mentions("acme", states=None)) == 10


def test_a_mention_indexed_after_a_fetch_but_written_before_its_mark_still_arrives(timeline, platform_server, tmp_path, monkeypatch):
    store = Store(tmp_path / "s.sqlite3")
    timeline.add(3)
    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 3
    timeline.add(2, reason="like")
    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).counts["favourites"] == 2
    # written two seconds before the newest notification that fetch saw, indexed by the AppView only after it
    late = timeline.add_late(timedelta(seconds=2))
    timeline.add_late(timedelta(seconds=1), reason="like")

    second = sweep_into(store, tmp_path, platform_server.url, monkeypatch)

    assert second.new == 1 and [m.platform_id for m in store.mentions("acme", states=None)].count(late) == 1
    assert second.counts.get("favourites", 0) == 0  # likes within the window are not counted twice; a late one is not counted
    third = sweep_into(store, tmp_path, platform_server.url, monkeypatch)
    assert third.new == 0 and third.counts.get("favourites", 0) == 0


def test_a_first_fetch_keeps_the_newest_and_says_how_many(timeline, platform_server, tmp_path, monkeypatch):
    store = Store(tmp_path / "s.sqlite3")
    timeline.add(600)

    first = sweep_into(store, tmp_path, platform_server.url, monkeypatch)

    assert first.new == 500 and not first.more_to_read
    assert "first fetch: the 500 newest mentions kept; older ones left on the server" in first.notes


def test_a_fetch_cut_by_its_time_limit_carries_on_next_time(timeline, platform_server, tmp_path, monkeypatch):
    store = Store(tmp_path / "s.sqlite3")
    timeline.add(5)
    sweep_into(store, tmp_path, platform_server.url, monkeypatch)
    timeline.add(300)
    timeline.slow_cursor = "150"

    cut = sweep_into(store, tmp_path, platform_server.url, monkeypatch, source_timeout=1.5)
    assert cut.error and "the next fetch carries on" in cut.error and cut.more_to_read
    assert cut.new == 150
    timeline.slow_cursor = None

    assert sweep_into(store, tmp_path, platform_server.url, monkeypatch).new == 150
    assert len(store.mentions("acme", states=None)) == 305


def test_the_accounts_own_posts_never_come_back_as_notifications(platform_server, session, notifications):
    page = copy.deepcopy(notifications)
    mention = next(n for n in page["notifications"] if n["reason"] == "mention")
    ours = copy.deepcopy(mention)
    # The session's DID (bskyr.bsky.social in the recorded createSession answer) wrote this one.
    ours["author"] = {**ours["author"], "did": "did:plc:5c2r73erhng4bszmxlfdtscf", "handle": "bskyr.bsky.social"}
    ours["uri"] = "at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3lpours00002x"
    page["notifications"].insert(0, ours)
    platform_server.route("POST", CREATE, session())
    platform_server.route("GET", NOTIFICATIONS, lambda r: Reply(200, END_OF_LIST if "cursor" in r.query else page))

    run = fetch(source(platform_server.url, handle="bskyr.bsky.social"))

    assert len(run.mentions) == 18
    assert all(not m.platform_id.startswith("at://did:plc:5c2r73erhng4bszmxlfdtscf/") for m in run.mentions)
