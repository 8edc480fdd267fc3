"""Status HTML read as plain text: imported when a status is read, so that a check with nothing new loads no HTML parser."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
_HIDDEN = {"script", "style", "template"}
_TAG = re.compile(r"<[^>]*>?")


@dataclass
class _Link:
    href: str
    classes: set[str]
    parts: list[str] = field(default_factory=list)
    shortened: bool = False

    def text(self) -> str:
        shown = "".join(self.parts)
        visible = shown.strip()
        href = self.href if self.href.startswith(("https://", "http://")) else ""
        if not href or self.classes & {"mention", "hashtag"} or visible.startswith(("@", "#")):
            return shown
        # Mastodon hides most of a long URL in `invisible` spans; the href is the whole of it.
        bare = visible.rstrip("/")
        if self.shortened or not visible or bare in (href.rstrip("/"), href.split("://", 1)[1].rstrip("/")):
            return href
        return f"{shown} ({href})"


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.link: _Link | None = None
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = set(values.get("class", "").split())
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self._emit("\n")
        elif tag == "a" and self.link is None:
            self.link = _Link(values.get("href", ""), classes)
        elif tag == "span" and self.link is not None and classes & {"invisible", "ellipsis"}:
            self.link.shortened = True
        elif tag in _BLOCKS:
            self._break(tag)
            if tag == "li":
                self.out.append("• ")
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag == "a":
            self._flush_link()
        elif tag in _BLOCKS:
            self._break(tag)
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if not self.pre:
            data = data.replace("\r", " ").replace("\n", " ")  # source newlines are spaces in HTML
        self._emit(data)

    def _emit(self, text: str) -> None:
        (self.link.parts if self.link is not None else self.out).append(text)

    def _break(self, tag: str) -> None:
        """Paragraphs apart by a blank line, list items and other blocks by a line break."""
        self._flush_link()
        wanted = 2 if tag in ("p", "blockquote", "pre") else 1
        tail = "".join(self.out[-3:])
        have = len(tail) - len(tail.rstrip("\n"))
        if have < wanted:
            self.out.append("\n" * (wanted - have))

    def _flush_link(self) -> None:
        if self.link is not None:
            link, self.link = self.link, None
            self.out.append(link.text())

    def text(self) -> str:
        self._flush_link()
        return "".join(self.out)


def html_to_text(content: str) -> str:
    """A status's HTML as the plain text people read: line breaks kept, links in full, no markup."""
    parser = _PlainText()
    try:
        parser.feed(content)
        parser.close()
        text = parser.text()
    except AssertionError:  # _markupbase still asserts on a few malformed declarations
        text = html.unescape(_TAG.sub(" ", content))
    lines = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", lines).strip()
