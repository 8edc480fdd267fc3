"""The demo behaves as a real brand's day would, whatever the hour it is started at."""

from __future__ import annotations

import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.cli_runner import run

MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
            "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


@pytest.mark.parametrize("hour", [0, 1, 7, 9, 12, 16, 18, 21, 23])
def test_demo_posts_sit_at_working_hours_on_the_days_they_name(hour: int):
    started = datetime(2026, 12, 2, hour, 45, tzinfo=MADRID)  # a Wednesday
    with time_machine.travel(started, tick=False):
        ran = run("calendar", "--demo", "--json")
    assert ran.exit_code == 0, ran.stderr
    posts = [post for day in json.loads(ran.stdout)["projects"][0]["agenda"] for post in day["posts"]]
    assert len(posts) >= 5
    for post in posts:
        at = datetime.fromisoformat(post["at"]).astimezone(MADRID)
        assert time(9, 0) <= at.time() <= time(18, 0), post
        named = [day for day in WEEKDAYS if f"{day} " in post["text"].lower() and "next" not in post["text"].lower()]
        assert not named or WEEKDAYS.index(named[0]) % 7 == at.weekday(), post
    upcoming = [p for p in posts if p["status"] == "ready" and datetime.fromisoformat(p["at"]) > started]
    assert len(upcoming) >= 2, "the demo always has ready posts ahead of now"


def test_demo_posts_with_images_have_their_image():
    ran = run("calendar", "check", "--demo")
    assert "no media file" not in ran.stdout + ran.stderr


def test_demo_publishing_rehearses_and_says_nothing_left():
    agenda = json.loads(run("calendar", "--demo", "--json", "--offline").stdout)["projects"][0]["agenda"]
    ready = {post["platform"]: post["key"] for day in agenda for post in day["posts"] if post["status"] == "ready"}
    for platform in ("mastodon", "bluesky"):
        shown = run("publish", ready[platform], "--dry-run", "--demo", "--offline")
        assert shown.exit_code == 0, shown.stderr
        published = run("publish", ready[platform], "--yes", "--demo")
        assert published.exit_code == 0, published.stderr
        assert f"demo: nothing was sent to {platform}" in published.stderr
        assert "https://" not in published.stdout + published.stderr
        again = run("publish", ready[platform], "--yes", "--demo")
        assert again.exit_code != 0 and "never publishes a post twice" in again.stderr
    # Instagram has no publishing API in cmday: the demo says so, as a real workspace would
    refused = run("publish", ready["instagram"], "--dry-run", "--demo", "--offline")
    assert refused.exit_code == 2 and "no enabled instagram source" in refused.stderr
