"""The feed adapter against a real local HTTP server serving recorded feeds (Google Alerts, feedparser, feedjira)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmday.errors import SourceError
from cmday.http import HttpClient
from cmday.sources.base import Batch, FetchContext
from cmday.sources.feed.adapter import FeedAdapter, parse_feed, plain_text, unwrap_redirect
from cmday.sources.feed.settings import FeedSource
from tests.support.platform_server import Reply, Request

NOW = datetime(2024, 5, 6, 8, 30, tzinfo=UTC)
ALERTS_PATH = "/alerts/feeds/04175468913983673025/4428013283581841004"
ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


def fetch(url: str, cursor: str | None = None, **http_options: float) -> list[Batch]:
    async def collect() -> list[Batch]:
        async with HttpClient(**http_options) as http:
            context = FetchContext(
                http=http, secret=lambda name: None, workspace_root=Path("."), now=NOW, project_slug="acme", state={}
            )
            source = FeedSource(id="alerts", platform="rss", url=url)
            return [batch async for batch in FeedAdapter(source, context).fetch(cursor)]

    return asyncio.run(collect())


def header(request: Request, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


@pytest.fixture
def google_alerts(recorded_fixtures: Path) -> bytes:
    return (recorded_fixtures / "rss/google_alerts/feedjira_google_alerts_atom.xml").read_bytes()


def test_google_alerts_feed_becomes_clean_alerts(platform_server, google_alerts):
    platform_server.route("GET", ALERTS_PATH, Reply(200, google_alerts, headers=ATOM))

    [batch] = fetch(platform_server.url + ALERTS_PATH)

    assert len(batch.mentions) == 20
    assert batch.counts == {}
    first = batch.mentions[0]
    assert first.platform == "google-alerts"
    assert first.kind == "alert"
    assert first.platform_id == "tag:google.com,2013:googlealerts/feed:8974135267215335962"
    assert first.created_at == datetime(2019, 7, 10, 11, 53, 37, tzinfo=UTC)
    assert first.url.startswith("https://www.aglobalmarketresearch.com/report-offers-prediction-of-automotive-slack")
    assert first.author_handle == "aglobalmarketresearch.com"
    assert first.author_name == "aglobalmarketresearch.com"  # Google leaves <author><name> empty
    assert first.text.startswith("Report offers Prediction of Automotive Slack Market by Top key players")
    assert " — Automotive Slack Market reports provides" in first.text
    assert first.text.endswith("marketers and senior ...")  # &amp;nbsp; became a plain space
    second = batch.mentions[1]
    assert "the Company's decision" in second.text  # &amp;#39; unescaped
    for mention in batch.mentions:
        assert "google.com/url" not in mention.url
        assert "<" not in mention.text and "&nbsp;" not in mention.text and "&#" not in mention.text
        assert mention.created_at.tzinfo is not None
        assert json.dumps(mention.raw)  # stored as JSON
    handles = {m.author_handle for m in batch.mentions}
    assert {"vox.com", "investorplace.com", "ft.com", "sacbee.com"} <= handles
    assert next(m for m in batch.mentions if m.author_handle == "valleybreeze.com").url.startswith("http://www.")


def test_etag_gives_304_on_the_second_run_and_keeps_the_cursor(platform_server, google_alerts):
    def conditional(request: Request) -> Reply:
        if header(request, "If-None-Match") == '"abc"':
            return Reply(304, b"", headers={"ETag": '"abc"'})
        validators = {"ETag": '"abc"', "Last-Modified": "Wed, 10 Jul 2019 11:53:37 GMT"}
        return Reply(200, google_alerts, headers={**ATOM, **validators})

    platform_server.route("GET", ALERTS_PATH, conditional)
    url = platform_server.url + ALERTS_PATH

    [first] = fetch(url)
    cursor = json.loads(first.cursor)
    assert cursor["etag"] == '"abc"' and cursor["last_modified"] == "Wed, 10 Jul 2019 11:53:37 GMT"
    assert len(cursor["seen"]) == 20

    assert fetch(url, first.cursor) == []  # nothing to store, so the stored cursor stays as it was
    again = platform_server.requests_to(ALERTS_PATH)[-1]
    assert header(again, "If-None-Match") == '"abc"'
    assert header(again, "If-Modified-Since") == "Wed, 10 Jul 2019 11:53:37 GMT"
    assert header(platform_server.requests_to(ALERTS_PATH)[0], "If-None-Match") is None


def test_a_server_without_validators_hands_over_only_unseen_entries(platform_server, google_alerts):
    platform_server.route("GET", ALERTS_PATH, Reply(200, google_alerts, headers=ATOM))
    url = platform_server.url + ALERTS_PATH
    [first] = fetch(url)

    [second] = fetch(url, first.cursor)

    assert second.mentions == []
    assert json.loads(second.cursor)["seen"] == json.loads(first.cursor)["seen"]
    assert header(platform_server.requests[-1], "If-None-Match") is None


def test_a_plain_rss_feed_is_rss_with_authors_or_hosts(platform_server, recorded_fixtures):
    body = (recorded_fixtures / "rss/real_world_feedjira/HuffPostCanada.xml").read_bytes()
    platform_server.route("GET", "/feed", Reply(200, body, headers=RSS))

    [batch] = fetch(platform_server.url + "/feed")

    assert [m.platform for m in batch.mentions] == ["rss", "rss"]
    first = batch.mentions[0]
    assert first.text.startswith("Winnipeg High School Orders Custom Hijabs")
    assert first.author_handle == "huffingtonpost.ca"
    assert first.author_name == "Canadian Press"  # the entry's own author, when the feed names one
    assert first.created_at == datetime(2017, 10, 17, 22, 17, tzinfo=UTC)
    assert first.language == "en"


@pytest.mark.parametrize(
    ("fixture", "entries"),
    [
        ("rss/feedparser/illformed/rss_item_link_corrupted_ampersands.xml", 1),
        ("rss/feedparser/illformed/windows1255.xml", 1),
        ("rss/feedparser/illformed/aaa_illformed.xml", 0),
        ("rss/feedparser/encoding/bozo_double-encoded-html.xml", 1),
        ("rss/real_world_feedjira/TechCrunch.xml", 20),
        ("rss/real_world_feedjira/InvalidDateFormat.xml", 2),
        ("rss/real_world_feedjira/youtube_atom.xml", 15),
    ],
)
def test_ill_formed_feeds_keep_what_parsed_with_a_warning(platform_server, recorded_fixtures, fixture, entries):
    platform_server.route("GET", "/feed", Reply(200, (recorded_fixtures / fixture).read_bytes(), headers=RSS))

    [batch] = fetch(platform_server.url + "/feed")

    assert len(batch.mentions) == entries
    assert batch.counts == {"feed_warnings": 1}
    assert all(m.text and m.platform_id for m in batch.mentions)


def test_an_entry_with_only_a_link_uses_it_as_text_and_id(recorded_fixtures):
    body = (recorded_fixtures / "rss/feedparser/illformed/rss_item_link_corrupted_ampersands.xml").read_bytes()

    [mention] = parse_feed(body, url="http://127.0.0.1/feed", now=NOW).mentions

    assert mention.text == mention.url == mention.platform_id == "http://link/get?a=1&b=2"
    assert mention.created_at == NOW  # no date in the entry


def test_an_entry_without_id_or_link_gets_a_stable_hash():
    body = (
        b"<rss version='2.0'><channel><item><title>Hola</title>"
        b"<pubDate>Mon, 06 May 2024 08:00:00 GMT</pubDate></item></channel></rss>"
    )

    ids = {parse_feed(body, url="http://127.0.0.1/feed", now=NOW).mentions[0].platform_id for _run in range(2)}

    assert len(ids) == 1 and ids.pop().startswith("h:")


def test_an_empty_document_is_not_a_feed(platform_server, recorded_fixtures):
    body = (recorded_fixtures / "rss/feedparser/illformed/rss_empty_document.xml").read_bytes()
    platform_server.route("GET", "/feed", Reply(200, body, headers=RSS))

    with pytest.raises(SourceError, match="not an RSS or Atom feed"):
        fetch(platform_server.url + "/feed")


def test_an_html_page_is_not_a_feed(platform_server):
    page = b"<!DOCTYPE html><html><head><title>Google Alerts</title></head><body><p>Sign in</p></body></html>"
    platform_server.route("GET", "/alerts", Reply(200, page, headers={"Content-Type": "text/html; charset=utf-8"}))

    with pytest.raises(SourceError) as caught:
        fetch(platform_server.url + "/alerts?token=secret")

    message = caught.value.message
    assert "not an RSS or Atom feed (it sent text/html)" in message
    assert "\n" not in message and "secret" not in message
    assert caught.value.hint


def test_a_truncated_body_is_a_source_error(platform_server, google_alerts):
    platform_server.route("GET", ALERTS_PATH, Reply(200, google_alerts, headers=ATOM, truncate_to=1000))

    with pytest.raises(SourceError, match="broke off"):
        fetch(platform_server.url + ALERTS_PATH)


def test_a_slow_feed_times_out(platform_server, google_alerts):
    platform_server.route("GET", ALERTS_PATH, Reply(200, google_alerts, headers=ATOM, delay=2))

    with pytest.raises(SourceError, match="did not answer in time"):
        fetch(platform_server.url + ALERTS_PATH, timeout=0.5)


@pytest.mark.parametrize(("status", "expected"), [(404, "was not found"), (500, "answered 500")])
def test_error_statuses_are_one_line_source_errors(platform_server, status, expected):
    platform_server.route("GET", "/feed", Reply(status, b"<html>oops</html>", headers={"Content-Type": "text/html"}))

    with pytest.raises(SourceError, match=expected) as caught:
        fetch(platform_server.url + "/feed")

    assert "\n" not in caught.value.message


def test_rate_limit_is_waited_out_then_the_feed_is_read(platform_server, google_alerts):
    platform_server.route(
        "GET", ALERTS_PATH, Reply(429, b"", headers={"Retry-After": "1"}), Reply(200, google_alerts, headers=ATOM)
    )

    [batch] = fetch(platform_server.url + ALERTS_PATH, max_retry_wait=2)

    assert len(batch.mentions) == 20
    assert len(platform_server.requests_to(ALERTS_PATH)) == 2


def test_a_corrupt_cursor_starts_afresh(platform_server, google_alerts):
    platform_server.route("GET", ALERTS_PATH, Reply(200, google_alerts, headers=ATOM))

    [batch] = fetch(platform_server.url + ALERTS_PATH, cursor="{not json")

    assert len(batch.mentions) == 20


@pytest.mark.parametrize(
    ("link", "target"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://elpais.com/a/b.html&ct=ga&cd=CAIy&usg=AOvVaw",
            "https://elpais.com/a/b.html",
        ),
        (
            "https://www.google.es/url?rct=j&sa=t&url=https%3A%2F%2Felpais.com%2Fa%3Fid%3D1%26p%3D2&ct=ga",
            "https://elpais.com/a?id=1&p=2",
        ),
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
        ("https://example.com/url?url=https://other.example/", "https://example.com/url?url=https://other.example/"),
        ("http://[::1", "http://[::1"),
    ],
)
def test_unwrap_redirect(link, target):
    assert unwrap_redirect(link) == target


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("Automotive <b>Slack</b>, market&nbsp;...", "Automotive Slack, market ..."),
        ("&lt;b&gt;Café&lt;/b&gt; &amp;amp; Co", "Café & Co"),
        ("<p>One</p><p>Two</p>", "One Two"),
        ("plain", "plain"),
    ],
)
def test_plain_text(markup, text):
    assert plain_text(markup) == text


FEED_PREFIXES = st.sampled_from(
    [
        b"",
        b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>",
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title type='html'>&lt;b&gt;",
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><link href='https://www.google.com/url?url=",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=FEED_PREFIXES, body=st.binary(max_size=2000))
def test_any_bytes_give_mentions_or_a_source_error(prefix, body):
    try:
        parsed = parse_feed(prefix + body, url="http://127.0.0.1/feed", headers=RSS, now=NOW)
    except SourceError:
        return
    for mention in parsed.mentions:
        assert mention.created_at.tzinfo is not None
        json.dumps(mention.raw)
