"""Indicators against a state computed by hand: periods, working minutes across a weekend and a DST change, percentiles."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cmday.calendar.plan import load_plan, post_key
from cmday.errors import UsageError
from cmday.indicators import (
    BusinessHours,
    WorkingClock,
    check_snapshot_key,
    choose_period,
    compute,
    parse_period,
    percentile,
    reactions,
    sparkline,
)
from cmday.mention import Mention
from cmday.models import Post
from cmday.store import Store
from cmday.workspace import load_workspace

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 10, 27, 12, 0, tzinfo=MADRID)  # Tuesday after the week under test
WEEK = "2026-W43"  # Mon 19 Oct – Sun 25 Oct 2026; clocks go back at 03:00 on Sunday 25 Oct

PROJECT = """
[project]
name = "Acme Coffee"
slug = "acme"
timezone = "Europe/Madrid"
{extra_project}
{routine}

[[objectives]]
kpi = "answered_share"
target = 0.95
period = "month"

[[objectives]]
kpi = "response_time_median_minutes"
target = 60
period = "month"

[[objectives]]
kpi = "mentions_in"
target = 20
period = "month"

[[objectives]]
kpi = "mentions_in"
target = 10
period = "week"

[[posts]]
at = 2026-10-20T10:00:00
platform = "mastodon"
text = "Autumn blend is here"
status = "published"

[[posts]]
at = 2026-10-22T10:00:00
platform = "bluesky"
text = "Latte art on Thursday"
status = "ready"

