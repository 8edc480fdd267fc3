"""The Mastodon adapter against a real local HTTP server answering recorded and documented payloads."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmday.errors import SourceError
from cmday.http import HttpClient
from cmday.models import Project, ProjectInfo, WorkspaceConfig
from cmday.protocol import load_protocol
from cmday.sources.base import AuthenticationFailed, Batch, FetchContext
from cmday.sources.mastodon.adapter import MastodonAdapter
from cmday.sources.mastodon.fetch import (
    MAX_PAGES,
    NOTIFICATION_TYPES,
    NOTIFICATIONS_PER_PAGE,
    activity_counts,
    mentions_from_notifications,
    mentions_from_statuses,
    search_statuses,
)
from cmday.sources.mastodon.settings import MastodonSource
from cmday.sources.mastodon.text import html_to_text
from cmday.store import Store
from cmday.sync import fetch_project
from cmday.workspace import Workspace
from tests.support.platform_server import PlatformServer, Reply, Request

NOW = datetime(2026, 4, 12, 7, 0, tzinfo=UTC)
TOKEN = "s3cr3t-token-value"
NOTIFICATIONS = "/api/v1/notifications"
# Recorded by Mastodon.py against real servers (see tests/fixtures/SOURCES.md).
GROUPED = "mpy_entity_partialaccountwithavatar_icosahedron__00__GET_api_v2_notifications__200.json"
NOTIFICATIONS_PAGE = "mpy_hist_0959c06c_entity_notification_mastodon_social__00__GET_api_v1_notifications__200.json"
STATUS = "mpy_entity_status_mastodon_social__00__GET_api_v1_statuses_110446223051565765__200.json"
TAG_PAGE = (
    "mpy_test_pagination_iterator__{n}__GET_api_v1_timelines_tag_fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgop__200.json"
)


# --- helpers -------------------------------------------------------------------------------------


def recorded(fixtures: Path, name: str) -> Any:
    return json.loads((fixtures / "mastodon" / "responses" / name).read_text(encoding="utf-8"))


def documented(fixtures: Path, name: str) -> Any:
    return json.loads((fixtures / "mastodon" / "docs_examples" / name).read_text(encoding="utf-8"))


def v1_from_grouped(grouped: dict[str, Any]) -> list[dict[str, Any]]:
    """A real v2 grouped-notifications page (icosahedron.website) as the v1 notifications it groups, one per group."""
    accounts = {a["id"]: a for a in grouped["accounts"] + grouped.get("partial_accounts", [])}
    statuses = {s["id"]: s for s in grouped["statuses"]}
    return [
        {
            "id": group["page_max_id"],
            "type": group["type"],
            "created_at": group["latest_page_notification_at"],
            "account": accounts[group["sample_account_ids"][0]],
            "status": statuses.get(group.get("status_id")),
        }
        for group in grouped["notification_groups"]
    ]


def status_like(template: dict[str, Any], status_id: str, **changes: Any) -> dict[str, Any]:
    status = copy.deepcopy(template)
    status.update(id=status_id, url=f"https://mastodon.example/@someone/{status_id}", **changes)
    return status


def mention_notification(template: dict[str, Any], notification_id: str, status_id: str, **changes: Any) -> dict:
    status = status_like(template, status_id, **changes)
    return {"id": notification_id, "type": "mention", "created_at": status["created_at"],
            "account": status["account"], "status": status}


def _key(value: str) -> tuple[int, str]:
    return len(value), value


def fake_list(server: PlatformServer, entries: list[dict[str, Any]]):
    """Answers like Mastodon's paginated lists: newest first, max_id/since_id/min_id/limit/types[], Link header."""
    ordered = sorted(entries, key=lambda e: _key(e["id"]), reverse=True)

    def handler(request: Request) -> Reply:
        def one(name: str) -> str | None:
            return request.query.get(name, [None])[0]

        limit = int(one("limit") or 20)
        chosen = [e for e in ordered if "types[]" not in request.query or e.get("type") in request.query["types[]"]]
        if one("max_id"):
            chosen = [e for e in chosen if _key(e["id"]) < _key(one("max_id"))]
        if one("since_id"):
            chosen = [e for e in chosen if _key(e["id"]) > _key(one("since_id"))]
        if one("min_id"):
            chosen = [e for e in chosen if _key(e["id"]) > _key(one("min_id"))][-limit:]
        else:
            chosen = chosen[:limit]
        headers = {}
        if chosen:
            here = server.url + request.path
            headers["Link"] = (
                f'<{here}?max_id={chosen[-1]["id"]}>; rel="next", <{here}?min_id={chosen[0]["id"]}>; rel="prev"'
            )
        return Reply(200, chosen, headers=headers)

    return handler


def source(server: PlatformServer, **options: Any) -> MastodonSource:
    return MastodonSource(id="m", platform="mastodon", instance=server.url, token_env="X", **options)


def run(
    src: MastodonSource, cursor: str | None = None, *, secret: str | None = TOKEN, **http: Any
) -> tuple[list[Batch], BaseException | None]:
    """Every batch the adapter yielded before it finished or failed, and the error it failed with."""
    batches: list[Batch] = []

    async def go() -> BaseException | None:
        async with HttpClient(**http) as client:
            context = FetchContext(client, lambda name: secret, Path("."), NOW, "acme", {})
            try:
                async for batch in MastodonAdapter(src, context).fetch(cursor):
                    batches.append(batch)
            except SourceError as error:
                return error
        return None

    return batches, asyncio.run(go())


def fetched(src: MastodonSource, cursor: str | None = None, **http: Any) -> list[Batch]:
    batches, error = run(src, cursor, **http)
    assert error is None, error
    return batches


def mentions_of(batches: list[Batch]):
    return [m for b in batches for m in b.mentions]


def cursor_of(batches: list[Batch]) -> dict[str, Any]:
    return json.loads(batches[-1].cursor)


