"""One fetched message as cmday keeps it: headers decoded, the plain text found, quotes and signatures trimmed."""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from cmday.mention import Mention
from cmday.textsafe import clean, one_line

MAX_TEXT_CHARS = 4000  # what the inbox shows of one message
MAX_RAW_TEXT_CHARS = 100_000  # the whole text kept in the state's raw copy
MAX_HEADER_CHARS = 16_000
MAX_REFERENCES = 20  # a References header can grow without end in a long thread
EARLIEST_YEAR = 1990

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
_ADDRESS = re.compile(r"[^@\s<>\",;()\[\]\\]{1,200}@[A-Za-z0-9.-]{1,253}")
# Where the message the customer answers begins: mail clients write one of these above the quote.
_QUOTE_INTRO = re.compile(
    r"^\s*(?:On\b.{0,200}\bwrote:|El\b.{0,200}\bescribi[óo]:|Le\b.{0,200}\ba écrit\s?:"
    r"|-{2,}\s*(?:Original Message|Mensaje original|Forwarded message|Mensaje reenviado)\s*-{2,}"
    r"|_{20,}|(?:From|De):\s.{0,300}$)",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(?:-- ?|Sent from my .{0,40}|Enviado desde mi .{0,40})$")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass
class FetchedMessage:
    """What IMAP handed over for one message: the header block whole, the body up to the cap."""

    uid: int
    header: bytes
    body: bytes
    size: int  # the whole message's size on the server (RFC822.SIZE)
    internal_date: datetime | None = None

    @property
    def truncated(self) -> bool:
        return len(self.header) + len(self.body) < self.size


@dataclass
class ParsedMessage:
    message_id: str
    from_name: str
    from_address: str
    reply_to: str
    subject: str
    text: str  # the whole plain text
    date: datetime | None
    in_reply_to: str | None
    references: list[str]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)


def parse_message(fetched: FetchedMessage) -> ParsedMessage:
    """Everything a mention needs from one message, whatever the sender made of its MIME."""
    message = email.message_from_bytes(fetched.header + fetched.body, policy=email.policy.default)
    from_name, from_address = _first_address(message, "from")
    _name, reply_to = _first_address(message, "reply-to")
    message_id = _message_ids(_header(message, "message-id"))
    return ParsedMessage(
        message_id=message_id[0] if message_id else "",
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to or from_address,
        subject=one_line(_header(message, "subject"), 500),
        text=body_text(message),
        date=_date(_header(message, "date")),
        in_reply_to=next(iter(_message_ids(_header(message, "in-reply-to"))), None),
        references=_message_ids(_header(message, "references"))[-MAX_REFERENCES:],
        attachments=_attachments(message),
        to=[address for _name, address in _addresses(message, "to")][:20],
        cc=[address for _name, address in _addresses(message, "cc")][:20],
    )


def to_mention(fetched: FetchedMessage, folder: str, uidvalidity: int, now: datetime) -> Mention:
    """A mention of kind `email`: the subject over the text the customer wrote (quotes and signature trimmed)."""
    parsed = parse_message(fetched)
    shown = trimmed(parsed.text) or parsed.text
    text = "\n\n".join(part for part in (parsed.subject, shown) if part)
    # The Message-ID survives a folder rebuilt under a new UIDVALIDITY; the header's digest stands in when absent.
    platform_id = parsed.message_id or "h:" + hashlib.sha256(fetched.header).hexdigest()[:32]
    date = parsed.date or fetched.internal_date
    if date is None or date.year < EARLIEST_YEAR or date > now + timedelta(days=1):
        date = fetched.internal_date or now
    raw = {
        "message_id": parsed.message_id,
        "from": {"name": parsed.from_name, "address": parsed.from_address},
        "reply_to": parsed.reply_to,
        "to": parsed.to,
        "cc": parsed.cc,
        "subject": parsed.subject,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references,
        "date": date.isoformat(),
        "folder": folder,
        "uidvalidity": uidvalidity,
        "uid": fetched.uid,
        "size": fetched.size,
        "downloaded_bytes": len(fetched.header) + len(fetched.body),
        "truncated": fetched.truncated,
        "attachments": parsed.attachments,
        "headers": clean(fetched.header.decode("utf-8", "replace"))[:MAX_HEADER_CHARS],
        "text": parsed.text[:MAX_RAW_TEXT_CHARS],
    }
    return Mention(
        platform="email",
        platform_id=platform_id,
        kind="email",
        text=text[:MAX_TEXT_CHARS],
        created_at=date,
        author_handle=parsed.from_address,
        author_name=parsed.from_name or parsed.from_address,
        in_reply_to=parsed.in_reply_to,
        raw=raw,
    )


