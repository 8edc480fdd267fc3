"""Escalation: telling the team or the client, by webhook, a ready-to-send email, or text to copy."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cmday.errors import ConfigError, SourceError, StateError, UsageError
from cmday.i18n import _
from cmday.labels import category_label
from cmday.mention import StoredMention
from cmday.private import private_folder, write_private_file
from cmday.textsafe import clean, one_line

if TYPE_CHECKING:
    from cmday.models import Contact, Project
    from cmday.routine import Day


@dataclass
class EscalationMessage:
    subject: str
    body: str


@dataclass
class Delivery:
    channel: str  # webhook | email | print
    delivered: bool
    detail: str  # where the email was written, or the webhook's answer


def compose(
    project: Project,
    mention: StoredMention,
    target: str,
    note: str,
    related: list[StoredMention],
    zone: ZoneInfo,
) -> EscalationMessage:
    """The message: the mention, the note, and for a crisis every mention behind it as a timeline with links."""
    def line(m: StoredMention) -> str:
        at = m.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        author = clean(m.author_handle or m.author_name)
        return f"- {at}  {m.platform}  {author}: {clean(m.text)}" + (f"\n  {clean(m.url)}" if m.url else "")

    # one_line: a handle holding a line break would otherwise end the Subject header and start another
    subject = one_line(_("[{brand}] {category} escalated to {target}: {author} on {platform}").format(
        brand=project.name, category=category_label(mention.category), target=target,
        author=clean(mention.author_handle or mention.author_name), platform=mention.platform,
    ))
    parts = [
        _("What came in:"),
        line(mention),
        "",
    ]
    if note:
        parts += [_("Note from the community manager:"), clean(note), ""]
    others = [m for m in related if m.id != mention.id]
    if others:
        parts += [_("Timeline of the related mentions ({count}):").format(count=len(others) + 1)]
        parts += [line(m) for m in sorted([mention, *others], key=lambda m: m.created_at)]
        parts += [""]
    parts.append(_("Sent with cmday. Reply to agree the answer before anything is published."))
    return EscalationMessage(subject=subject, body="\n".join(parts))


@dataclass
class Escalated:
    """An escalation done and recorded: to whom, what they were sent, and how it went out."""

    to: str  # the contact's name in the protocol
    recipient: str  # whom the message is for, as they read it
    message: EscalationMessage
    delivery: Delivery


def escalate(day: Day, mention: StoredMention, to: str, note: str, outbox: Path, now: datetime) -> Escalated:
    """`cmday escalate`: the message composed (a crisis carries every mention behind it), delivered, then recorded."""
    from cmday.labels import contact_label
    from cmday.typed import choose

    escalation = day.protocol.escalation
    # before anything is written: a typo in --to must not mark the mention escalated to nobody
    routed = {name for names in escalation.routes.values() for name in names}
    to = choose(to, {*escalation.contacts, *routed}, _("{where}: no contact {value!r} in the protocol; contacts: {known}"), "--to")
    related = day.crisis.mentions if day.crisis and mention.category in ("crisis", "complaint") else []
    related_mentions = [m for m in (day.store.mention(line.id) for line in related) if m]
    contact = escalation.contacts.get(to)
    # the subject names whom it is for as they read it: the contact's name, else "the client"
    recipient = contact_label(to, contact.name if contact else "")
    message = compose(day.project, mention, recipient, note, related_mentions, day.zone)
    delivery = deliver(message, contact, to, outbox, now)
    day.store.add_escalation(mention.id, to, delivery.channel, note, now, delivery.delivered, delivery.detail)
    return Escalated(to, recipient, message, delivery)


def deliver(message: EscalationMessage, contact: Contact | None, target: str, outbox: Path, now: datetime) -> Delivery:
    """Webhook when the contact names one, else an .eml file when it has an email, else text to copy."""
    if contact is not None and contact.webhook_env:
        url = os.environ.get(contact.webhook_env)
        if not url:
            raise UsageError(
                _("the escalation webhook for {target} is in ${variable}, which is not set").format(target=target, variable=contact.webhook_env),
                hint=_("export {variable}=<incoming webhook URL>, or escalate by email").format(variable=contact.webhook_env),
            )
        return _post_webhook(url, message)
    if contact is not None and contact.email:
        return Delivery("email", True, str(write_eml(message, contact, outbox, now)))
    return Delivery("print", False, "")


def _slack_escape(text: str) -> str:
    """Slack and Mattermost read <...> as links and mentions (<!channel>): a mention's text must not."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _post_webhook(url: str, message: EscalationMessage) -> Delivery:
    import httpx

    from cmday.secrets import remember_url

    remember_url(url, whole=True)  # a Slack or Mattermost webhook URL is its own credential: never in a log line

    try:
        answer = httpx.post(url, json={"text": _slack_escape(f"*{message.subject}*\n{message.body}")}, timeout=15)
    except httpx.HTTPError as error:
        raise SourceError(_("the escalation webhook did not answer: {reason}").format(reason=type(error).__name__)) from None
    if answer.status_code >= 400:
        raise SourceError(_("the escalation webhook answered {status}").format(status=answer.status_code))
    return Delivery("webhook", True, str(answer.status_code))


def write_eml(message: EscalationMessage, contact: Contact, outbox: Path, now: datetime) -> Path:
    """A draft email any mail client opens ready to send (X-Unsent tells Outlook and Thunderbird so).

    Each escalation gets a file of its own, 0600 in a 0700 outbox (it quotes private messages), and
    the file is read back before it counts as delivered.
    """
    from email.errors import HeaderParseError

    email = EmailMessage()
    try:
        email["To"] = Address(display_name=one_line(contact.name), addr_spec=one_line(contact.email))
    except (ValueError, IndexError, HeaderParseError):
        raise ConfigError(
            _("the protocol's email address {address!r} is not one cmday can write in an email").format(
                address=one_line(contact.email, 80)
            ),
            hint=_("fix `email` in [escalation.contacts] of the protocol"),
        ) from None
    email["Subject"] = one_line(message.subject)
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(domain="cmday.local")
    email["X-Unsent"] = "1"
    email.set_content(message.body)
    data = bytes(email)
    try:
        private_folder(outbox)
        path = _new_file(outbox, f"{now.strftime('%Y%m%d-%H%M%S')}-{_file_word(contact.email)}", data)
        written = path.read_bytes()
    except OSError as error:
        raise StateError(
            _("cannot write the escalation email in {folder}: {reason}").format(folder=outbox, reason=error.strerror),
            hint=_("nothing was recorded as escalated; free some space or fix the folder's permissions and escalate again"),
        ) from None
    if written != data:
        raise StateError(
            _("the escalation email {path} did not keep what was written; nothing was recorded as escalated").format(path=path)
        )
    return path


def _new_file(folder: Path, stem: str, data: bytes) -> Path:
    """`stem.eml`, else `stem-2.eml`, ...: created exclusively, so two escalations in one second never share a file."""
    for number in range(1, 10_000):
        path = folder / (f"{stem}.eml" if number == 1 else f"{stem}-{number}.eml")
        try:
            return write_private_file(path, data)
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder / stem}-*.eml")


def _file_word(address: str | None) -> str:
    """The address's local part, as a file name can hold it: never a path, whatever the protocol says."""
    word = re.sub(r"[^A-Za-z0-9._-]+", "-", (address or "").split("@")[0]).strip(".-")
    return word[:40] or "escalation"