@pytest.fixture
def template(recorded_fixtures: Path) -> dict[str, Any]:
    """A real public status from mastodon.social, to build timelines of any length from."""
    return recorded(recorded_fixtures, STATUS)


@pytest.fixture
def quiet(platform_server: PlatformServer) -> PlatformServer:
    """An account with nothing new: every list answers empty."""
    platform_server.route("GET", NOTIFICATIONS, Reply(200, []))
    return platform_server


# --- status HTML ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("<p>cats<br>cats never change</p>", "cats\ncats never change"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>&quot;I lost&quot; &amp; &lt;b&gt;won&lt;/b&gt; &#128512;</p>", '"I lost" & <b>won</b> 😀'),
        (
            '<p><a href="https://www.theguardian.com/money/2019/dec/07/i-lost" rel="nofollow"><span class="invisible">'
            'https://www.</span><span class="ellipsis">theguardian.com/money/2019/dec</span><span class="invisible">'
            "/07/i-lost</span></a></p>",
            "https://www.theguardian.com/money/2019/dec/07/i-lost",
        ),
        (
            '<p><span class="h-card" translate="no"><a href="https://mastodon.social/@halcy" class="u-url mention">'
            '@<span>halcy</span></a></span> hi <a href="https://x.example/tags/cats" class="mention hashtag" '
            'rel="tag">#<span>cats</span></a></p>',
            "@halcy hi #cats",
        ),
        ('<p><a href="https://acme.example/menu">our menu</a></p>', "our menu (https://acme.example/menu)"),
        ('<a href="https://acme.example/">acme.example</a>', "https://acme.example/"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ("<p>a<script>alert(1)</script><style>p{}</style>b</p>", "ab"),
        ("<ul><li>one</li><li>two</li></ul>", "• one\n• two"),
        ("<p>line\nwrapped</p>", "line wrapped"),
        ("<p></p><p></p><p>x</p><br><br><br><br>", "x"),
        ("plain text, no tags", "plain text, no tags"),
    ],
)
def test_status_html_becomes_plain_text_with_links_and_mentions(content: str, text: str) -> None:
    assert html_to_text(content) == text


def test_real_statuses_lose_all_markup(recorded_fixtures: Path) -> None:
    grouped = recorded(recorded_fixtures, GROUPED)
    texts = {s["id"]: html_to_text(s["content"]) for s in grouped["statuses"]}
    assert all("<" not in t and "class=" not in t and "&amp;" not in t for t in texts.values())
    assert texts["116388536126309513"] == (
        "@halcy @cancel Someone even built a whole machine around it "
        "https://cromagnontech.blogspot.com/2018/04/the-yeah-woo-machine.html"
    )
    quote = texts["116386066936197501"]
    assert quote.startswith("RE: https://icosahedron.website/@halcy/101256876982565163\n\nnot that")


# --- notifications -------------------------------------------------------------------------------


def test_mention_notifications_become_mentions_dms_and_replies(
    platform_server: PlatformServer, recorded_fixtures: Path
) -> None:
    page = recorded(recorded_fixtures, NOTIFICATIONS_PAGE)
    # older favourites fill the page, so that the walk asks for the next one
    page += [{"id": str(1000 + n), "type": "favourite", "created_at": "2024-08-01T10:00:00.000Z", "account": page[0]["account"],
              "status": None} for n in range(NOTIFICATIONS_PER_PAGE - len(page))]
    link = '<https://mastodon.social/api/v1/notifications?max_id=1000>; rel="next"'
    platform_server.route(
        "GET", NOTIFICATIONS, lambda r: Reply(200, [] if "max_id" in r.query else page, {"Link": link})
    )

    mentions = mentions_of(fetched(source(platform_server)))

    # 40 notifications: follow requests and mentions whose post is gone (status null) are not mentions.
    assert len(mentions) == 32
    first = mentions[0]
    assert (first.platform, first.kind, first.platform_id) == ("mastodon", "mention", "112927391263168827")
    assert first.text == "@halcy https://www.raspberrypi.com/products/rp2350/ New demo platform?"
    assert first.author_handle == "@WAHa_06x36@127.0.0.1"  # a local account gets the instance's host
    assert first.author_name == "Dag Ågren ↙︎↙︎↙︎"
    assert first.author_url == "https://mastodon.social/@WAHa_06x36"
    assert first.url == "https://mastodon.social/@WAHa_06x36/112927391263168827"
    assert first.language == "en"
    assert first.created_at == datetime(2024, 8, 8, 16, 40, 42, 669000, tzinfo=UTC)
    assert first.raw["id"] == "303143491" and first.raw["status"]["id"] == first.platform_id
    dm = mentions[1]
    assert (dm.kind, dm.author_handle) == ("dm", "@latencyobs@botsin.space")
    assert all(isinstance(m.platform_id, str) and int(m.platform_id) > 2**53 for m in mentions)
    # The next page was asked for by the max_id of the Link header, on our instance only.
    second = platform_server.requests_to(NOTIFICATIONS)[1]
    assert second.query["max_id"] == ["1000"] and second.query["types[]"] == list(NOTIFICATION_TYPES)


def test_replies_from_a_real_server_and_the_bearer_token(
    platform_server: PlatformServer, recorded_fixtures: Path
) -> None:
    grouped = recorded(recorded_fixtures, GROUPED)
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, v1_from_grouped(grouped)))

    mentions = {m.platform_id: m for m in mentions_of(fetched(source(platform_server)))}

    assert len(mentions) == 19
    reply = mentions["116388371202709213"]
    assert (reply.kind, reply.in_reply_to) == ("reply", "116388148912635764")
    assert reply.author_handle == "@cancel@merveilles.town"
    private_reply = mentions["116388536126309513"]
    assert private_reply.kind == "reply"
    assert private_reply.text.endswith("https://cromagnontech.blogspot.com/2018/04/the-yeah-woo-machine.html")
    sent = platform_server.requests_to(NOTIFICATIONS)[0]
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"