def body_text(message: Message) -> str:
    """The message's plain text: its first text/plain part, else its first HTML part as text; never an attachment."""
    plain = html_part = None
    for part in _parts(message):
        if _is_attachment(part):
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and plain is None:
            plain = _decoded(part)
        elif content_type == "text/html" and html_part is None:
            html_part = _decoded(part)
    if plain is not None and plain.strip():
        text = plain
    elif html_part is not None:
        text = html_to_text(html_part)
    else:
        text = plain or ""
    text = clean(text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()


def trimmed(text: str) -> str:
    """The text without the quoted message below it and without the signature: what the customer wrote now."""
    kept: list[str] = []
    for line in text.split("\n"):
        if line.lstrip().startswith(">") or _QUOTE_INTRO.match(line) or _SIGNATURE.match(line.rstrip()):
            break
        kept.append(line)
    return "\n".join(kept).strip()


class _TextOfHtml(HTMLParser):
    """HTML as the words a reader sees: scripts, styles and heads dropped, blocks on their own lines."""

    SKIPPED = {"script", "style", "head", "title", "template", "noscript", "svg"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self.BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.pieces.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # html.parser is lenient, but a hostile document must never cost the message
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = (" ".join(line.split()) for line in "".join(parser.pieces).split("\n"))
    return "\n".join(lines)


def _parts(message: Message) -> list[Message]:
    try:
        return list(message.walk())[:200]
    except Exception:
        return [message]


def _is_attachment(part: Message) -> bool:
    try:
        return part.is_multipart() or part.get_content_disposition() == "attachment" or bool(part.get_filename())
    except Exception:
        return True


def _decoded(part: Message) -> str:
    """A text part as text: its declared charset, else UTF-8, with what does not decode replaced."""
    try:
        payload = part.get_payload(decode=True) or b""
    except Exception:
        payload = str(part.get_payload()).encode("utf-8", "replace")
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
        return payload.decode(charset, "replace")
    except (LookupError, ValueError):
        return payload.decode("utf-8", "replace")


def _attachments(message: Message) -> list[dict[str, Any]]:
    found = []
    for part in _parts(message):
        try:
            if part.is_multipart() or not _is_attachment(part):
                continue
            found.append({"filename": one_line(part.get_filename() or "", 200), "type": part.get_content_type()})
        except Exception:
            continue
    return found[:50]


def _header(message: Message, name: str) -> str:
    """A header decoded (RFC 2047 encoded words included); a header the parser chokes on is decoded by hand."""
    try:
        value = message.get(name)
    except Exception:
        value = None
        for key, raw in message.raw_items() if isinstance(message, EmailMessage) else []:
            if key.lower() == name:
                value = _by_hand(raw)
                break
    if value is None:
        return ""
    return clean(str(value))


def _by_hand(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:
        return raw


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs, parsed before encoded words are decoded: a name can never become an address."""
    try:
        header = message.get(name)
        pairs = [(a.display_name, a.addr_spec) for a in header.addresses] if header is not None else []
    except Exception:  # a header the registry cannot parse: the raw text, split as RFC 5322 says, names decoded after
        raw = next((value for key, value in message.raw_items() if key.lower() == name), "") if isinstance(message, EmailMessage) else ""
        try:
            pairs = [(_by_hand(display), address) for display, address in getaddresses([raw])]
        except Exception:
            return []
    found = []
    for display, address in pairs:
        address = clean(address).strip()
        if _ADDRESS.fullmatch(address):
            found.append((one_line(display, 200), address.lower() if address.isascii() else address))
    return found


def _first_address(message: Message, name: str) -> tuple[str, str]:
    pairs = _addresses(message, name)
    if pairs:
        return pairs[0]
    return one_line(_header(message, name), 200), ""


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
