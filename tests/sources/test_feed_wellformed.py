"""The quick reading of plain feeds is feedparser's reading: same entries, key for key, or no reading at all."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmday.sources.feed import wellformed
from cmday.sources.feed.adapter import _jsonable, parse_feed
from tests.sources.test_feed import NOW

CONTENT_TYPES = [
    "application/atom+xml", "application/rss+xml", "application/xml; charset=UTF-8", "text/xml",
    "text/xml; charset=utf-8", "text/html", None,
]
LOCATIONS = ["https://example.com/feeds/alerts?token=1", "https://example.com/a/b/feed.xml", "", "javascript:alert(1)", "example.com/x"]


def headers_for(content_type: str | None, location: str = LOCATIONS[0], language: str | None = None) -> dict[str, str]:
    headers = {"content-location": location}
    if content_type:
        headers["content-type"] = content_type
    if language:
        headers["content-language"] = language
    return headers


def assert_read_as_feedparser_reads(body: bytes, headers: dict[str, str]) -> bool:
    """True when the quick reading took the feed, after checking it equals feedparser's."""
    quick = wellformed.read(body, dict(headers))
    if quick is None:
        return False
    full = feedparser.parse(body, response_headers=dict(headers))
    assert json.dumps(_jsonable(quick["entries"])) == json.dumps(_jsonable(full["entries"]))
    assert quick["version"] == full["version"]
    assert not full["bozo"] or isinstance(full["bozo_exception"], feedparser.NonXMLContentType)
    for key in ("id", "language"):
        assert quick["feed"].get(key) == full["feed"].get(key)
    assert [link.get("href") for link in quick["feed"].get("links", [])] == [link.get("href") for link in full["feed"].get("links", [])]
    return True


def recorded_feeds() -> list[Path]:
    return sorted((Path(__file__).parents[1] / "fixtures" / "rss").rglob("*.xml"))


@pytest.mark.parametrize("path", recorded_feeds(), ids=lambda path: path.name)
@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_every_recorded_feed_is_read_as_feedparser_reads_it_or_left_to_it(path, content_type):
    assert_read_as_feedparser_reads(path.read_bytes(), headers_for(content_type))


def test_google_alerts_and_plain_rss_take_the_quick_reading(recorded_fixtures):
    alerts = (recorded_fixtures / "rss/google_alerts/feedjira_google_alerts_atom.xml").read_bytes()
    smart_quote = (recorded_fixtures / "rss/feedparser/encoding/demoronize-1.xml").read_bytes()
    assert assert_read_as_feedparser_reads(alerts, headers_for("application/atom+xml; charset=utf-8"))
    assert assert_read_as_feedparser_reads(smart_quote, headers_for("application/rss+xml"))
    mentions = parse_feed(alerts, url="https://www.google.com/alerts/feeds/1/2", headers={"Content-Type": "application/atom+xml"}, now=NOW).mentions
    assert [m.platform for m in mentions] == ["google-alerts"] * 20
    assert mentions[1].text.startswith("Slack Stock Has a Compelling Story")
    assert "Company's decision" in mentions[1].text  # &#39; as feedparser's sanitiser gives it


@pytest.mark.parametrize("body", [
    b"\xef\xbb\xbf<?xml version='1.0'?><rss version='2.0'><channel><item><title>bom</title></item></channel></rss>",
    b"<?xml version='1.0' encoding='iso-8859-1'?><rss version='2.0'><channel><item><title>caf\xe9</title></item></channel></rss>",
    b"<!DOCTYPE rss [<!ENTITY a 'x'>]><rss version='2.0'><channel><item><title>&a;</title></item></channel></rss>",
    b"<rss version='2.0'><channel><item><title>unclosed</title></item></channel>",
    b"<rss version='0.91'><channel><item><title>old</title></item></channel></rss>",
    b"<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><item><dc:creator>x</dc:creator></item></channel></rss>",
    b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>a</title><title>b</title></entry></feed>",
    b"<feed xmlns='http://www.w3.org/2005/Atom' xml:base='http://x/'><entry><link href='y'/></entry></feed>",
    b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>x</div></content></entry></feed>",
])
def test_anything_unusual_is_left_to_feedparser(body):
    assert wellformed.read(body, headers_for("application/xml")) is None


# Generated feeds: the values that make feedparser's reading intricate, in every element read quickly.
FRAGMENTS = [
    "Acme", " ", "  ", "\n", "\t", "news", "<b>Acme</b>", "<i>x</i>", "<em>", "</strong>", "<script>alert(1)</script>",
    "<a href=\"/rel/x\">link</a>", "<img src=\"a.png\">", "<p>para</p>", "&amp;", "&nbsp;", "&#39;", "&#34;", "&copy;", "&bogus;",
    "'", "\"", ">", "<", "é", "Ã©", "\x92", "\x85", "日本", "a@b.com", "(Ana)", "Ana <a@b.com>", "http://x.example/y",
    "/relative", "?q=1&amp;r=2", "tag:example.com,2026:1", "&#13;",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join)
DATES = ["2026-11-22T07:01:00Z", "2026-11-22T07:01:00+02:00", "Wed, 02 Oct 2002 13:00:00 GMT", "Sun, 22 Nov 2026 07:01:00 +0100",
         "yesterday", "", " 2026-11-22 "]