def test_direct_reply_is_a_dm(platform_server: PlatformServer, recorded_fixtures: Path) -> None:
    page = recorded(recorded_fixtures, "mpy_hist_e336a386_test_notifications__01__GET_api_v1_notifications__200.json")
    platform_server.route("GET", NOTIFICATIONS, lambda r: Reply(200, [] if "max_id" in r.query else page))

    found = mentions_of(fetched(source(platform_server)))

    kinds = {m.platform_id: (m.kind, m.language, m.author_handle) for m in found}

    assert kinds == {
        "113997450952596818": ("mention", "en", "@admin@127.0.0.1"),
        "113997373660195159": ("dm", "ja", "@mastodonpy_test_2@127.0.0.1"),
    }


def test_first_run_pages_back_and_moves_the_cursor_only_with_its_last_page(
    platform_server: PlatformServer, template: dict
) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(95)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))

    batches = [b for b in fetched(source(platform_server)) if b.mentions]

    assert [len(b.mentions) for b in batches] == [80, 15]
    assert [json.loads(b.cursor).get("notifications") for b in batches] == [None, "1094"]
    assert len({m.platform_id for b in batches for m in b.mentions}) == 95
    max_ids = [r.query.get("max_id") for r in platform_server.requests_to(NOTIFICATIONS)]
    assert max_ids == [None, ["1015"]]


def test_later_runs_ask_only_for_what_is_new(platform_server: PlatformServer, template: dict) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(5)]
    entries.append({**mention_notification(template, "999", "115000000000000000"), "type": "favourite"})
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
    first = fetched(source(platform_server))
    cursor = first[-1].cursor
    assert json.loads(cursor)["notifications"] == "1004"

    entries += [mention_notification(template, str(2000 + n), str(117000000000000000 + n)) for n in range(3)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
    platform_server.requests.clear()
    second = fetched(source(platform_server), cursor)

    assert sorted(m.platform_id for m in mentions_of(second)) == [str(117000000000000000 + n) for n in range(3)]
    assert platform_server.requests_to(NOTIFICATIONS)[0].query["min_id"] == ["1004"]
    assert cursor_of(second)["notifications"] == "2002"
    assert len(platform_server.requests_to(NOTIFICATIONS)) == 1  # mentions and activity: one walk, one page
    assert set(cursor_of(second)) == {"notifications"}


def test_later_runs_page_forward_oldest_first_moving_the_cursor_each_page(
    platform_server: PlatformServer, template: dict
) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(100)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))

    batches = [b for b in fetched(source(platform_server), json.dumps({"notifications": "1009"})) if b.mentions]

    assert [len(b.mentions) for b in batches] == [80, 10]
    assert [json.loads(b.cursor)["notifications"] for b in batches] == ["1089", "1099"]
    # every batch's cursor covers exactly what it and the batches before it hold
    for batch in batches:
        assert max(int(m.raw["id"]) for m in batch.mentions) == int(json.loads(batch.cursor)["notifications"])


def test_a_busy_first_run_is_bounded(platform_server: PlatformServer, template: dict) -> None:
    entries = [mention_notification(template, str(10000 + n), str(116000000000000000 + n)) for n in range(1000)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))

    batches = fetched(source(platform_server))

    assert len(mentions_of(batches)) == MAX_PAGES * NOTIFICATIONS_PER_PAGE
    assert cursor_of(batches)["notifications"] == "10999"


def test_a_failure_mid_walk_never_moves_the_cursor_past_unstored_mentions(
    platform_server: PlatformServer, template: dict
) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(100)]
    listing = fake_list(platform_server, entries)
    broken = {"calls": 0}

    def second_page_fails(request: Request) -> Reply:
        broken["calls"] += 1
        return listing(request) if broken["calls"] == 1 else Reply(500, {"error": "boom"})

    platform_server.route("GET", NOTIFICATIONS, second_page_fails)
    batches, error = run(source(platform_server))  # first run: newest first
    assert isinstance(error, SourceError) and len(batches) == 1
    assert "notifications" not in json.loads(batches[0].cursor)

    broken["calls"] = 0
    batches, error = run(source(platform_server), json.dumps({"notifications": "1009"}))  # later run: oldest first
    assert isinstance(error, SourceError) and len(batches) == 1
    assert json.loads(batches[0].cursor)["notifications"] == "1089"
    assert max(int(m.raw["id"]) for m in batches[0].mentions) == 1089


def test_unusable_items_are_skipped_and_counted(platform_server: PlatformServer, template: dict) -> None:
    good = mention_notification(template, "12", "116000000000000012")
    no_date = mention_notification(template, "11", "116000000000000011")
    del no_date["status"]["created_at"]
    float_id = mention_notification(template, "10", "116000000000000010")
    float_id["status"]["id"] = 1.16e17  # an id that went through a float has lost digits: refuse it
    page = [good, no_date, float_id, "x"]
    platform_server.route("GET", NOTIFICATIONS, lambda r: Reply(200, [] if "max_id" in r.query else page))

    batches = fetched(source(platform_server))

    # Without a time the mention is still kept (see below); without a trustworthy id it cannot be.
    assert [m.platform_id for m in mentions_of(batches)] == ["116000000000000012", "116000000000000011"]
    assert sum(b.counts.get("skipped", 0) for b in batches) == 2


def test_mentions_without_a_time_or_an_author_are_kept_and_reported_by_id(
    platform_server: PlatformServer, template: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(100)]
    entries[10]["created_at"] = entries[10]["status"]["created_at"] = None
    entries[20]["status"]["account"]["acct"] = ""
    entries[30]["status"]["account"] = None
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
    monkeypatch.setenv("X", TOKEN)
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[source(platform_server)])
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig())
    store = Store(tmp_path / "s.sqlite3")

    [result] = fetch_project(store, workspace, project, load_protocol()).results

    assert result.new == 100
    assert sorted(result.incomplete) == ["116000000000000010", "116000000000000020", "116000000000000030"]
    assert any(note.startswith("3 mentions kept without a readable time or author") and "116000000000000020" in note
               for note in result.notes)
    stored = {m.platform_id: m for m in store.mentions("acme", states=None)}
    undated = stored["116000000000000010"]
    assert undated.created_at == undated.fetched_at
    assert stored["116000000000000020"].author_handle == "" and stored["116000000000000030"].author_handle == ""
    assert stored["116000000000000031"].author_handle.startswith("@")


