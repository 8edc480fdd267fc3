"""`cmday work`: the open mentions one screen at a time, one key per action (Rich for the screen, termios for the key)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.errors import CmdayError, ExitCode
from cmday.i18n import _


def register(app: typer.Typer) -> None:
    command(app, "work", help=_("Go through the open mentions one at a time, one key per action."))(work)


class _Keys:
    """The terminal in cbreak mode for the whole session (a key typed ahead is never echoed or lost), cooked for a line."""

    def __init__(self) -> None:
        import termios
        import tty

        self._termios, self._tty = termios, tty
        self.descriptor = sys.stdin.fileno()
        self.saved = termios.tcgetattr(self.descriptor)
        tty.setcbreak(self.descriptor)  # Ctrl-C still interrupts

    def key(self) -> str:
        return os.read(self.descriptor, 1).decode("utf-8", "replace")

    def cooked(self, ask):
        """Run `ask` (input(), the editor) with the terminal as the user left it, then back to one key."""
        self._termios.tcsetattr(self.descriptor, self._termios.TCSADRAIN, self.saved)
        try:
            return ask()
        finally:
            self._tty.setcbreak(self.descriptor)

    def restore(self) -> None:
        self._termios.tcsetattr(self.descriptor, self._termios.TCSADRAIN, self.saved)


def _ask(console, keys: _Keys, question: str) -> str:
    """A line typed after the question; Enter alone (or Ctrl-D) cancels: the caller changes nothing."""
    console.print(question, end=" ", markup=False)

    def line() -> str:
        try:
            return input().strip()
        except EOFError:
            return ""

    return keys.cooked(line)


def _edit(plan) -> str:
    """$EDITOR on the first template (or nothing), with what it answers as comment lines; empty sends nothing."""
    from cmday.cli.prompts import edit_reply
    from cmday.textsafe import one_line

    mention = plan.mention
    about = [
        _("Replying to #{id} on {platform}, from {author}:").format(
            id=mention.id, platform=mention.platform, author=one_line(mention.author_handle or mention.author_name, 80)),
        *[f"> {one_line(line, 200)}" for line in (mention.text or "").splitlines()[:12]],
        "",
        _("Limit: {limit} characters on {platform}.").format(limit=plan.limit, platform=plan.platform)
        if plan.limit else _("No length limit known for {platform}.").format(platform=plan.platform),
        _("Lines starting with '# ' are removed. Save and quit to go on; an empty reply or quitting with an error (:cq) sends nothing."),
    ]
    return edit_reply(plan.suggestions[0].text if plan.suggestions else "", about)


def _key_lines(width: int) -> list[str]:
    """The keys, as many to a line as fit the terminal's width (two lines at 80 columns), never cut."""
    keys = _("1-9 reply · e edit · a answered · i ignore · z snooze · x escalate · c category · o open · s skip · b back · q quit").split(" · ")
    lines = [keys[0]]
    for key in keys[1:]:
        if len(lines[-1]) + 3 + len(key) < width:
            lines[-1] += " · " + key
        else:
            lines.append(key)
    return lines


def _escalated(mention_id: int, to: str, delivery) -> str:
    """Said on the next screen; a webhook that fails raises before this, and printed text was shown already."""
    if delivery.channel == "webhook":
        return _("#{id} escalated to {to}: posted to the webhook").format(id=mention_id, to=to)
    if delivery.channel == "email":
        return _("#{id} escalated to {to}: email ready to send in {path}").format(id=mention_id, to=to, path=delivery.detail)
    return ""


