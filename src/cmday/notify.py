"""`check --notify`: each new crisis, late mention or source to log in again, sent once through the escalation routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cmday.errors import CmdayError
from cmday.escalation import EscalationMessage, compose, deliver
from cmday.i18n import _, ngettext
from cmday.routine import Day
from cmday.textsafe import clean, one_line


@dataclass
class Alert:
    item: str  # the key that makes it "the same item" across runs: crisis:<first id>, late:<id>, login:<source>
    route: str  # the escalation route it follows: crisis, the mention's category, or "login"
    message: EscalationMessage
    members: list[int] = field(default_factory=list)  # a crisis's mentions: while one was told, it is the same crisis


@dataclass
class Sent:
    item: str
    target: str
    channel: str
    detail: str


@dataclass
class NotSent:
    item: str
    error: str


def alerts(day: Day) -> list[Alert]:
    """What needs a person now, crisis first; each with the text escalation would send."""
    found: list[Alert] = []
    crisis = day.crisis
    if crisis:
        first = min(crisis.mentions, key=lambda m: m.id)
        mention = day.store.mention(first.id)
        related = [m for m in (day.store.mention(line.id) for line in crisis.mentions) if m]
        if mention:
            message = compose(day.project, mention, _("the crisis watch"),
                              ngettext("cmday found a crisis ({count} mention).", "cmday found a crisis ({count} mentions).",
                                       len(related)).format(count=len(related)),
                              related, day.zone)
            found.append(Alert(f"crisis:{first.id}", "crisis", message, [line.id for line in crisis.mentions]))
    for mention in day.open_mentions:
        if mention.past_sla(day.now):
            message = compose(day.project, mention, _("the team"), _("Past its response deadline and still open."), [], day.zone)
            found.append(Alert(f"late:{mention.id}", mention.category, message))
    for problem in day.source_problems:
        if problem.needs_auth:
            subject = one_line(_("[{brand}] source {source} needs logging in again").format(brand=day.project.name, source=problem.source))
            body = "\n".join([
                clean(one_line(problem.error, 200)),
                "",
                _("Until then cmday reads nothing from {platform}: run `cmday sources --check`.").format(platform=problem.platform),
            ])
            found.append(Alert(f"login:{problem.source}", "login", EscalationMessage(subject, body)))
        elif problem.warning:  # a token about to end: the team hears it once, days before it stops working
            subject = one_line(_("[{brand}] source {source}: its access token ends soon").format(brand=day.project.name, source=problem.source))
            found.append(Alert(f"token:{problem.source}", "login", EscalationMessage(subject, clean(one_line(problem.error, 300)))))
    return found


def targets(day: Day, route: str) -> list[str]:
    """The protocol's route for this kind, else its `notify` route, else every contact with a webhook (a team channel)."""
    routes = day.protocol.escalation.routes
    named = routes.get(route) or routes.get("notify")
    if named:
        return list(named)
    return [name for name, contact in day.protocol.escalation.contacts.items() if contact.webhook_env]


def send_new(day: Day, outbox: Path, now: datetime) -> tuple[list[Sent], list[NotSent]]:
    """Send each alert not sent before; a failed delivery is forgotten so the next run tries again."""
    sent: list[Sent] = []
    failed: list[NotSent] = []
    current = alerts(day)
    # a source that logs in again may expire again later: that is a new item then
    live = {alert.item for alert in current}
    for item in day.store.notified(day.slug):
        if item.startswith("login:") and item not in live:
            day.store.forget_notification(day.slug, item)
    told = day.store.notified(day.slug)
    for alert in current:
        if alert.members and any(_member(i) in told for i in alert.members):
            # the crisis told before, its first mention answered since or others joining it: not news
            for mention_id in alert.members:
                day.store.claim_notification(day.slug, _member(mention_id), now)
            continue
        names = targets(day, alert.route)
        if not names:
            failed.append(NotSent(
                alert.item, _("no escalation contact for {route}: add a route or a webhook contact to the protocol's [escalation]").format(route=alert.route)))
            continue
        if not day.store.claim_notification(day.slug, alert.item, now):
            continue  # sent by an earlier run (or one running now)
        for mention_id in alert.members:
            day.store.claim_notification(day.slug, _member(mention_id), now)
        reached: list[Sent] = []
        problems: list[str] = []
        for name in names:
            try:
                delivery = deliver(alert.message, day.protocol.escalation.contacts.get(name), name, outbox, now)
            except CmdayError as error:
                problems.append(error.message)
                continue
            if delivery.delivered:
                reached.append(Sent(alert.item, name, delivery.channel, delivery.detail))
            else:
                problems.append(_("the contact {target} has neither a webhook nor an email in the protocol").format(target=name))
        if not reached:
            # nobody was told: the next run tries again
            day.store.forget_notification(day.slug, alert.item)
            for mention_id in alert.members:
                day.store.forget_notification(day.slug, _member(mention_id))
        # someone was told: the item stays sent, a contact left out is said once rather than re-sent to the others
        sent += reached
        failed += [NotSent(alert.item, problem) for problem in problems]
    return sent, failed


def _member(mention_id: int) -> str:
    """The item that remembers a mention was part of a crisis already told (one row per mention, Store.claim_notification)."""
    return f"crisis-mention:{mention_id}"