def test_legacy_integer_ids_are_kept_exact(recorded_fixtures: Path) -> None:
    legacy = json.loads((recorded_fixtures / "mastodon" / "legacy_2017_mastodon4j" / "tag.json").read_text())
    mentions, skipped = mentions_from_statuses(legacy, "mstdn.jp")
    assert mentions and skipped == 0
    assert mentions[0].platform_id == "714859" and mentions[0].in_reply_to == "675923"


# --- activity counts -----------------------------------------------------------------------------


def test_favourites_boosts_and_follows_are_counted(platform_server: PlatformServer, recorded_fixtures: Path) -> None:
    grouped = recorded(recorded_fixtures, GROUPED)
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, v1_from_grouped(grouped)))

    batches = fetched(source(platform_server))

    counts = [b.counts for b in batches if "favourites" in b.counts]
    # the page holds 16 favourites, 1 boost and 2 follows; a first run counts the 24 h before NOW
    assert counts == [{"favourites": 13, "boosts": 1, "follows": 1}]
    [asked] = platform_server.requests_to(NOTIFICATIONS)  # the mentions on the page came with them
    assert asked.query["types[]"] == ["mention", "favourite", "reblog", "follow"]
    assert set(cursor_of(batches)) == {"notifications"}


def test_first_run_counts_only_the_last_day(recorded_fixtures: Path) -> None:
    grouped = recorded(recorded_fixtures, GROUPED)
    notifications = v1_from_grouped(grouped)
    assert activity_counts(notifications, "x", since=datetime(2026, 4, 11, 18, 0, tzinfo=UTC)) == {
        "favourites": 7, "boosts": 0, "follows": 0,
    }
    assert activity_counts(notifications, "x") == {"favourites": 16, "boosts": 1, "follows": 2}


# --- listening: hashtags and search --------------------------------------------------------------


def test_hashtag_timeline_is_listened_to(platform_server: PlatformServer, recorded_fixtures: Path) -> None:
    pages = [recorded(recorded_fixtures, TAG_PAGE.format(n=n)) for n in (31, 32, 33)]
    tag = "/api/v1/timelines/tag/acmecoffee"
    platform_server.route("GET", NOTIFICATIONS, Reply(200, []))
    platform_server.route("GET", tag, fake_list(platform_server, [s for page in pages for s in page]))

    batches = fetched(source(platform_server, hashtags=["#acmecoffee", "AcmeCoffee"]))

    found = mentions_of(batches)
    assert len(found) == 30 and {m.kind for m in found} == {"search"}  # first run: newest page only
    assert found[0].platform_id == "117020582251615632" and found[0].language == "ja"
    assert cursor_of(batches)["tags"] == {"acmecoffee": "117020582251615632"}
    assert len(platform_server.requests_to(tag)) == 1  # the two spellings are one tag

    platform_server.requests.clear()
    again = fetched(source(platform_server, hashtags=["acmecoffee"]), batches[-1].cursor)
    assert mentions_of(again) == []
    assert platform_server.requests_to(tag)[0].query["min_id"] == ["117020582251615632"]


def test_hashtag_names_are_quoted_into_the_path(quiet: PlatformServer, recorded_fixtures: Path) -> None:
    page = recorded(recorded_fixtures, "mpy_test_hashtag_tl__02__GET_api_v1_timelines_tag_hoot__200.json")
    quiet.route("GET", "/api/v1/timelines/tag/caf%C3%A9", Reply(200, page))

    found = mentions_of(fetched(source(quiet, hashtags=["café"])))

    assert [(m.platform_id, m.text) for m in found] == [("117020593741189701", "#hoot (hashtag toot)")]


def test_keyword_search_is_listened_to(platform_server: PlatformServer, recorded_fixtures: Path) -> None:
    results = recorded(recorded_fixtures, "mpy_entity_searchv2_mastodon_social__02__GET_api_v2_search__200.json")
    platform_server.route("GET", NOTIFICATIONS, Reply(200, []))
    platform_server.route("GET", "/api/v2/search", Reply(200, results))

    batches = fetched(source(platform_server, search=["acme coffee"]))

    found = mentions_of(batches)
    assert [(m.platform_id, m.kind) for m in found] == [
        ("116388149027005349", "search"), ("116388107849695302", "search"),
    ]
    assert found[1].text == "@halcy me when im riding my horse in stop and go traffic"
    sent = platform_server.requests_to("/api/v2/search")[0]
    assert (sent.query["q"], sent.query["type"]) == (["acme coffee"], ["statuses"])
    assert cursor_of(batches)["search"] == {"acme coffee": "116388149027005349"}

    platform_server.requests.clear()
    fetched(source(platform_server, search=["acme coffee"]), batches[-1].cursor)
    assert platform_server.requests_to("/api/v2/search")[0].query["min_id"] == ["116388149027005349"]


def test_a_status_seen_by_notification_and_hashtag_has_one_id(platform_server: PlatformServer, template: dict) -> None:
    notification = mention_notification(template, "77", "116000000000000777")
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, [notification]))
    platform_server.route("GET", "/api/v1/timelines/tag/acme", Reply(200, [notification["status"]]))

    found = mentions_of(fetched(source(platform_server, hashtags=["acme"])))

    assert [(m.platform_id, m.kind) for m in found] == [
        ("116000000000000777", "mention"), ("116000000000000777", "search"),
    ]


