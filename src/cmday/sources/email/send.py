"""Answering a message over SMTP, at most once: a Message-ID from the draft's key, and the Sent folder as the record.

The copy in the Sent folder is written before the mail server is asked, marked `$CmdayPending`; just
before the final dot of DATA (the moment the server may take the message) it is marked
`$CmdayCommitted`, and once the server says 250 both marks go. So a later look tells apart a send that
never reached that point (safe to send again) from one whose answer alone was lost (never resent).
"""

from __future__ import annotations

import hashlib
import imaplib
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any

from cmday.errors import SourceError
from cmday.i18n import _
from cmday.sources.base import AnswerLost, AuthenticationFailed, Sent
from cmday.sources.email.fetch import TIMEOUT_SECONDS, quoted_folder
from cmday.textsafe import one_line

PENDING, COMMITTED = "$CmdayPending", "$CmdayCommitted"
MAX_REFERENCES = 20

_LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


@dataclass
class SentCopy:
    uid: int
    flags: set[str]

    @property
    def state(self) -> str:
        """`sent` (confirmed or committed: never send again), or `pending` (never reached the server's hands)."""
        if PENDING in self.flags and COMMITTED not in self.flags:
            return "pending"
        return "sent"


def message_id(idempotency_key: str, address: str) -> str:
    """The same draft always gets the same Message-ID: how a retry recognises what the first attempt sent."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = address.rpartition("@")[2] or "cmday.invalid"
    return f"<cmday.{digest}@{domain}>"


def compose(target_raw: dict[str, Any], text: str, sender: str, sender_name: str, idempotency_key: str, now: datetime) -> EmailMessage:
    """The answer, threaded under the customer's message; every value set through the header registry.

    The default policy refuses a line break in any header, and names and subjects are folded onto
    one line first, so nothing the customer wrote can add a header of its own.
    """
    to_address = str(target_raw.get("reply_to") or (target_raw.get("from") or {}).get("address") or "")
    if not re.fullmatch(r"[^@\s<>\",;()\[\]\\]{1,200}@[A-Za-z0-9.-]{1,253}", to_address):
        raise SourceError(_("the message has no address to answer (its From and Reply-To hold none)"))
    to_name = one_line(str((target_raw.get("from") or {}).get("name") or ""), 200)
    subject = one_line(str(target_raw.get("subject") or ""), 300)
    if not re.match(r"(?i)(re|aw|rv|sv)\s*:", subject):
        subject = f"Re: {subject}" if subject else "Re:"
    original = str(target_raw.get("message_id") or "")
    references = [str(r) for r in target_raw.get("references") or [] if isinstance(r, str)]
    if original:
        references = [r for r in references if r != original][-(MAX_REFERENCES - 1):] + [original]
    message = EmailMessage()
    message["From"] = Address(display_name=one_line(sender_name, 200), addr_spec=sender)
    local, _at, domain = to_address.rpartition("@")
    message["To"] = Address(display_name=to_name if to_name != to_address else "", username=local, domain=domain)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(idempotency_key, sender)
    if original:
        message["In-Reply-To"] = original
        message["References"] = " ".join(references)
    message.set_content(text)
    return message


def sent_folder(session: imaplib.IMAP4, configured: str | None) -> str:
    """The folder name on the wire: the one configured, else the server's \\Sent folder, else "Sent" (created)."""
    if configured:
        return quoted_folder(configured)
    status, lines = session.list()
    if status == "OK":
        for line in lines:
            found = _LIST_LINE.search(line) if isinstance(line, bytes) else None
            if found and b"\\sent" in found.group("flags").lower():
                name = found.group("name").decode("ascii", "replace")
                return name if name.startswith('"') else f'"{name}"'
    return quoted_folder("Sent")


def open_sent(session: imaplib.IMAP4, folder: str) -> bool:
    """Select the Sent folder for writing flags, creating it when missing; False when the server allows neither."""
    status, _detail = session.select(folder)
    if status != "OK":
        session.create(folder)
        status, _detail = session.select(folder)
    return status == "OK"


def keywords_allowed(session: imaplib.IMAP4) -> bool:
    _name, values = session.response("PERMANENTFLAGS")
    return any(value and b"\\*" in value for value in values or [])


