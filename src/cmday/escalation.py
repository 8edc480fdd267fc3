"""Escalation: telling the team or the client, by webhook, a ready-to-send email, or text to copy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from cmday.errors import SourceError, UsageError
from cmday.i18n import _
from cmday.labels import category_label
from cmday.mention import StoredMention
from cmday.models import Project
from cmday.protocol import Contact, Protocol
from cmday.textsafe import clean


@dataclass
class EscalationMessage:
    subject: str
    body: str


@dataclass
class Delivery:
    channel: str  # webhook | email | print
    delivered: bool
    detail: str  # where the email was written, or the webhook's answer


def targets_for(protocol: Protocol, category: str) -> list[str]:
    return protocol.escalation.routes.get(category, [])


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

    subject = _("[{brand}] {category} escalated to {target}: {author} on {platform}").format(
        brand=project.name, category=category_label(mention.category), target=target,
        author=clean(mention.author_handle or mention.author_name), platform=mention.platform,
    )
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

    try:
        answer = httpx.post(url, json={"text": _slack_escape(f"*{message.subject}*\n{message.body}")}, timeout=15)
    except httpx.HTTPError as error:
        raise SourceError(_("the escalation webhook did not answer: {reason}").format(reason=type(error).__name__)) from None
    if answer.status_code >= 400:
        raise SourceError(_("the escalation webhook answered {status}").format(status=answer.status_code))
    return Delivery("webhook", True, str(answer.status_code))


def write_eml(message: EscalationMessage, contact: Contact, outbox: Path, now: datetime) -> Path:
    """A draft email any mail client opens ready to send (X-Unsent tells Outlook and Thunderbird so)."""
    email = EmailMessage()
    email["To"] = Address(display_name=contact.name, addr_spec=str(contact.email))
    email["Subject"] = message.subject
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(domain="cmday.local")
    email["X-Unsent"] = "1"
    email.set_content(message.body)
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{now.strftime('%Y%m%d-%H%M%S')}-{contact.email.split('@')[0] if contact.email else 'escalation'}.eml"
    path.write_bytes(bytes(email))
    return path