@pytest.mark.parametrize("status", [401, 403, 422, 503])
def test_an_instance_refusing_search_does_not_fail_the_source(
    platform_server: PlatformServer, recorded_fixtures: Path, template: dict, status: int
) -> None:
    notification = mention_notification(template, "5", "116000000000000005")
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, [notification]))
    refusal = documented(recorded_fixtures, "search__v2__401-unauthorized__03.json")
    platform_server.route("GET", "/api/v2/search", Reply(status, refusal))
    platform_server.route("GET", "/api/v1/timelines/tag/acme", Reply(422, {"error": "Hashtag feeds are disabled"}))

    batches = fetched(source(platform_server, search=["acme"], hashtags=["acme"]), max_retry_wait=0.1)

    assert [m.platform_id for m in mentions_of(batches)] == ["116000000000000005"]
    assert sum(b.counts.get("search_refused", 0) for b in batches) == 1
    assert sum(b.counts.get("hashtags_refused", 0) for b in batches) == 1
    assert [n for b in batches for n in b.notes] == [
        "127.0.0.1 refused the hashtag timeline #acme (422); it was skipped",
        f"127.0.0.1 refused the search for “acme” ({status}); it was skipped",
    ]
    assert "search" not in cursor_of(batches) and cursor_of(batches)["notifications"] == "5"


def test_search_pages_back_to_the_cursor(platform_server: PlatformServer, template: dict) -> None:
    hits = [status_like(template, str(116000000000000000 + n)) for n in range(100)]

    def search(request: Request) -> Reply:
        floor, ceiling = request.query.get("min_id", ["0"])[0], request.query.get("max_id", [None])[0]
        chosen = [
            h for h in reversed(hits)
            if _key(h["id"]) > _key(floor) and (ceiling is None or _key(h["id"]) < _key(ceiling))
        ]
        return Reply(200, {"accounts": [], "statuses": chosen[:40], "hashtags": []})

    platform_server.route("GET", NOTIFICATIONS, Reply(200, []))
    platform_server.route("GET", "/api/v2/search", search)

    batches = fetched(source(platform_server, search=["acme"]), json.dumps({"search": {"acme": "116000000000000049"}}))

    found = [m for b in batches for m in b.mentions]
    assert len(found) == 50
    assert [json.loads(b.cursor)["search"]["acme"] for b in batches if b.mentions] == [
        "116000000000000049", "116000000000000099",  # the cursor moves only with the walk's last page
    ]


# --- faults --------------------------------------------------------------------------------------


def test_missing_token_fails_without_a_request_and_names_what_to_do(platform_server: PlatformServer) -> None:
    batches, error = run(source(platform_server), secret=None)

    assert isinstance(error, AuthenticationFailed) and batches == []
    assert "X" in error.message and "cmday auth m" in error.message
    assert platform_server.requests == []


def test_a_token_with_control_characters_is_refused_without_leaking_it(platform_server: PlatformServer) -> None:
    batches, error = run(source(platform_server), secret="abc\r\nInjected: yes")

    assert isinstance(error, AuthenticationFailed) and batches == []
    assert "abc" not in error.message and "Injected" not in error.message
    assert platform_server.requests == []


@pytest.mark.parametrize(
    ("reply", "error_type", "words"),
    [
        (Reply(401, {"error": "The access token is invalid"}), AuthenticationFailed, "refused the credentials"),
        (Reply(400, {"error": "invalid token"}), AuthenticationFailed, "400: invalid token); log in again"),
        (Reply(400, {"error": "Validation failed: limit is too big"}), SourceError, "answered 400"),
        (Reply(403, {"error": "This action is outside the authorized scopes"}), AuthenticationFailed, "403"),
        (Reply(404, {"error": "Record not found"}), SourceError, "not found"),
        (Reply(500, {"error": "We're sorry, but something went wrong"}), SourceError, "500"),
        (Reply(200, b"<html>maintenance</html>"), SourceError, "malformed JSON"),
        (Reply(200, {"error": "not a list"}), SourceError, "not the list of posts"),
        (Reply(200, [{"id": "1"}] * 200, truncate_to=50), SourceError, "broke off"),
        (Reply(200, [], delay=2), SourceError, "in time"),
    ],
)
def test_faults_become_one_line_source_errors(
    platform_server: PlatformServer, reply: Reply, error_type: type, words: str
) -> None:
    platform_server.route("GET", NOTIFICATIONS, reply)

    batches, error = run(source(platform_server), timeout=0.5)

    assert isinstance(error, error_type), error
    assert batches == []
    assert words in error.message and "\n" not in error.message
    assert TOKEN not in error.message and TOKEN not in (error.hint or "")


def test_rate_limit_is_waited_out(platform_server: PlatformServer, recorded_fixtures: Path, template: dict) -> None:
    body = documented(recorded_fixtures, "accounts__create__429-rate-limited__01.json")
    too_many = Reply(429, body, {"Retry-After": "1"})
    page = [mention_notification(template, "3", "116000000000000003")]
    platform_server.route("GET", NOTIFICATIONS, too_many, Reply(200, page), Reply(200, []))

    batches = fetched(source(platform_server), max_retry_wait=2)

    assert [m.platform_id for m in mentions_of(batches)] == ["116000000000000003"]


def test_a_damaged_cursor_starts_afresh(quiet: PlatformServer) -> None:
    for cursor in ("not json", "[1, 2]", json.dumps({"notifications": 5, "tags": "x"})):
        fetched(source(quiet), cursor)
    assert all("min_id" not in r.query for r in quiet.requests)