def find_copy(session: imaplib.IMAP4, wanted_id: str) -> SentCopy | None:
    status, data = session.uid("SEARCH", "HEADER", "Message-ID", f'"{wanted_id}"')
    uids = [int(n) for chunk in data if isinstance(chunk, bytes) for n in chunk.split() if n.isdigit()] if status == "OK" else []
    if not uids:
        return None
    status, data = session.uid("FETCH", str(uids[-1]), "(FLAGS)")
    flags = set()
    for item in data if status == "OK" else []:
        label = item[0] if isinstance(item, tuple) else item
        found = re.search(rb"FLAGS \(([^)]*)\)", label or b"")
        if found:
            flags = set(found.group(1).decode("ascii", "replace").split())
    return SentCopy(uids[-1], flags)


def append_copy(session: imaplib.IMAP4, folder: str, message: EmailMessage, pending: bool) -> None:
    flags = f"(\\Seen {PENDING})" if pending else "(\\Seen)"
    session.append(folder, flags, None, message.as_bytes(policy=SMTP_POLICY))


def mark(session: imaplib.IMAP4, uid: int, change: str, flags: str) -> None:
    status, detail = session.uid("STORE", str(uid), change, f"({flags})")
    if status != "OK":
        raise SourceError(_("the mail server did not keep the mark on the copy in Sent: {reason}").format(reason=detail))


def submit(source: Any, password: str, context: ssl.SSLContext, message: EmailMessage, before_commit) -> None:
    """Hand the message to the SMTP server; `before_commit()` runs just before the final dot of DATA."""
    host = source.smtp_host or source.host
    port = source.smtp_port or (465 if source.smtp_security == "tls" else 587)
    try:
        if source.smtp_security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
            server.starttls(context=context)
    except ssl.SSLCertVerificationError as error:
        raise SourceError(
            _("{host}:{port}: the server's certificate is not trusted ({reason})").format(
                host=host, port=port, reason=one_line(error.verify_message or str(error), 120)),
            hint=_("for a server with its own certificate, set `ca_file` to that certificate"),
        ) from None
    except (OSError, smtplib.SMTPException) as error:
        raise SourceError(
            _("cannot reach the mail server {host}:{port}: {reason}").format(
                host=host, port=port, reason=one_line(str(error) or type(error).__name__, 160)),
            hint=_("check `smtp_host`, `smtp_port` and `smtp_security` (starttls on 587, tls on 465)"),
        ) from None
    try:
        server.ehlo_or_helo_if_needed()
        if server.has_extn("auth"):
            try:
                server.login(source.smtp_username or source.username, password)
            except smtplib.SMTPAuthenticationError:
                raise AuthenticationFailed(
                    _("the mail server {host} refused the login of {user}").format(
                        host=host, user=source.smtp_username or source.username),
                    hint=_("check `smtp_username` and the source's password"),
                ) from None
        sender = str(message["From"].addresses[0].addr_spec)
        recipients = [a.addr_spec for a in message["To"].addresses]
        code, said = server.mail(sender)
        if code != 250:
            raise _refused(code, said)
        for recipient in recipients:
            code, said = server.rcpt(recipient)
            if code not in (250, 251):
                raise _refused(code, said)
        code, said = server.docmd("DATA")
        if code != 354:
            raise _refused(code, said)
        body = re.sub(rb"(?m)^\.", b"..", message.as_bytes(policy=SMTP_POLICY))
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        server.send(body)
        before_commit()
        try:
            server.send(b".\r\n")
            code, said = server.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            raise AnswerLost(
                _("the mail server took the whole message but its answer was lost ({reason}); it may be delivered").format(
                    reason=one_line(str(error) or type(error).__name__, 120)),
                hint=_("cmday will not send it again: look for it in the Sent folder"),
            ) from None
        if code != 250:
            raise _refused(code, said)
    except (OSError, smtplib.SMTPException) as error:
        raise SourceError(
            _("the mail server {host} broke off before taking the message: {reason}").format(
                host=host, reason=one_line(str(error) or type(error).__name__, 160)),
        ) from None
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()


def _refused(code: int, said: bytes) -> SourceError:
    return SourceError(_("the mail server refused the message: {code} {reason}").format(
        code=code, reason=one_line(said.decode("utf-8", "replace"), 200)))


def sent_result(wanted_id: str) -> Sent:
    """A mail has no web page: its address is the `mid:` URL of its Message-ID (RFC 2392)."""
    return Sent(remote_id=wanted_id, url="mid:" + wanted_id.strip("<>"))