[[posts]]
at = 2026-10-23T10:00:00
platform = "bluesky"
text = "Maybe a poll"
status = "idea"
{extra}
"""

WORKING_HOURS = """
[routine]
workday_start = "09:00"
workday_end = "18:00"
"""


def local(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID)


def make_workspace(root: Path, *, working_hours: bool = True, extra: str = "", extra_project: str = "") -> Path:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "cmday.toml").write_text('owner = "Ana"\ntimezone = "Europe/Madrid"\n', encoding="utf-8")
    text = PROJECT.format(routine=WORKING_HOURS if working_hours else "", extra=extra, extra_project=extra_project)
    (root / "projects" / "acme.toml").write_text(text, encoding="utf-8")
    return root


def mention(pid: str, created: datetime, category: str = "question", author: str = "", sla: timedelta | None = timedelta(days=7),
            platform: str = "mastodon", text: str = "hello", url: str = "", raw: dict | None = None) -> Mention:
    return Mention(
        platform=platform, platform_id=pid, kind="mention", text=text, created_at=created,
        author_handle=author or f"@{pid}", category=category, url=url, raw=raw,
        sla_due=created + sla if sla is not None else None,
    )


def build_state(path: Path) -> Store:
    """The week by hand (times in Madrid; working hours 09:00-18:00, Monday to Friday):

    id   came in               answered              working min  all min   notes
    m1   Mon 19 10:00          10:30                 30           30        @ana
    m2   Fri 23 17:00 (CEST)   Mon 26 10:00 (CET)    60+60=120    3960      weekend and DST between
    m3   Sat 24 23:30 (CEST)   Sun 25 09:30 (CET)    0            660       11 h: the night has 25 hours
    m4   Tue 20 08:00          09:45                 45           105       before opening
    m5   Wed 21 12:00          12:05                 5            5         @ana
    m6   Thu 22 17:50          19:00                 10           70        past closing
    m7   Thu 22 11:00          open, due 12:00                              complaint past its SLA, @bob
    m8   Mon 19 15:00          ignored (spam)                               not needing an answer
    m9   Wed 21 20:00          21:00 (escalated 20:10) 0          60        crisis
    m10  Thu 22 09:10          09:40                 30           30        crisis, next day: same episode
    m11  Mon 19 11:00          12:00, due 11:30      60           60        answered late
    m12  Mon 19 10:00          linked (same URL as m1 from another source)  not counted
    m13  Sun 25 23:30 (CET)    ignored                                      still in W43 in Madrid
    m14  Mon 26 00:30 (CET)    open                                         W44 in Madrid, 25 Oct in UTC
    p1   Wed 14 10:00          10:20                 20           20        previous week

    working minutes sorted: 0 0 5 10 30 30 45 60 120 -> median 30, p90 (nearest rank 9 of 9) 120
    all minutes sorted: 5 30 30 60 60 70 105 660 3960 -> median 60, p90 3960
    """
    store = Store(path)
    fetched = local(27, 9)
    week = [
        mention("m1", local(19, 10), author="@ana", url="https://social.example/m1"),
        mention("m2", local(23, 17)),
        mention("m3", local(24, 23, 30)),
        mention("m4", local(20, 8)),
        mention("m5", local(21, 12), author="@ana"),
        mention("m6", local(22, 17, 50)),
        mention("m7", local(22, 11), category="complaint", author="@bob", sla=timedelta(hours=1)),
        mention("m8", local(19, 15), category="spam", sla=timedelta(minutes=10)),
        mention("m9", local(21, 20), category="crisis", text="food poisoning after lunch"),
        mention("m10", local(22, 9, 10), category="crisis", text="me too, intoxicación"),
        mention("m11", local(19, 11), sla=timedelta(minutes=30)),
        mention("m13", local(25, 23, 30), category="mention", sla=None),
        mention("m14", local(26, 0, 30), category="mention", sla=None),
        mention("p1", local(14, 10)),
    ]
    store.save_batch("acme", "masto", "mastodon", week, None, fetched)
    store.save_batch("acme", "search", "mastodon", [mention("m12", local(19, 10), url="https://social.example/m1")], None, fetched)
    ids = {m.platform_id: m.id for m in store.mentions("acme", states=None)}
    answers = {
        "m1": local(19, 10, 30), "m2": local(26, 10), "m3": local(25, 9, 30), "m4": local(20, 9, 45),
        "m5": local(21, 12, 5), "m6": local(22, 19), "m9": local(21, 21), "m10": local(22, 9, 40),
        "m11": local(19, 12), "p1": local(14, 10, 20),
    }
    store.add_escalation(ids["m9"], "client", "phone", "agree the statement", local(21, 20, 10), True, "")
    for pid, at in answers.items():
        store.set_state(ids[pid], "answered", at)
    store.set_state(ids["m8"], "ignored", local(19, 15, 5), reason="spam")
    store.set_state(ids["m13"], "ignored", local(26, 9), reason="not about us")
    # the key `cmday publish` stores for the first [[posts]] entry, as the calendar computes it
    key = post_key(Post(at=datetime(2026, 10, 20, 10, 0), platform="mastodon", text="Autumn blend is here", status="published"), "mastodon")
    store.claim_publication("acme", key, local(20, 10))
    store.finish_publication("acme", key, "published", local(20, 10), url="https://social.example/@acme/1")
    store.claim_publication("acme", "adhoc-statement-mastodon", local(21, 21, 30))
    store.finish_publication("acme", "adhoc-statement-mastodon", "published", local(21, 21, 30))
    store.set_kpi("acme", "followers.instagram", "2026-10-14", 12000, "manual", local(14, 9))
    store.set_kpi("acme", "followers.instagram", "2026-10-20", 12800, "api", local(20, 9))
    store.set_kpi("acme", "followers.instagram", "2026-10-20", 12840, "manual", local(20, 9))
    store.set_kpi("acme", f"post.{key}.favourites", "2026-10-21", 30, "api", local(21, 9))
    store.set_kpi("acme", f"post.{key}.boosts", "2026-10-21", 4, "api", local(21, 9))
    return store


@pytest.fixture
def fixture(tmp_path: Path):
    root = make_workspace(tmp_path / "ws")
    workspace = load_workspace(root)
    store = build_state(tmp_path / "state.sqlite3")
    yield workspace, workspace.projects["acme"], store
    store.close()


def figures_for(workspace, project, store, period: str = WEEK):
    return compute(load_plan(workspace, project), store, parse_period(period), NOW.astimezone(UTC))


def values(figures) -> dict:
    return {i.key: i.value for i in figures.indicators}


# -- periods ------------------------------------------------------------------------------------


def test_periods_parse_label_and_step():
    week = parse_period("2026-W47")
    assert (week.kind, week.start, week.last_day, week.label) == ("week", date(2026, 11, 16), date(2026, 11, 22), "2026-W47")
    assert parse_period("2026-W01").previous.label == "2025-W52"
    assert parse_period("2026-W53", "week").label == "2026-W53"  # 2026 has 53 ISO weeks
    month = parse_period("2026-11")
    assert (month.start, month.end, month.label) == (date(2026, 11, 1), date(2026, 12, 1), "2026-11")
    assert parse_period("2026-01").previous.label == "2025-12"
    assert month.shifted(-13).label == "2025-10"
    assert choose_period(None, None, date(2026, 11, 22)).label == "2026-W47"
    assert choose_period(None, "2026-02", date(2026, 11, 22)).last_day == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("2026-W54", "week"), ("2025-W53", "week"), ("2026-13", "month"), ("2026/11", None), ("november", "month"), ("2026-11", "week"), ("2026-W47", "month")],
)
def test_bad_periods_are_one_line_usage_errors(text, kind):
    with pytest.raises(UsageError) as raised:
        parse_period(text, kind)
    assert "\n" not in raised.value.message and text in raised.value.message


def test_both_week_and_month_is_a_usage_error():
    with pytest.raises(UsageError):
        choose_period("2026-W47", "2026-11", date(2026, 11, 22))


def test_a_week_starts_and_ends_at_local_midnight_across_the_dst_change():
    start, end = parse_period(WEEK).bounds(MADRID)
    assert start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)  # Monday 00:00 CEST
    assert end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # Monday 00:00 CET: the week had 169 hours
    assert (end - start) == timedelta(hours=169)


# -- working minutes ------------------------------------------------------------------------------


HOURS = BusinessHours(time(9), time(18), ("mon", "tue", "wed", "thu", "fri"))


def test_working_minutes_skip_the_weekend_and_the_dst_night():
    clock = WorkingClock(HOURS, MADRID, local(1, 0), local(31, 0))
    assert clock.minutes(local(23, 17), local(26, 10)) == 120  # Fri 17:00 -> Mon 10:00
    assert clock.minutes(local(24, 23, 30), local(25, 9, 30)) == 0  # all of it on the weekend
    assert clock.minutes(local(20, 8), local(20, 9, 45)) == 45  # before opening
    assert clock.minutes(local(22, 17, 50), local(22, 19)) == 10  # past closing
    assert clock.minutes(local(19, 10), local(26, 10)) == 5 * 9 * 60  # a whole working week
    raw = WorkingClock(None, MADRID, local(1, 0), local(31, 0))
    assert raw.minutes(local(23, 17), local(26, 10)) == 3960  # 66 hours: Sunday had 25
    assert raw.minutes(local(24, 23, 30), local(25, 9, 30)) == 660


def test_working_minutes_across_the_spring_change_and_a_night_shift():
    clock = WorkingClock(HOURS, MADRID, local(1, 0, month=3), local(31, 0, month=3))
    assert clock.minutes(local(27, 17, month=3), local(30, 10, month=3)) == 120  # 29 Mar 2026: clocks go forward
    night = WorkingClock(BusinessHours(time(22), time(6), ("mon",)), MADRID, local(1, 0), local(31, 0))
    assert night.minutes(local(19, 23), local(20, 5)) == 360


def test_percentile_is_the_nearest_rank():
    assert percentile([0, 0, 5, 10, 30, 30, 45, 60, 120], 0.9) == 120
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.9) is None


# -- the week computed from the state -----------------------------------------------------------------


def test_the_week_by_hand_in_working_hours(fixture):
    figures = figures_for(*fixture)
    assert figures.business_hours is not None
    assert values(figures) == {
        "mentions_in": 12,  # m1-m11 and m13; not m12 (linked), m14 (next week in Madrid) or p1
        "answered_share": 0.9,  # 9 of 10 needing an answer (m8 spam and m13 set aside)
        "response_time_median_minutes": 30,
        "response_time_p90_minutes": 120,
        "sla_breaches": 2,  # m7 still open past due, m11 answered late
        "crises": 1,  # m9 and m10 on consecutive days
        "escalations": 1,
        "posts_published": 2,  # the calendar post and an unplanned statement
        "posts_planned": 2,  # the idea does not count
        "followers.instagram": 12840,  # the hand-entered figure wins over the fetched one
    }


def test_the_week_by_hand_in_all_minutes(tmp_path: Path):
    root = make_workspace(tmp_path / "ws", working_hours=False)
    workspace = load_workspace(root)
    store = build_state(tmp_path / "state.sqlite3")
    try:
        figures = figures_for(workspace, workspace.projects["acme"], store)
    finally:
        store.close()
    assert figures.business_hours is None
    assert values(figures)["response_time_median_minutes"] == 60
    assert values(figures)["response_time_p90_minutes"] == 3960


def test_business_hours_can_be_switched_on_or_off_in_the_report_table(tmp_path: Path):
    root = make_workspace(tmp_path / "ws", working_hours=False, extra='\n[report]\nbusiness_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n')
    workspace = load_workspace(root)
    store = build_state(tmp_path / "state.sqlite3")
    try:
        figures = figures_for(workspace, workspace.projects["acme"], store)
    finally:
        store.close()
    assert figures.business_hours.days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    # every day 09:00-18:00: m3 (Sat 23:30 -> Sun 09:30) counts 30 minutes, m2 adds Saturday and Sunday
    assert values(figures)["response_time_p90_minutes"] == 120 + 2 * 9 * 60


def test_previous_week_objectives_and_trend(fixture):
    figures = figures_for(*fixture)
    came = figures.get("mentions_in")
    assert (came.previous, came.target, came.met, came.trend) == (1, 10, True, "up")  # the weekly objective, not the monthly
    assert came.series == [0, 0, 0, 0, 0, 0, 1, 12]
    assert [p.label for p in figures.periods][-2:] == ["2026-W42", "2026-W43"]
    share = figures.get("answered_share")
    assert (share.previous, share.target, share.met) == (1.0, 0.95, False)  # a monthly share holds for a week too
    median = figures.get("response_time_median_minutes")
    assert (median.previous, median.target, median.met, median.trend) == (20, 60, True, "up")
    followers = figures.get("followers.instagram")
    assert (followers.previous, followers.unit, followers.trend) == (12000, "count", "up")
    assert figures.get("posts_published").target is None


def test_the_json_shape(fixture):
    data = figures_for(*fixture).as_json()
    assert data["period"] == WEEK and data["project"] == "acme" and data["previous_period"] == "2026-W42"
    assert (data["start"], data["end"]) == ("2026-10-19", "2026-10-25")
    keys = [i["key"] for i in data["indicators"]]
    assert keys[:9] == ["mentions_in", "answered_share", "response_time_median_minutes", "response_time_p90_minutes",
                        "sla_breaches", "crises", "escalations", "posts_published", "posts_planned"]
    assert "followers.instagram" in keys and not any(k.startswith("post.") for k in keys)
    for indicator in data["indicators"]:
        assert set(indicator) >= {"key", "label", "value", "previous", "target", "unit", "trend", "series"}
        assert len(indicator["series"]) == 8
    assert data["breakdown"]["category"]["crisis"] == 2


def test_month_trend_has_six_months(fixture):
    figures = figures_for(*fixture, period="2026-10")
    assert [p.label for p in figures.periods] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert figures.get("mentions_in").value == 14  # the week, p1 the week before and m14 the Monday after
    assert figures.get("mentions_in").target == 20


def test_people_worth_engaging(fixture):
    people = figures_for(*fixture).details.people
    assert (people[0].author, people[0].questions_answered) == ("@ana", 2)  # two questions, both answered
    assert "@bob" not in [p.author for p in people]  # his complaint waits: not the moment to court him
    assert "@m8" not in [p.author for p in people]  # spam


def test_crisis_episode_and_its_timeline(fixture):
    (episode,) = figures_for(*fixture).details.crises
    assert episode.days == [date(2026, 10, 21), date(2026, 10, 22)]
    assert (len(episode.mentions), episode.answered, episode.escalated) == (2, 2, 1)
    assert [e.event for e in episode.timeline] == ["arrived", "escalated", "answered", "published", "arrived", "answered"]
    assert episode.first_response_minutes == 0  # answered at 21:00, out of working hours


def test_posts_with_reactions_come_first(fixture):
    posts = figures_for(*fixture).details.posts
    assert posts[0].text == "Autumn blend is here"
    assert posts[0].engagement == {"boosts": 4, "favourites": 30} and posts[0].total == 34
    assert posts[1].key == "adhoc-statement-mastodon" and posts[1].planned is False
    assert figures_for(*fixture).details.posts_missed == 1  # the bluesky post planned for Thursday


def test_reactions_are_read_from_mastodon_and_bluesky_payloads():
    assert reactions('{"favourites_count": 3, "reblogs_count": 2, "replies_count": 1}') == 6
    assert reactions('{"type": "mention", "status": {"favourites_count": 5}}') == 5
    assert reactions('{"post": {"likeCount": 7, "repostCount": 1}}') == 8
    assert reactions('{"demo": 1}') is None
    assert reactions("not json") is None
    assert reactions(None) is None


def test_followers_are_read_from_mastodon_and_bluesky_payloads():
    from cmday.indicators import _followers

    assert _followers('{"type": "mention", "account": {"followers_count": 1200}, "status": {}}') == 1200
    assert _followers('{"post": {"author": {"followersCount": 88}}}') == 88
    assert _followers('{"post": {"author": {"handle": "a.bsky.social"}}}') is None
    assert _followers("[1, 2]") is None and _followers(None) is None


def test_people_with_more_followers_come_first_among_equals(tmp_path: Path):
    root = make_workspace(tmp_path / "ws")
    workspace = load_workspace(root)
    store = Store(tmp_path / "state.sqlite3")
    store.save_batch("acme", "masto", "mastodon", [
        mention("a", local(20, 10), "praise", author="@small", raw={"account": {"followers_count": 10}}),
        mention("b", local(20, 11), "praise", author="@big", raw={"account": {"followers_count": 9000}}),
        mention("c", local(20, 12), "praise", author="anonymous"),
    ], None, local(21, 9))
    people = figures_for(workspace, workspace.projects["acme"], store).details.people
    assert [(p.author, p.followers) for p in people] == [("@big", 9000), ("@small", 10)]
    store.close()


def test_sparkline():
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([None, 0, 10]) == " ▁█"
    assert sparkline([3, 3]) == "▄▄"
    assert sparkline([None, None]) == "  "


@pytest.mark.parametrize("key", ["followers", "Followers.Instagram", "followers..x", "followers instagram", "1x.y"])
def test_snapshot_keys_need_family_dot_name(key):
    with pytest.raises(UsageError):
        check_snapshot_key(key)


def test_computed_keys_cannot_be_set_by_hand():
    with pytest.raises(UsageError) as raised:
        check_snapshot_key("mentions_in")
    assert "computed" in raised.value.message
    assert check_snapshot_key("followers.instagram") == "followers.instagram"
    assert check_snapshot_key("reach.mastodon.cafearoma@mastodon.social") == "reach.mastodon.cafearoma@mastodon.social"


def test_an_empty_state_gives_empty_figures(tmp_path: Path):
    workspace = load_workspace(make_workspace(tmp_path / "ws"))
    store = Store(tmp_path / "empty.sqlite3")
    try:
        figures = figures_for(workspace, workspace.projects["acme"], store)
    finally:
        store.close()
    assert figures.get("mentions_in").value == 0
    assert figures.get("answered_share").value is None
    assert figures.get("response_time_median_minutes").value is None
    assert figures.get("answered_share").met is None


def test_shares_are_drawn_from_zero_to_one_hundred_percent():
    assert sparkline([1.0, 0.9], "ratio") == "█▇"
    assert sparkline([0.0, 0.5, 1.0], "ratio") == "▁▅█"