# --- parsing never raises anything but SourceError -----------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
# a real one, a date only (Account.last_status_at), and two that overflow when moved to UTC
timestamps = st.sampled_from(
    ["2026-04-11T16:55:10.452Z", "2026-04-11", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-12:00"]
)
statuses = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=20), st.integers(), json_values),
        "uri": st.text(max_size=20),
        "created_at": st.one_of(timestamps, json_values),
        "content": st.one_of(st.text(alphabet="<>/&;#apbr =\"'![]-x", max_size=60), json_values),
        "visibility": st.sampled_from(["public", "direct", "unlisted"]),
        "account": st.fixed_dictionaries({"acct": st.one_of(st.text(max_size=10), json_values)}),
    },
    optional={"in_reply_to_id": json_values, "language": json_values, "spoiler_text": json_values, "url": json_values},
)
notifications = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=5), json_values), "type": st.sampled_from(["mention", "favourite", "x"]),
     "created_at": st.one_of(timestamps, json_values), "status": st.one_of(st.none(), statuses, json_values)}
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.lists(st.one_of(notifications, statuses, json_values), max_size=5)))
def test_parsing_random_json_raises_only_source_errors(payload: Any) -> None:
    for parse in (mentions_from_notifications, mentions_from_statuses, activity_counts, search_statuses):
        try:
            parse(payload, "example.social")
        except SourceError:
            pass
    try:
        found, _skipped = mentions_from_notifications(payload, "example.social")
    except SourceError:
        return
    for mention in found:
        assert isinstance(mention.platform_id, str) and mention.created_at.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/&;#!-[]='\" apbrspanclassinvisible\n")) | st.characters()))
def test_html_conversion_never_raises(content: str) -> None:
    assert isinstance(html_to_text(content), str)


# --- end to end through sync ---------------------------------------------------------------------


def test_fetch_project_stores_mentions_once(
    platform_server: PlatformServer, template: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_MASTODON_TOKEN", TOKEN)
    entries = [
        mention_notification(template, "1", "116000000000000001"),
        mention_notification(template, "2", "116000000000000002", visibility="direct"),
        mention_notification(template, "3", "116000000000000003", in_reply_to_id="116000000000000000"),
    ]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
    platform_server.route("GET", "/api/v1/timelines/tag/acme", Reply(200, [entries[0]["status"]]))
    mastodon = MastodonSource(
        id="brand-masto", platform="mastodon", instance=platform_server.url, token_env="ACME_MASTODON_TOKEN",
        hashtags=["acme"],
    )
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[mastodon])
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig(), projects={"acme": project})
    store = Store(tmp_path / "s.sqlite3")
    try:
        report = fetch_project(store, workspace, project, load_protocol())
        assert report.errors == [] and report.new == 3
        stored = store.mentions("acme", states=None)
        assert sorted((m.platform_id, m.kind) for m in stored) == [
            ("116000000000000001", "mention"), ("116000000000000002", "dm"), ("116000000000000003", "reply"),
        ]
        assert json.loads(store.cursor("acme", "brand-masto"))["notifications"] == "3"

        again = fetch_project(store, workspace, project, load_protocol())
        assert again.errors == [] and again.new == 0
        assert len(store.mentions("acme", states=None)) == 3
        later = [r for r in platform_server.requests_to(NOTIFICATIONS) if "mention" in r.query["types[]"]][-1]
        assert later.query["min_id"] == ["3"]
    finally:
        store.close()


def favourite_notification(template: dict[str, Any], notification_id: str) -> dict[str, Any]:
    """Someone favourited one of the account's posts (a Notification of type `favourite`, status attached)."""
    return {"id": notification_id, "type": "favourite", "created_at": template["created_at"],
            "account": template["account"], "status": template}


def test_new_mentions_and_favourites_come_from_one_request_and_each_mention_is_stored_once(
    platform_server: PlatformServer, template: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X", TOKEN)
    entries = [mention_notification(template, str(n), str(116000000000000000 + n)) for n in (1, 2, 3)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[source(platform_server)])
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig())
    store = Store(tmp_path / "s.sqlite3")
    try:
        assert fetch_project(store, workspace, project, load_protocol()).new == 3
        # between two checks: favourites and mentions in turn
        entries += [mention_notification(template, str(n), str(116000000000000000 + n)) for n in (5, 7, 9)]
        entries += [favourite_notification(template, str(n)) for n in (4, 6, 8, 10)]
        platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
        platform_server.requests.clear()

        [result] = fetch_project(store, workspace, project, load_protocol()).results

        assert result.error is None and result.new == 3 and result.counts["favourites"] == 4
        [asked] = platform_server.requests_to(NOTIFICATIONS)
        assert asked.query["min_id"] == ["3"] and set(asked.query["types[]"]) >= {"mention", "favourite"}
        stored = [m.platform_id for m in store.mentions("acme", states=None)]
        assert sorted(stored) == sorted({str(116000000000000000 + n) for n in (1, 2, 3, 5, 7, 9)})
        assert json.loads(store.cursor("acme", "m"))["notifications"] == "10"

        platform_server.requests.clear()
        [nothing] = fetch_project(store, workspace, project, load_protocol()).results
        assert nothing.new == 0 and not nothing.counts.get("favourites")
        assert [r.query["min_id"] for r in platform_server.requests_to(NOTIFICATIONS)] == [["10"]]
    finally:
        store.close()


def test_a_burst_of_favourites_larger_than_a_fetch_holds_back_no_mention_and_counts_each_favourite_once(
    platform_server: PlatformServer, template: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X", TOKEN)
    entries = [mention_notification(template, "10000", "116000000000010000")]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[source(platform_server)])
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig())
    store = Store(tmp_path / "s.sqlite3")
    try:
        fetch_project(store, workspace, project, load_protocol())
        # a post goes viral: 891 favourites, a mention every hundred notifications, then 50 mentions
        burst = range(10001, 10951)
        mentioned = [n for n in burst if n % 100 == 50 or n > 10900]
        entries += [mention_notification(template, str(n), str(116000000000000000 + n)) if n in mentioned
                    else favourite_notification(template, str(n)) for n in burst]
        platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
        assert len(burst) > MAX_PAGES * NOTIFICATIONS_PER_PAGE  # more than one fetch reads

        [first] = fetch_project(store, workspace, project, load_protocol()).results
        [second] = fetch_project(store, workspace, project, load_protocol()).results
        platform_server.requests.clear()
        [third] = fetch_project(store, workspace, project, load_protocol()).results

        assert first.error is None and first.new == len(mentioned) and first.more_to_read  # every mention, at once
        assert second.new == 0 and not second.more_to_read
        assert first.counts["favourites"] + second.counts["favourites"] == len(burst) - len(mentioned)
        assert third.new == 0 and not third.counts.get("favourites")
        assert len(platform_server.requests_to(NOTIFICATIONS)) == 1
        stored = [m.platform_id for m in store.mentions("acme", states=None)]
        assert len(stored) == len(set(stored)) == len(mentioned) + 1
        assert set(json.loads(store.cursor("acme", "m"))) == {"notifications"}  # the mentions' mark caught up with
    finally:
        store.close()