def text_element(name: str, text: str, kind: str | None = None, cdata: bool = False) -> str:
    attributes = f" type={quoteattr(kind)}" if kind else ""
    body = f"<![CDATA[{text}]]>" if cdata and "]]>" not in text and "&#13;" not in text else escape(text).replace("&amp;#13;", "&#13;")
    return f"<{name}{attributes}>{body}</{name}>"


@st.composite
def atom_entries(draw) -> str:
    parts = []
    for name in draw(st.lists(st.sampled_from(["id", "title", "link", "link2", "published", "updated", "content", "summary", "author"]), unique=True)):
        if name == "id":
            parts.append(text_element("id", draw(st.sampled_from(["tag:example.com,2026:1", "/entries/1", "https://x.example/1", "", " a b "]))))
        elif name.startswith("link"):
            attributes = {"href": draw(st.sampled_from(["https://news.example/1?a=1&b=2", "/rel/2", "", "javascript:x()"]))}
            for key, values in (("rel", ["alternate", "self", "related", "ALTERNATE"]), ("type", ["text/html", "application/atom+xml", "TEXT/HTML"])):
                if draw(st.booleans()):
                    attributes[key] = draw(st.sampled_from(values))
            parts.append("<link" + "".join(f" {k}={quoteattr(v)}" for k, v in attributes.items()) + "/>")
        elif name in ("published", "updated"):
            parts.append(text_element(name, draw(st.sampled_from(DATES))))
        elif name in ("title", "content", "summary"):
            kind = draw(st.sampled_from([None, "text", "html", "HTML"]))
            parts.append(text_element(name, draw(texts), kind, cdata=draw(st.booleans())))
        else:
            children = [text_element(child, draw(texts)) for child in draw(st.lists(st.sampled_from(["name", "email", "uri"]), unique=True))]
            parts.append("<author>" + draw(st.sampled_from(["", " ", "\n  "])).join([""] + children + [""]) + "</author>")
    return "<entry>" + "".join(parts) + "</entry>"


@st.composite
def rss_items(draw) -> str:
    parts = []
    for name in draw(st.lists(st.sampled_from(["title", "link", "description", "guid", "pubDate", "author"]), unique=True)):
        if name == "guid":
            permalink = draw(st.sampled_from([None, "true", "false", "True"]))
            attribute = f" isPermaLink={quoteattr(permalink)}" if permalink else ""
            parts.append(f"<guid{attribute}>{escape(draw(st.sampled_from(['https://x.example/p/1', '/p/2', 'abc-123', ''])))}</guid>")
        elif name == "link":
            parts.append(text_element("link", draw(st.sampled_from(["https://news.example/1?a=1&amp;b=2", "/rel/2", " https://x.example/ ", ""]))))
        elif name == "pubDate":
            parts.append(text_element("pubDate", draw(st.sampled_from(DATES))))
        else:
            parts.append(text_element(name, draw(texts), cdata=draw(st.booleans())))
    return "<item>" + "".join(parts) + "</item>"


DECLARATIONS = ["", "<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<?xml version='1.0' encoding='UTF-8'?>\n"]


@st.composite
def feeds(draw) -> tuple[bytes, dict[str, str]]:
    declaration = draw(st.sampled_from(DECLARATIONS))
    lang = draw(st.sampled_from([None, "en", "es_ES", ""]))
    lang_attribute = f" xml:lang={quoteattr(lang)}" if lang is not None else ""
    if draw(st.booleans()):
        head = "<id>tag:example.com,2026:feed</id><title>Alerts</title><link rel=\"self\" href=\"/feed\"/>"
        body = f"<feed xmlns=\"http://www.w3.org/2005/Atom\"{lang_attribute}>{head}{''.join(draw(st.lists(atom_entries(), max_size=3)))}</feed>"
    else:
        channel = "<title>News</title><link>https://news.example/</link><description>all</description>"
        if draw(st.booleans()):
            channel += f"<language>{draw(st.sampled_from(['en-us', 'es', 'EN_gb', '']))}</language>"
        if draw(st.booleans()):
            channel += "<atom:link href=\"https://news.example/rss\" rel=\"self\" type=\"application/rss+xml\"/>"
        items = "".join(draw(st.lists(rss_items(), max_size=3)))
        body = (f"<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"{lang_attribute}><channel>{channel}{items}</channel></rss>")
    headers = headers_for(draw(st.sampled_from(CONTENT_TYPES)), draw(st.sampled_from(LOCATIONS)), draw(st.sampled_from([None, "fr", "pt-BR"])))
    return (declaration + body).encode("utf-8"), headers


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds())
def test_generated_feeds_are_read_as_feedparser_reads_them(feed):
    body, headers = feed
    assert_read_as_feedparser_reads(body, headers)


@st.composite
def damaged_feeds(draw) -> tuple[bytes, dict[str, str]]:
    """A generated feed with a few bytes put in, taken out or changed, as a truncated or garbled answer is."""
    body, headers = draw(feeds())
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        change = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from([b"<", b">", b"&", b"\"", b"'", b"\x00", b"\xff", b"\xc3", b"]]>", b"<x>", b"</entry>", b"<!", b" "]))
        if change == "insert":
            data[at:at] = piece
        elif change == "delete":
            del data[at:at + len(piece)]
        else:
            data[at:at + len(piece)] = piece
    return bytes(data), headers


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_feeds())
def test_damaged_feeds_are_read_as_feedparser_reads_them_or_left_to_it(feed):
    body, headers = feed
    assert_read_as_feedparser_reads(body, headers)  # never raises: a feed it cannot take goes to feedparser
