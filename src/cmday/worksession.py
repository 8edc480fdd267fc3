"""`cmday work`'s session without its screen: the queue's order, the count line, and each action through the same paths as `reply`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cmday import clock
from cmday import reply as replies
from cmday.errors import UsageError
from cmday.escalation import Delivery, EscalationMessage
from cmday.i18n import _, ngettext
from cmday.mention import StoredMention
from cmday.routine import Day


def in_order(mentions: list[StoredMention], now: datetime) -> list[StoredMention]:
    """A crisis first (the protocol says stop everything), then urgent; then the least time left before the deadline (none: last); then the oldest."""
    far = timedelta(days=36500)
    return sorted(
        mentions,
        key=lambda m: (m.category != "crisis", not m.urgent, (m.sla_due - now) if m.sla_due else far, m.created_at, m.id),
    )


def waited(minutes: int) -> str:
    if minutes < 60:
        return _("{count} min").format(count=minutes)
    if minutes < 48 * 60:
        return _("{count} h").format(count=minutes // 60)
    return ngettext("{count} day", "{count} days", minutes // 1440).format(count=minutes // 1440)


@dataclass
class Done:
    mention_id: int
    action: str  # replied | answered | ignored | snoozed | escalated | recategorised (not handled: still to answer)
    detail: str = ""


@dataclass
class WorkSession:
    """One pass over a project's open mentions; what was done is kept for the closing summary."""

    day: Day
    platform: str | None = None
    assignee: str | None = None  # only this team member's mentions (`work --mine`)
    queue: list[StoredMention] = field(default_factory=list)
    position: int = 0
    done: list[Done] = field(default_factory=list)

    def __post_init__(self) -> None:
        mentions = [m for m in self.day.open_mentions if (self.platform is None or m.platform == self.platform)
                    and (self.assignee is None or m.assignee == self.assignee)]
        self.queue = in_order(mentions, self.day.now)

    @property
    def current(self) -> StoredMention | None:
        return self.queue[self.position] if 0 <= self.position < len(self.queue) else None

    @property
    def handled(self) -> set[int]:
        return {d.mention_id for d in self.done if d.action != "recategorised"}

    def done_with(self, mention_id: int) -> str:
        """What this session already did to a mention (shown when `back` returns to it), or ""."""
        words = {
            "replied": _("replied in this session"),
            "answered": _("marked answered in this session"),
            "ignored": _("ignored in this session"),
            "snoozed": _("snoozed in this session"),
            "escalated": _("escalated in this session"),
        }
        return next((words[d.action] for d in reversed(self.done) if d.mention_id == mention_id and d.action in words), "")

    def header_line(self, now: datetime) -> str:
        """"7 of 23 left · oldest waits 3 h · 2 past deadline"."""
        left = [m for m in self.queue if m.id not in self.handled]
        parts = [ngettext("{left} of {total} left", "{left} of {total} left", len(left)).format(left=len(left), total=len(self.queue))]
        if left:
            oldest = max(m.age_minutes(now) for m in left)
            parts.append(_("oldest waits {time}").format(time=waited(oldest)))
            late = sum(1 for m in left if m.past_sla(now))
            if late:
                parts.append(ngettext("{count} past deadline", "{count} past deadline", late).format(count=late))
        return " · ".join(parts)

    def skip(self) -> None:
        self.position = min(self.position + 1, len(self.queue))

    def back(self) -> None:
        self.position = max(self.position - 1, 0)

    def _record(self, mention: StoredMention, action: str, detail: str = "") -> None:
        self.done.append(Done(mention.id, action, detail))
        self.skip()

    def mark_answered(self) -> None:
        mention = self._need()
        self.day.store.set_state(mention.id, "answered", clock.now())
        self._record(mention, "answered")

    def ignore(self, reason: str) -> None:
        mention = self._need()
        if not reason.strip():
            raise UsageError(_("say why it is ignored; nothing changed"))
        self.day.store.set_state(mention.id, "ignored", clock.now(), reason=reason.strip())
        self._record(mention, "ignored", reason.strip())

    def snooze(self, until: datetime) -> None:
        mention = self._need()
        if until <= clock.now():
            raise UsageError(_("the snooze must end in the future; nothing changed"))
        self.day.store.set_state(mention.id, "snoozed", clock.now(), snooze_until=until)
        self._record(mention, "snoozed", until.isoformat(timespec="minutes"))

    def escalate(self, to: str, outbox: Path) -> tuple[EscalationMessage, Delivery]:
        """As `cmday escalate N --to X`: the contact checked first, the message composed and delivered, then recorded."""
        from cmday.escalation import compose, deliver
        from cmday.labels import contact_label
        from cmday.typed import choose

        mention = self._need()
        rules = self.day.protocol.escalation
        routed = {name for names in rules.routes.values() for name in names}
        to = choose(to.strip(), {*rules.contacts, *routed}, _("{where}: no contact {value!r} in the protocol; contacts: {known}"), "escalate")
        crisis = self.day.crisis
        related = [self.day.store.mention(m.id) for m in crisis.mentions] if crisis and mention.category in ("crisis", "complaint") else []
        contact = rules.contacts.get(to)
        message = compose(self.day.project, mention, contact_label(to, contact.name if contact else ""), "", [m for m in related if m], self.day.zone)
        delivery = deliver(message, contact, to, outbox, clock.now())
        self.day.store.add_escalation(mention.id, to, delivery.channel, "", clock.now(), delivery.delivered, delivery.detail)
        self._record(mention, "escalated", to)
        return message, delivery

    def categories(self) -> list[str]:
        return [c.name for c in self.day.protocol.categories]

    def recategorise(self, typed: str) -> str:
        """The CM's category for this mention (its name, its label in the session's language, or its number in `categories`).

        Stored with the priority and deadline it brings, and kept by later triage; the others' triage is not touched.
        The mention stays on screen, with the templates of its new category.
        """
        from cmday.labels import category_label
        from cmday.triage import CATEGORISED_BY_HAND, Triage
        from cmday.typed import choose

        mention = self._need()
        names = self.categories()
        word = typed.strip()
        by_label = {category_label(name).lower(): name for name in names}
        if word.isdigit() and 1 <= int(word) <= len(names):
            category = names[int(word) - 1]
        else:
            category = by_label.get(word.lower()) or choose(word, names, _("{where}: no category {value!r} in the protocol; categories: {known}"), "category")
        triage = Triage.for_project(self.day.project, self.day.protocol)
        self.day.store.categorise_by_hand(triage.chosen_by_hand(mention, category), CATEGORISED_BY_HAND)
        self.queue[self.position] = self.day.store.mention(mention.id) or mention
        self.done.append(Done(mention.id, "recategorised", category))
        return category

    def open_post(self) -> str:
        """The mention's post in the user's browser (webbrowser: BROWSER or the desktop's, never a shell); only web links."""
        import webbrowser
        from urllib.parse import urlsplit

        mention = self._need()
        url = mention.url.strip()
        if not url:
            raise UsageError(_("#{id} has no link to open").format(id=mention.id))
        if urlsplit(url).scheme not in ("http", "https") or any(c.isspace() or ord(c) < 32 for c in url):
            raise UsageError(_("#{id}'s link is not a web address; not opened").format(id=mention.id))
        if not webbrowser.open(url):
            raise UsageError(_("no browser could be started; the link is {url}").format(url=url),
                             hint=_("set BROWSER to the command that opens your browser"))
        return url

    def plan(self) -> replies.ReplyPlan:
        mention = self._need()
        return replies.plan(mention, self.day.project, self.day.protocol, self.day.workspace, self.day.language)

    def reply(self, text: str, template: str = "") -> replies.Outcome:
        """The same path as `cmday reply --yes`: conduct checks (the length limit always), then the at-most-once gate."""
        mention = self._need()
        plan = self.plan()
        if not plan.can_send:
            raise UsageError(_("{platform} has no reply API in cmday: copy the text above and answer on the platform").format(platform=plan.platform))
        counted = replies.as_sent(self.day.workspace, self.day.project, self.day.store, mention, text)
        findings = replies.check(counted, plan, self.day.project, self.day.protocol, self.day.store, self.day.now)
        blocking = [f for f in findings if f.severity == "error"]
        if blocking:
            draft = replies.new_draft(self.day.store, mention, text, template)
            raise UsageError(
                ngettext("not sent: {count} conduct check failed (draft #{draft} kept)", "not sent: {count} conduct checks failed (draft #{draft} kept)",
                         len(blocking)).format(count=len(blocking), draft=draft.id),
                hint="; ".join(f"{f.rule}: {f.message}" for f in blocking),
            )
        marked = bool(self.day.user)  # the others see "Ana is replying" while this one goes out
        if marked:
            self.day.store.start_replying(mention.id, self.day.user, clock.now())
        try:
            outcome = replies.send(self.day.store, self.day.workspace, self.day.project, mention, text, template,
                                   since=self.day.now, again=mention.state == "answered", by=self.day.user)
        finally:
            if marked:
                self.day.store.stop_replying(mention.id, self.day.user)
        self._record(mention, "replied", outcome.sent.url or "")
        return outcome

    def someone_else_replying(self) -> str:
        """"Ana is replying (since 2 min)" when another team member is answering the mention on screen, else ""."""
        from cmday.team import replying_line

        mention, now = self._need(), clock.now()
        other = self.day.store.replying(mention.id, now)
        if other is None or not other.who or other.who == self.day.user:
            return ""
        return replying_line(self.day.workspace.config, other.who, other.since, now)

    def summary(self) -> list[str]:
        counts: dict[str, int] = {}
        for entry in self.done:
            counts[entry.action] = counts.get(entry.action, 0) + 1
        words = {
            "replied": lambda n: ngettext("{count} replied", "{count} replied", n),
            "answered": lambda n: ngettext("{count} marked answered", "{count} marked answered", n),
            "ignored": lambda n: ngettext("{count} ignored", "{count} ignored", n),
            "snoozed": lambda n: ngettext("{count} snoozed", "{count} snoozed", n),
            "escalated": lambda n: ngettext("{count} escalated", "{count} escalated", n),
            "recategorised": lambda n: ngettext("{count} re-categorised", "{count} re-categorised", n),
        }
        return [words[action](count).format(count=count) for action, count in counts.items()]

    def _need(self) -> StoredMention:
        mention = self.current
        if mention is None:
            raise UsageError(_("nothing left in this session"))
        return mention