def test_a_first_run_broken_mid_walk_counts_nothing_and_the_next_one_counts_each_favourite_once(
    platform_server: PlatformServer, template: dict
) -> None:
    recent = (NOW.replace(hour=6)).isoformat().replace("+00:00", "Z")  # within the last day a first run counts
    entries = [favourite_notification(template, str(n)) | {"created_at": recent} for n in range(1000, 1060)]
    entries += [mention_notification(template, str(n), str(116000000000000000 + n)) for n in range(1060, 1100)]
    listing = fake_list(platform_server, entries)
    broken = {"on": True}
    platform_server.route(
        "GET", NOTIFICATIONS, lambda r: Reply(500, {"error": "boom"}) if broken["on"] and "max_id" in r.query else listing(r)
    )

    batches, error = run(source(platform_server))
    assert isinstance(error, SourceError) and len(mentions_of(batches)) == 40
    assert not any(b.counts.get("favourites") for b in batches)  # the cursor did not move: nor do the counts

    broken["on"] = False
    again = fetched(source(platform_server))
    assert sum(b.counts.get("favourites", 0) for b in again) == 60
    assert cursor_of(again)["notifications"] == "1099"


def test_a_cursor_of_two_walks_goes_on_without_storing_or_counting_twice(platform_server: PlatformServer, template: dict) -> None:
    # before one walk read both, mentions and activity each had a place: {"notifications": ..., "activity": ...}
    entries = [mention_notification(template, str(n), str(116000000000000000 + n)) for n in (1030, 1050, 1060)]
    entries += [favourite_notification(template, str(n)) for n in (1010, 1020, 1040, 1055, 1070)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))

    behind = fetched(source(platform_server), json.dumps({"notifications": "1050", "activity": "1020"}))
    ahead = fetched(source(platform_server), json.dumps({"notifications": "1020", "activity": "1050"}))

    assert [m.platform_id for m in mentions_of(behind)] == ["116000000000001060"]
    assert sum(b.counts.get("favourites", 0) for b in behind) == 3  # 1040, 1055, 1070
    assert sorted(m.platform_id for m in mentions_of(ahead)) == ["116000000000001030", "116000000000001050", "116000000000001060"]
    assert sum(b.counts.get("favourites", 0) for b in ahead) == 2  # 1055, 1070
    assert [r.query["min_id"] for r in platform_server.requests_to(NOTIFICATIONS)] == [["1020"], ["1020"]]
    assert json.loads(behind[-1].cursor) == json.loads(ahead[-1].cursor) == {"notifications": "1070"}


# --- paging that goes wrong ----------------------------------------------------------------------


def test_a_link_header_pointing_back_at_the_same_page_is_paged_by_id(platform_server: PlatformServer, template: dict) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(100)]
    listing = fake_list(platform_server, entries)

    def self_pointing(request: Request) -> Reply:
        reply = listing(request)
        # A `next` that asks again for the page just sent: max_id just above its newest item.
        newest = reply.body[0]["id"] if reply.body else "0"
        here = platform_server.url + request.path
        reply.headers["Link"] = f'<{here}?max_id={int(newest) + 1}>; rel="next"'
        return reply

    platform_server.route("GET", NOTIFICATIONS, self_pointing)

    batches = fetched(source(platform_server))

    assert len({m.platform_id for m in mentions_of(batches)}) == 100
    assert cursor_of(batches)["notifications"] == "1099"


def test_a_server_that_keeps_sending_the_same_page_is_said_and_the_cursor_not_moved(
    platform_server: PlatformServer, template: dict
) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(100)]
    listing = fake_list(platform_server, entries)

    def stuck(request: Request) -> Reply:  # ignores max_id: always the newest page
        return listing(Request(request.method, request.path, {k: v for k, v in request.query.items() if k != "max_id"},
                               request.headers, request.body))

    platform_server.route("GET", NOTIFICATIONS, stuck)

    batches = fetched(source(platform_server))

    assert len(mentions_of(batches)) == 2 * NOTIFICATIONS_PER_PAGE  # the second page was the first again: stored once
    assert "notifications" not in cursor_of(batches)  # the 60 older ones are not covered by it
    notes = [n for b in batches for n in b.notes]
    assert any("sent a page already read" in n for n in notes)


def test_a_first_run_says_how_many_it_kept(platform_server: PlatformServer, template: dict) -> None:
    entries = [mention_notification(template, str(10000 + n), str(116000000000000000 + n)) for n in range(900)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))

    notes = [n for b in fetched(source(platform_server)) for n in b.notes]

    assert "first fetch: the 800 newest mentions kept; older ones left on the server" in notes


def test_1500_mentions_between_two_fetches_come_in_two_fetches_that_say_so(
    platform_server: PlatformServer, template: dict
) -> None:
    entries = [mention_notification(template, str(10000 + n), str(116000000000000000 + n)) for n in range(1510)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))

    first = fetched(source(platform_server), json.dumps({"notifications": "10009"}))
    assert len(mentions_of(first)) == 800 and any(b.more_to_read for b in first)
    second = fetched(source(platform_server), first[-1].cursor)

    assert len(mentions_of(second)) == 700 and not any(b.more_to_read for b in second)
    assert cursor_of(second)["notifications"] == "11509"


