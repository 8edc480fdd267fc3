"""`check --quiet --notify`: what needs a person reaches the team's webhook once, however often cron runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from cmday.errors import ExitCode
from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.support.platform_server import Reply
from tests.support.workspaces import use_protocol

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=ZoneInfo("Europe/Madrid"))
HOOK = "/hooks/T0ACME/B0TEAM/wh00secret00part"


def add(cmday_home: Path, platform_id: str, text: str, category: str, urgent: bool, minutes_ago: int = 30) -> None:
    store = Store(cmday_home / "state.sqlite3")
    at = NOW - timedelta(minutes=minutes_ago)
    store.save_batch("acme", "m", "mastodon", [Mention(
        "mastodon", platform_id, "mention", text, at, author_handle="@ana@m.example",
        category=category, urgent=urgent, sla_due=at + timedelta(minutes=60),
    )], None, at)
    store.close()


def check(workspace: Path, platform_server, *extra: str):
    with time_machine.travel(NOW, tick=False):
        return run("check", "--quiet", "--notify", "--offline", "--workspace", str(workspace), *extra,
                   env={"ACME_SLACK": platform_server.url + HOOK})


def texts(platform_server) -> list[str]:
    return [json.loads(request.body)["text"] for request in platform_server.requests_to(HOOK)]


def test_a_crisis_reaches_the_webhook_once_across_two_cron_runs(workspace: Path, cmday_home: Path, platform_server):
    platform_server.route("POST", HOOK, Reply(200, "ok"))
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n')
    add(cmday_home, "c1", "food poisoning after your cake <!channel>", "crisis", True)
    add(cmday_home, "c2", "food poisoning here too", "crisis", True)

    first = check(workspace, platform_server)
    second = check(workspace, platform_server)

    assert first.exit_code == second.exit_code == ExitCode.ATTENTION, first.stderr
    sent = texts(platform_server)
    crisis = [text for text in sent if "food poisoning" in text]
    assert len(crisis) == 1, "\n=====\n".join(sent)
    assert "<!channel>" not in crisis[0]  # a mention's text never pings the whole channel
    assert "wh00secret00part" not in first.stdout + first.stderr


def test_a_mention_past_its_deadline_is_sent_once_and_a_new_one_later(workspace: Path, cmday_home: Path, platform_server):
    platform_server.route("POST", HOOK, Reply(200, "ok"))
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n')
    add(cmday_home, "q1", "where is my order?", "question", False, minutes_ago=90)
    check(workspace, platform_server)
    add(cmday_home, "q2", "still no answer about the delivery", "question", False, minutes_ago=120)
    check(workspace, platform_server)

    sent = texts(platform_server)
    assert sum("where is my order" in text for text in sent) == 1
    assert sum("still no answer" in text for text in sent) == 1


def test_a_webhook_that_fails_is_tried_again_on_the_next_run(workspace: Path, cmday_home: Path, platform_server):
    platform_server.route("POST", HOOK, Reply(500, "down"))
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n')
    add(cmday_home, "c1", "food poisoning after your cake", "crisis", True)
    add(cmday_home, "c2", "food poisoning here too", "crisis", True)

    failing = check(workspace, platform_server)
    assert "not notified" in failing.stderr and "500" in failing.stderr
    platform_server.route("POST", HOOK, Reply(200, "ok"))
    check(workspace, platform_server)
    check(workspace, platform_server)

    assert sum("food poisoning" in text for text in texts(platform_server)) == 2  # the failed try, then one delivery


def test_without_a_route_it_says_so_and_sends_nothing(workspace: Path, cmday_home: Path, platform_server):
    add(cmday_home, "c1", "food poisoning after your cake", "crisis", True)
    add(cmday_home, "c2", "food poisoning here too", "crisis", True)

    ran = check(workspace, platform_server, "--lang", "es")

    assert ran.exit_code == ExitCode.ATTENTION
    assert "sin avisar (crisis:" in ran.stderr and "no tiene webhook ni correo" in ran.stderr
    assert platform_server.requests_to(HOOK) == []


def test_a_source_to_log_in_again_goes_to_the_notify_route_once(workspace: Path, cmday_home: Path, platform_server):
    platform_server.route("POST", HOOK, Reply(200, "ok"))
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n\n'
                            '[escalation.contacts.client]\nname = "Client"\n\n[escalation.routes]\nnotify = ["team"]\n')
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + '\n[[sources]]\nid = "m"\nplatform = "mastodon"\n'
                       'instance = "https://m.example"\ntoken_env = "ACME_TOKEN"\n', encoding="utf-8")
    store = Store(cmday_home / "state.sqlite3")
    store.record_fetch("acme", "m", "mastodon", NOW - timedelta(minutes=5), "the instance answered 401", needs_auth=True)
    store.close()

    check(workspace, platform_server)
    check(workspace, platform_server)

    sent = texts(platform_server)
    assert len(sent) == 1 and "needs logging in again" in sent[0]


def test_a_crisis_stays_the_same_crisis_when_its_first_mention_is_answered_or_others_join(workspace: Path, cmday_home: Path, platform_server):
    platform_server.route("POST", HOOK, Reply(200, "ok"))
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n')
    add(cmday_home, "c1", "food poisoning after your cake", "crisis", True, minutes_ago=20)
    add(cmday_home, "c2", "sick after lunch here too", "crisis", True, minutes_ago=10)
    check(workspace, platform_server)
    store = Store(cmday_home / "state.sqlite3")
    ids = {m.platform_id: m.id for m in store.mentions("acme", states=None)}
    store.set_state(ids["c1"], "answered", NOW)  # the first one answered: the crisis goes on with the second
    store.close()
    check(workspace, platform_server)
    add(cmday_home, "c3", "my whole family got sick", "crisis", True, minutes_ago=5)  # joins the crisis already told
    check(workspace, platform_server)
    assert sum("cmday found a crisis" in text for text in texts(platform_server)) == 1

    store = Store(cmday_home / "state.sqlite3")
    for mention in store.mentions("acme"):
        store.set_state(mention.id, "answered", NOW)  # the crisis is over
    store.close()
    add(cmday_home, "c9", "food poisoning again, a week later", "crisis", True, minutes_ago=1)
    check(workspace, platform_server)
    assert sum("cmday found a crisis" in text for text in texts(platform_server)) == 2  # a new crisis is news


def test_a_meta_token_about_to_end_is_told_once_days_before(workspace: Path, cmday_home: Path, platform_server):
    platform_server.route("POST", HOOK, Reply(200, "ok"))
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n\n[escalation.routes]\nnotify = ["team"]\n')
    project = workspace / "projects" / "acme.toml"
    ends = (NOW + timedelta(days=3)).date().isoformat()
    project.write_text(project.read_text(encoding="utf-8") + '\n[[sources]]\nid = "ig"\nplatform = "instagram"\n'
                       f'ig_user_id = "17841400008460056"\ntoken_env = "ACME_META"\ntoken_expires = {ends}\n', encoding="utf-8")

    first = check(workspace, platform_server)
    check(workspace, platform_server)

    assert first.exit_code == ExitCode.ATTENTION and "ig: its access token stops working in 2 days" in first.stdout
    sent = texts(platform_server)
    assert len(sent) == 1 and "its access token ends soon" in sent[0] and ends in sent[0]