def _screen(console, work, plan, notice: str = "") -> None:
    import textwrap

    from rich.text import Text

    from cmday.cli.render import earlier_line
    from cmday.labels import category_label
    from cmday.textsafe import clean, one_line
    from cmday.triage import CATEGORISED_BY_HAND
    from cmday.worksession import waited

    mention = work.current
    now = work.day.now
    console.clear()
    console.print(Text(work.header_line(now), style="bold"))
    if notice:
        console.print(Text(one_line(clean(notice), console.width - 1), style="green"), no_wrap=True)
    age = waited(mention.age_minutes(now))
    deadline = ""
    if mention.sla_due:
        late = mention.past_sla(now)
        deadline = _(" · past its deadline") if late else _(" · answer within {time}").format(
            time=waited(max(int((mention.sla_due - now).total_seconds() // 60), 0)))
    console.print(Text(f"#{mention.id} {clean(mention.author_handle or mention.author_name)} · {mention.platform} · {age}{deadline}"))
    why = _("set by hand") if CATEGORISED_BY_HAND in mention.flags else clean(mention.matched)
    console.print(Text(category_label(mention.category) + (f" ({why})" if why else ""), style="dim"))
    count, earlier = work.day.store.earlier_from_author(mention)
    console.print(earlier_line(count, earlier, work.day.zone, console.width), no_wrap=True)
    replying = work.someone_else_replying()
    if replying:
        console.print(Text(one_line(replying, console.width - 1), style="bold yellow"), no_wrap=True)
    done = work.done_with(mention.id)
    if done:
        console.print(Text(done, style="bold yellow"))
    width = console.width
    thread = work.day.store.thread_above(mention, depth=2)
    for above in thread:
        console.print(Text(one_line("  ↑ " + clean(above.author_handle) + ": " + clean(above.text), width - 1), style="dim"), no_wrap=True)
    suggestions = plan.suggestions[:9]
    keys = _key_lines(width)
    # the mention gets what is left of the screen, cut there: the templates and keys below always stay visible
    room = max(console.height - 8 - len(keys) - bool(notice) - bool(done) - len(thread) - len(suggestions), 2)
    wrapped = [piece for line in (clean(mention.text).splitlines() or [""]) for piece in (textwrap.wrap(line, width - 1) or [""])]
    body = wrapped[:room]
    if len(wrapped) > room:
        body[-1] = one_line(body[-1], width - 2) + " …"
    console.print(Text("\n".join(body)))
    for number, suggestion in enumerate(suggestions, start=1):
        console.print(Text.assemble((f"{number} ", "bold"), (suggestion.name + ": ", "dim"),
                                    one_line(clean(suggestion.text), max(width - len(suggestion.name) - 5, 10))), no_wrap=True)
    for line in keys:
        console.print(Text(line.ljust(width - 1), style="reverse"), no_wrap=True)


def work(
    options: Options,
    platform: Annotated[str | None, typer.Option("--platform", help=_("Only mentions from this platform."), show_default=False)] = None,
    mine: Annotated[bool, typer.Option("--mine", help=_("Only the mentions assigned to you."))] = False,
) -> None:
    from rich.console import Console

    from cmday import clock
    from cmday.cli import output
    from cmday.labels import category_label
    from cmday.session import Session
    from cmday.team import chosen_assignee
    from cmday.typed import read_moment
    from cmday.worksession import WorkSession

    if not (sys.stdin.isatty() and sys.stdout.isatty()) or os.environ.get("CI"):
        output.error(_("`cmday work` needs a terminal; use `cmday inbox` and `cmday reply N` instead"))
        raise typer.Exit(int(ExitCode.USAGE))
    console = Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False)
    session = Session(options.workspace, options.demo, options.lang)
    keys = _Keys()
    sessions: list[WorkSession] = []
    try:
        assignee = chosen_assignee(session.workspace.config, session.user, mine, False, None)
        for project in session.workspace.select(options.project):
            work_session = WorkSession(session.day(project), platform, assignee)
            sessions.append(work_session)
            notice = ""  # what the last key did, said on the next screen (the screen is redrawn at once)
            while work_session.current is not None:
                plan = work_session.plan()
                _screen(console, work_session, plan, notice)
                notice = ""
                key = keys.key().lower()
                try:
                    if key == "q":
                        return
                    if key.isdigit() and 1 <= int(key) <= len(plan.suggestions[:9]):
                        chosen = plan.suggestions[int(key) - 1]
                        outcome = work_session.reply(chosen.text, chosen.name)
                        notice = _("sent: {url}").format(url=outcome.sent.url or "")
                    elif key == "e":
                        text = keys.cooked(lambda plan=plan: _edit(plan))
                        if text:
                            outcome = work_session.reply(text)
                            notice = _("sent: {url}").format(url=outcome.sent.url or "")
                    elif key == "a":
                        work_session.mark_answered()
                    elif key == "i":
                        reason = _ask(console, keys, _("Why ignore it?"))
                        if reason:
                            work_session.ignore(reason)
                    elif key == "z":
                        typed = _ask(console, keys, _("Snooze until (e.g. 15:00, tomorrow 9:00, 2h)?"))
                        if not typed:
                            continue
                        moment = read_moment(typed, "snooze", clock.now(), work_session.day.zone, future=True)
                        work_session.snooze(moment.at)
                    elif key == "x":
                        to = _ask(console, keys, _("Escalate to whom ({names})?").format(
                            names=", ".join(sorted(work_session.day.protocol.escalation.contacts)) or "-"))
                        if not to:
                            continue
                        escalated = work_session.current
                        message, delivery = work_session.escalate(to, session.outbox)
                        notice = _escalated(escalated.id, to, delivery)
                        if delivery.channel == "print":
                            console.print(message.subject, markup=False)
                            console.print(message.body, markup=False)
                            console.print(_("press a key"), markup=False)
                            keys.key()
                    elif key == "c":
                        names = work_session.categories()
                        typed = _ask(console, keys, _("Category ({choices})?").format(
                            choices=", ".join(f"{n} {category_label(name)}" for n, name in enumerate(names, start=1))))
                        if typed:
                            work_session.recategorise(typed)
                    elif key == "o":
                        notice = _("opened in the browser: {url}").format(url=keys.cooked(work_session.open_post))
                    elif key == "s":
                        work_session.skip()
                    elif key == "b":
                        work_session.back()
                except CmdayError as error:
                    console.print(_("cmday: error: ") + error.message + (f" ({error.hint})" if error.hint else ""), markup=False)
                    console.print(_("press a key"), markup=False)
                    keys.key()
    finally:
        keys.restore()
        done = [line for s in sessions for line in s.summary()]
        if not any(s.queue for s in sessions):
            console.print(_("Nothing open to go through: the inbox is clear."), markup=False)
        console.print(_("Done in this session: {what}").format(what=", ".join(done) if done else _("nothing")), markup=False)
        session.close()
