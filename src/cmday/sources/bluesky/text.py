"""Text as Bluesky holds it: facets read back into links, and the facets a post's mentions, links and tags need."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from cmday.sources.bluesky.entities import _HANDLE_IN_TEXT, _SCHEME, _TAG_IN_TEXT, _TRAILING, _URL_IN_TEXT, LINK, MENTION, TAG, Facet

# -- reading pages into mentions --------------------------------------------------------------


def text_with_links(text: str, facets: list[Facet | None] | None) -> str:
    """The post's text with shortened link labels expanded; facets count UTF-8 bytes, not characters."""
    data = text.encode("utf-8", "surrogatepass")
    spans: list[tuple[int, int, str]] = []
    for facet in facets or []:
        uri = next((f.uri for f in (facet.features if facet else []) if f and f.type == LINK and f.uri), None)
        if facet is None or not uri:
            continue
        start, end = facet.index.byte_start, facet.index.byte_end
        if not 0 <= start < end <= len(data):
            continue
        try:
            shown = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue  # offsets that cut a character in two point at nothing we can show
        spans.append((start, end, _expanded(shown, _plain(uri))))
    parts: list[str] = []
    position = 0
    for start, end, replacement in sorted(spans):
        if start < position:
            continue  # overlapping facets: the first one wins
        parts += [data[position:start].decode("utf-8", "replace"), replacement]
        position = end
    parts.append(data[position:].decode("utf-8", "replace"))
    return "".join(parts)


def _expanded(shown: str, uri: str) -> str:
    bare_shown, bare_uri = _SCHEME.sub("", shown.strip()), _SCHEME.sub("", uri.strip())
    if bare_shown.rstrip("/") == bare_uri.rstrip("/"):
        return shown
    stem = bare_shown.removesuffix("...").removesuffix("…")
    if stem and bare_uri.startswith(stem):
        return uri
    return f"{shown} ({uri})"  # a label that hides where the link goes: a CM must see both


def _plain(text: str) -> str:
    """Text that can be stored: a lone surrogate from a JSON escape becomes '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")



def with_link(text: str, link: str | None) -> str:
    """The text and the link a paragraph apart, as the calendar counts its length; nothing added when it is there."""
    if not link or link in text:
        return text
    return f"{text}\n\n{link}" if text else link


def handles_in(text: str) -> list[str]:
    """The @handles the text mentions, lowercased, in order, once each."""
    return list(dict.fromkeys(m.group(1).lower() for m in _HANDLE_IN_TEXT.finditer(text)))


def facets_for(text: str, dids: dict[str, str]) -> list[dict[str, Any]]:
    """Mention facets for the @handles whose DID is known (`dids`, by lowercased handle), link and tag facets.

    Offsets are UTF-8 bytes, end exclusive, as app.bsky.richtext.facet#byteSlice says: an emoji before a
    link moves it four bytes, an accent two.
    """

    def facet(start: int, end: int, feature: dict[str, str]) -> dict[str, Any]:
        index = {"byteStart": len(text[:start].encode("utf-8")), "byteEnd": len(text[:end].encode("utf-8"))}
        return {"index": index, "features": [feature]}

    facets: list[tuple[int, dict[str, Any]]] = []
    taken: list[tuple[int, int]] = []
    for match in _URL_IN_TEXT.finditer(text):
        end = match.start() + len(_trimmed_url(match.group(0)))
        uri = text[match.start() : end]
        if urlsplit(uri).hostname:
            taken.append((match.start(), end))
            facets.append((match.start(), facet(match.start(), end, {"$type": LINK, "uri": uri})))
    for match in _HANDLE_IN_TEXT.finditer(text):
        did = dids.get(match.group(1).lower())
        if did and not _overlaps(match.start(), match.end(), taken):
            taken.append((match.start(), match.end()))
            facets.append((match.start(), facet(match.start(), match.end(), {"$type": MENTION, "did": did})))
    for match in _TAG_IN_TEXT.finditer(text):
        tag = match.group(1).rstrip(_TRAILING + ")]}")
        end = match.start(1) + len(tag)
        if _is_tag(tag) and not _overlaps(match.start(), end, taken):
            facets.append((match.start(), facet(match.start(), end, {"$type": TAG, "tag": tag})))
    return [facet for _start, facet in sorted(facets, key=lambda pair: pair[0])]


def _trimmed_url(url: str) -> str:
    """A URL without the sentence punctuation after it; a closing bracket stays when the URL opened it."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in ")]}" and url.count({")": "(", "]": "[", "}": "{"}[last]) < url.count(last):
            url = url[:-1]
        else:
            break
    return url


def _is_tag(tag: str) -> bool:
    # As the official app: at most 64 characters, and not only digits and punctuation (#1 is not a tag).
    return 0 < len(tag) <= 64 and any(not (c.isdigit() or unicodedata.category(c).startswith("P")) for c in tag)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < taken_end and taken_start < end for taken_start, taken_end in spans)