# --- notifications the server's policy filters ---------------------------------------------------

REQUESTS = "/api/v1/notifications/requests"


def test_filtered_notifications_are_asked_for_and_marked(
    platform_server: PlatformServer, template: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(3)]
    stranger = copy.deepcopy(template["account"]) | {"id": "990001", "acct": "newcomer@elsewhere.example"}
    held = mention_notification(template, "1003", "116000000000000003", account=stranger)
    held["account"] = stranger
    listing = fake_list(platform_server, known + [held])
    lenient = fake_list(platform_server, known)  # what Mastodon 4.3 answers without include_filtered

    def policy(request: Request) -> Reply:
        return listing(request) if request.query.get("include_filtered") == ["true"] else lenient(request)

    platform_server.route("GET", NOTIFICATIONS, policy)
    # GET /api/v1/notifications/requests as docs.joinmastodon.org/methods/notifications/#get-requests shows it.
    platform_server.route("GET", REQUESTS, Reply(200, [{
        "id": "112456967201894256", "created_at": "2024-05-17T14:45:41.171Z", "updated_at": "2024-05-17T14:45:41.171Z",
        "notifications_count": "1", "account": stranger, "last_status": held["status"],
    }]))
    monkeypatch.setenv("X", TOKEN)
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[source(platform_server)])
    store = Store(tmp_path / "s.sqlite3")

    [result] = fetch_project(store, Workspace(root=tmp_path, config=WorkspaceConfig()), project, load_protocol()).results

    assert result.error is None and result.new == 4
    flags = {m.platform_id: m.flags for m in store.mentions("acme", states=None)}
    assert flags["116000000000000003"] == ("filtered",)
    assert flags["116000000000000000"] == ()


def test_a_server_that_ignores_include_filtered_and_has_no_requests_keeps_working(
    platform_server: PlatformServer, template: dict
) -> None:
    entries = [mention_notification(template, str(1000 + n), str(116000000000000000 + n)) for n in range(3)]
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, entries))
    platform_server.route("GET", REQUESTS, Reply(404, {"error": "Record not found"}))

    batches = fetched(source(platform_server))

    assert len(mentions_of(batches)) == 3 and all(m.flags == [] for m in mentions_of(batches))
    assert platform_server.requests_to(NOTIFICATIONS)[0].query["include_filtered"] == ["true"]


# --- the brand's own posts -----------------------------------------------------------------------


def test_the_own_account_is_read_once_per_token_and_its_posts_stay_out(platform_server: PlatformServer, template: dict) -> None:
    me = copy.deepcopy(template["account"]) | {"id": "424242", "username": "acmecoffee", "acct": "acmecoffee"}
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, me))
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, [
        mention_notification(template, "1001", "116000000000000001", account=me),
        mention_notification(template, "1002", "116000000000000003"),
    ]))
    first = fetched(source(platform_server))
    assert "s3cr3t" not in first[-1].cursor  # the cursor knows which token, not the token
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, [
        mention_notification(template, "1001", "116000000000000001", account=me),
        mention_notification(template, "1002", "116000000000000003"),
        mention_notification(template, "1003", "116000000000000004", account=me),
        mention_notification(template, "1004", "116000000000000005"),
    ]))

    again = fetched(source(platform_server), first[-1].cursor)

    assert [m.platform_id for m in mentions_of(again)] == ["116000000000000005"]  # the brand's own 1003 still left out
    assert len(platform_server.requests_to("/api/v1/accounts/verify_credentials")) == 1
    batches, error = run(source(platform_server), again[-1].cursor if again else first[-1].cursor, secret="another-token")
    assert error is None
    assert len(platform_server.requests_to("/api/v1/accounts/verify_credentials")) == 2  # a new token: asked again


def test_the_brands_own_posts_never_enter_its_inbox(platform_server: PlatformServer, template: dict) -> None:
    # GET /api/v1/accounts/verify_credentials: a CredentialAccount, as documented (the id is what counts).
    me = copy.deepcopy(template["account"]) | {"id": "424242", "username": "acmecoffee", "acct": "acmecoffee"}
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, me | {"followers_count": 3}))
    ours = status_like(template, "116000000000000001", account=me, content="<p>New beans! #acmecoffee</p>")
    theirs = status_like(template, "116000000000000002", content="<p>Loving #acmecoffee</p>")
    platform_server.route("GET", "/api/v1/timelines/tag/acmecoffee", Reply(200, [ours, theirs]))
    platform_server.route("GET", "/api/v2/search", Reply(200, {"accounts": [], "hashtags": [], "statuses": [ours, theirs]}))
    platform_server.route("GET", NOTIFICATIONS, fake_list(platform_server, [
        mention_notification(template, "1001", "116000000000000001", account=me),
        mention_notification(template, "1002", "116000000000000003"),
    ]))

    batches = fetched(source(platform_server, hashtags=["acmecoffee"], search=["acme coffee"]))

    found = sorted((m.kind, m.platform_id) for m in mentions_of(batches))
    assert found == [("mention", "116000000000000003"), ("search", "116000000000000002"), ("search", "116000000000000002")]
    assert len(platform_server.requests_to("/api/v1/accounts/verify_credentials")) == 1


def test_a_token_refused_with_400_is_a_login_to_renew(
    platform_server: PlatformServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a real Mastodon-API server answered a revoked token: 400 with its own reason, not 401.
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(400, {"error": "invalid token"}))
    platform_server.route("GET", NOTIFICATIONS, Reply(400, {"error": "invalid token"}))
    monkeypatch.setenv("X", TOKEN)
    project = Project(project=ProjectInfo(name="Acme", slug="acme"), sources=[source(platform_server)])
    store = Store(tmp_path / "s.sqlite3")

    [result] = fetch_project(store, Workspace(root=tmp_path, config=WorkspaceConfig()), project, load_protocol()).results

    assert result.needs_auth and "invalid token" in result.error and "log in again" in result.error
    assert store.source_health("acme")["m"].needs_auth
