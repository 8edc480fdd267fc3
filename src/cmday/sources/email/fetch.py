"""Reading the mailbox over IMAP: read-only, new messages since the UIDVALIDITY/UID cursor, bodies up to a cap."""

from __future__ import annotations

import base64
import imaplib
import json
import re
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.sources.base import AuthenticationFailed, cursor_fields
from cmday.sources.email.entities import FetchedMessage
from cmday.textsafe import one_line

TIMEOUT_SECONDS = 30.0  # one socket operation; a server slower than this is treated as down
MAX_BODY_BYTES = 256 * 1024  # what is downloaded of one message's body: its text, never a 20 MB attachment
FIRST_SWEEP_DAYS = 14  # a new source (or a rebuilt folder) reads this far back, not the whole mailbox
FIRST_SWEEP_MESSAGES = 200
MESSAGES_PER_BATCH = 25

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "[^"]+"')
_UIDVALIDITY = re.compile(rb"\d+")


@dataclass
class MailCursor:
    """Where the last sweep stopped: the folder's UIDVALIDITY and the highest UID stored under it."""

    uidvalidity: int | None = None
    uid: int = 0

    @classmethod
    def load(cls, text: str | None) -> MailCursor:
        data = cursor_fields(text)
        validity, uid = data.get("uidvalidity"), data.get("uid")
        return cls(validity if isinstance(validity, int) else None, uid if isinstance(uid, int) and uid >= 0 else 0)

    def dump(self) -> str:
        return json.dumps({"uidvalidity": self.uidvalidity, "uid": self.uid})


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's authorities, plus the source's own `ca_file` (a self-hosted server's certificate)."""
    context = ssl.create_default_context()
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as error:
            raise SourceError(
                _("cannot read the certificate file {path}: {reason}").format(path=ca_file, reason=one_line(str(error), 120)),
                hint=_("`ca_file` names a PEM file, relative to the workspace"),
            ) from None
    return context


def quoted_folder(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 §5.1.3), in quotes."""
    encoded, pending = [], []

    def flush() -> None:
        if pending:
            chunk = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii").rstrip("=")
            encoded.append("&" + chunk.replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    text = "".join(encoded)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(source: Any, password: str, context: ssl.SSLContext) -> imaplib.IMAP4:
    """A logged-in IMAP session; TLS before the password is ever sent."""
    try:
        if source.security == "tls":
            session: imaplib.IMAP4 = imaplib.IMAP4_SSL(source.host, source.port, ssl_context=context, timeout=TIMEOUT_SECONDS)
        else:
            session = imaplib.IMAP4(source.host, source.port, timeout=TIMEOUT_SECONDS)
            session.starttls(ssl_context=context)
    except ssl.SSLCertVerificationError as error:
        raise SourceError(
            _("{host}:{port}: the server's certificate is not trusted ({reason})").format(
                host=source.host, port=source.port, reason=one_line(error.verify_message or str(error), 120)),
            hint=_("for a server with its own certificate, set `ca_file` to that certificate"),
        ) from None
    except (OSError, imaplib.IMAP4.error) as error:
        raise SourceError(
            _("cannot reach the mail server {host}:{port}: {reason}").format(
                host=source.host, port=source.port, reason=one_line(str(error) or type(error).__name__, 160)),
            hint=_("check `host`, `port` and `security` (tls on 993, starttls on 143)"),
        ) from None
    try:
        session.login(source.username, password)
    except imaplib.IMAP4.error:
        close(session)
        raise AuthenticationFailed(
            _("the mail server {host} refused the login of {user}").format(host=source.host, user=source.username),
            hint=_("check `username` and the password in ${env} (or `cmday auth {source}`)").format(
                env=source.password_env or "…", source=source.id),
        ) from None
    return session


def examine(session: imaplib.IMAP4, folder: str) -> int:
    """Open the folder read-only (EXAMINE: nothing cmday does can mark mail read); its UIDVALIDITY."""
    status, detail = session.select(quoted_folder(folder), readonly=True)
    if status != "OK":
        raise SourceError(
            _("the mail folder {folder!r} cannot be opened: {reason}").format(folder=folder, reason=_said(detail)),
            hint=_("check the source's `folder` (INBOX unless the brand's mail is filed elsewhere)"),
        )
    _name, values = session.response("UIDVALIDITY")
    found = _UIDVALIDITY.search(values[0] or b"") if values and values[0] else None
    return int(found.group()) if found else 0


def new_uids(session: imaplib.IMAP4, cursor: MailCursor, uidvalidity: int, now: datetime) -> list[int]:
    """The UIDs to read, oldest first: above the cursor, or the recent ones when the folder is new to cmday."""
    known = cursor.uidvalidity == uidvalidity
    criteria = f"UID {cursor.uid + 1}:*" if known else f"SINCE {_imap_date(now - timedelta(days=FIRST_SWEEP_DAYS))}"
    status, data = session.uid("SEARCH", criteria)
    if status != "OK":
        raise SourceError(_("the mail server refused to search {what}").format(what=_said(data)))
    if known:
        return sorted(uid for uid in _numbers(data) if uid > cursor.uid)  # "N:*" always holds the last message, even below N
    return sorted(_numbers(data))[-FIRST_SWEEP_MESSAGES:]


def fetch_messages(session: imaplib.IMAP4, uids: list[int]) -> list[FetchedMessage]:
    """Headers whole and bodies up to MAX_BODY_BYTES, with BODY.PEEK so the server sets no \\Seen flag."""
    wanted = ",".join(str(uid) for uid in uids)
    status, data = session.uid(
        "FETCH", wanted, f"(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.{MAX_BODY_BYTES}>)"
    )
    if status != "OK":
        raise SourceError(_("the mail server refused to hand over messages: {reason}").format(reason=_said(data)))
    messages: dict[int, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for item in data:
        label, literal = (item[0], item[1]) if isinstance(item, tuple) else (item, None)
        if not isinstance(label, bytes):
            continue
        if re.match(rb"\d+ \(", label):
            current = {"labels": b"", "header": b"", "body": b""}
        if current is None:
            continue
        current["labels"] += label + b" "
        if literal is not None:
            if re.search(rb"BODY\[HEADER\](?:<\d+>)? \{\d+\}$", label):
                current["header"] = literal
            elif re.search(rb"BODY\[TEXT\](?:<\d+>)? \{\d+\}$", label):
                current["body"] = literal
        uid = _UID.search(current["labels"])
        if uid:
            messages[int(uid.group(1))] = current
    fetched = []
    for uid in uids:
        found = messages.get(uid)
        if found is None:
            continue  # expunged between SEARCH and FETCH: nothing to keep, it is gone from the server too
        size = _SIZE.search(found["labels"])
        internal = _INTERNALDATE.search(found["labels"])
        moment = imaplib.Internaldate2tuple(internal.group()) if internal else None
        fetched.append(FetchedMessage(
            uid=uid,
            header=found["header"],
            body=found["body"],
            size=int(size.group(1)) if size else len(found["header"]) + len(found["body"]),
            internal_date=_from_struct(moment),
        ))
    return fetched


def close(session: imaplib.IMAP4) -> None:
    try:
        session.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def _numbers(data: list) -> list[int]:
    return [int(n) for chunk in data if isinstance(chunk, bytes) for n in chunk.split() if n.isdigit()]


def _imap_date(moment: datetime) -> str:
    # IMAP dates use English month names whatever the locale (strftime's %b would follow it).
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{moment.day:02d}-{months[moment.month - 1]}-{moment.year}"


def _from_struct(moment: Any) -> datetime | None:
    """imaplib gives INTERNALDATE as this machine's local time."""
    if moment is None:
        return None
    try:
        return datetime.fromtimestamp(time.mktime(moment), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _said(detail: Any) -> str:
    if isinstance(detail, list) and detail and isinstance(detail[0], bytes):
        return one_line(detail[0].decode("utf-8", "replace"), 160)
    return one_line(str(detail), 160)
