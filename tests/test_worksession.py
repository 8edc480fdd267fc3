"""`cmday work`'s session core: the queue's order, the count line, and what each action leaves in the state."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cmday.errors import UsageError
from cmday.mention import Mention
from cmday.session import Session
from cmday.store import Store
from cmday.worksession import WorkSession

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=ZoneInfo("Europe/Madrid"))


def add(cmday_home: Path, platform_id: str, minutes_ago: int, deadline_minutes: int | None, urgent: bool = False) -> None:
    store = Store(cmday_home / "state.sqlite3")
    at = NOW - timedelta(minutes=minutes_ago)
    store.save_batch("acme", "m", "mastodon", [Mention(
        "mastodon", platform_id, "mention", f"text {platform_id}", at, author_handle=f"@{platform_id}@m.example",
        category="question", urgent=urgent, sla_due=at + timedelta(minutes=deadline_minutes) if deadline_minutes else None,
    )], None, at)
    store.close()


@pytest.fixture
def session(workspace: Path, cmday_home: Path):
    add(cmday_home, "calm", minutes_ago=200, deadline_minutes=None)
    add(cmday_home, "late", minutes_ago=180, deadline_minutes=60)      # 2 h past its deadline
    add(cmday_home, "soon", minutes_ago=10, deadline_minutes=20)       # 10 min left
    add(cmday_home, "angry", minutes_ago=5, deadline_minutes=240, urgent=True)
    with time_machine.travel(NOW, tick=False):
        opened = Session(workspace, False, "en")
        project = opened.workspace.select("acme")[0]
        yield WorkSession(opened.day(project)), opened
        opened.close()


def handles(work: WorkSession) -> list[str]:
    return [m.platform_id for m in work.queue]


def test_urgent_first_then_least_time_left_then_no_deadline(session):
    work, _opened = session
    assert handles(work) == ["angry", "late", "soon", "calm"]


def test_a_crisis_comes_before_anything_else_urgent(workspace: Path, cmday_home: Path):
    add(cmday_home, "late-complaint", minutes_ago=300, deadline_minutes=60, urgent=True)
    store = Store(cmday_home / "state.sqlite3")
    at = NOW - timedelta(minutes=5)
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "poisoned", "mention", "we got sick", at, author_handle="@x@m.example",
                                                       category="crisis", urgent=True, sla_due=at + timedelta(minutes=30))], None, at)
    store.close()
    with time_machine.travel(NOW, tick=False):
        opened = Session(workspace, False, "en")
        work = WorkSession(opened.day(opened.workspace.select("acme")[0]))
        opened.close()
    assert handles(work) == ["poisoned", "late-complaint"]


def test_the_count_line_follows_what_was_done(session):
    work, _opened = session
    assert work.header_line(NOW) == "4 of 4 left · oldest waits 3 h · 1 past deadline"
    work.skip()
    work.ignore("spam from a bot")
    assert work.header_line(NOW) == "3 of 4 left · oldest waits 3 h"


def test_ignore_snooze_and_answer_land_in_the_state_and_the_summary(session, cmday_home: Path):
    work, _opened = session
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(UsageError):
            work.ignore("   ")  # a reason is asked for, never left empty
        work.ignore("spam")
        work.snooze(NOW + timedelta(hours=3))
        work.back()
        work.back()
        work.skip()
        work.skip()
        work.mark_answered()
    store = Store(cmday_home / "state.sqlite3")
    states = {m.platform_id: (m.state, m.state_reason) for m in store.mentions("acme", states=None)}
    store.close()
    assert states["angry"] == ("ignored", "spam")
    assert states["late"][0] == "snoozed"
    assert states["soon"][0] == "answered"
    assert states["calm"][0] == "open"
    assert work.summary() == ["1 ignored", "1 snoozed", "1 marked answered"]


def test_escalating_checks_the_contact_first_then_records_it(session, cmday_home: Path, tmp_path: Path):
    work, _opened = session
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(UsageError):
            work.escalate("nobody-we-know", tmp_path / "outbox")  # a typo escalates to no one and changes nothing
        assert work.current.state == "open"
        _message, delivery = work.escalate("team", tmp_path / "outbox")
    store = Store(cmday_home / "state.sqlite3")
    states = {m.platform_id: m.state for m in store.mentions("acme", states=None)}
    store.close()
    assert states["angry"] == "escalated" and delivery.channel in ("print", "email", "webhook")
    assert work.summary() == ["1 escalated"]


def test_recategorising_takes_a_name_a_number_or_a_typo_caught_and_counts_as_not_handled(session, cmday_home: Path):
    work, _opened = session
    names = work.categories()
    with time_machine.travel(NOW, tick=False):
        assert work.recategorise("praise") == "praise"
        assert work.current.platform_id == "angry" and work.current.category == "praise"  # still on screen, to answer now
        with pytest.raises(UsageError) as typo:
            work.recategorise("complaitn")
        assert "complaint" in (typo.value.hint or "")
        work.skip()
        assert work.recategorise(str(names.index("spam") + 1)) == "spam"
    assert work.header_line(NOW).startswith("4 of 4 left")
    assert work.summary() == ["2 re-categorised"]
    store = Store(cmday_home / "state.sqlite3")
    categories = {m.platform_id: (m.category, "categorised" in m.flags) for m in store.mentions("acme", states=None)}
    store.close()
    assert categories == {"angry": ("praise", True), "late": ("spam", True), "soon": ("question", False), "calm": ("question", False)}


def test_mine_walks_only_the_mentions_assigned_to_me(session):
    work, opened = session
    late = next(m for m in work.queue if m.platform_id == "late")
    opened.store.assign(late.id, "ana", NOW)
    mine = WorkSession(opened.day(opened.workspace.select("acme")[0]), assignee="ana")
    assert handles(mine) == ["late"]
    assert len(WorkSession(opened.day(opened.workspace.select("acme")[0]), assignee="luis").queue) == 0


def test_the_screen_says_who_else_is_replying_to_the_mention_on_it(session):
    work, opened = session
    assert work.someone_else_replying() == ""
    opened.store.start_replying(work.current.id, "ana", NOW)
    assert "ana" in work.someone_else_replying().lower() and "replying" in work.someone_else_replying()
