"""A team sharing one state on PostgreSQL: where it is, who has what, notes, who is replying, one answer only, copying a state in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from cmday.errors import ExitCode
from cmday.mention import Mention
from cmday.sources.mastodon.fetch import mentions_from_notifications
from cmday.store import Store
from tests.cli_runner import run
from tests.support.fake_platforms import MastodonInstance
from tests.support.postgres import PASSWORD

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CMDAY = str(Path(sys.executable).parent / "cmday")
NOTIFICATIONS_PAGE = "mastodon/responses/mpy_hist_0959c06c_entity_notification_mastodon_social__00__GET_api_v1_notifications__200.json"
TEAM = '\n[[team]]\nname = "Ana"\nhandle = "ana"\n\n[[team]]\nname = "Ben Ruiz"\nhandle = "ben"\n'


@pytest.fixture
def team_workspace(workspace: Path, state_url: str, monkeypatch) -> Path:
    """The workspace of the conftest, its state shared: `state = ...` in cmday.toml, the team listed."""
    config = workspace / "cmday.toml"
    config.write_text(config.read_text(encoding="utf-8") + f'state = "{state_url}"\n' + TEAM, encoding="utf-8")
    return workspace


def _stored(target, *mentions: Mention) -> list[int]:
    store = Store(target)
    try:
        store.save_batch("acme", "m", "mastodon", list(mentions), None, NOW)
        return [m.id for m in store.mentions("acme", states=None)]
    finally:
        store.close()


def _mention(number: int, **more) -> Mention:
    return Mention("mastodon", str(number), "mention", f"question {number}", NOW - timedelta(minutes=number), **more)


def test_where_names_the_shared_database_without_its_password(team_workspace: Path, state_url: str, monkeypatch):
    shown = json.loads(run("where", "--workspace", str(team_workspace), "--json").stdout)
    assert shown["backend"] == "postgresql" and shown["state"] == state_url

    with_password = state_url.replace("cmday@", "cmday:pg-secret-9876@")
    monkeypatch.setenv("CMDAY_STATE_URL", with_password)  # the environment may carry it; nothing shows it
    screen = run("where", "--workspace", str(team_workspace))
    assert "back end   postgresql" in screen.stdout and "pg-secret-9876" not in screen.stdout
    assert "motor" in run("where", "--workspace", str(team_workspace), "--lang", "es").stdout


def test_a_password_in_the_toml_is_refused_and_never_repeated(workspace: Path):
    config = workspace / "cmday.toml"
    config.write_text(config.read_text(encoding="utf-8") + 'state = "postgresql://ana:hunter2-secret@db.example/cmday"\n', encoding="utf-8")
    ran = run("inbox", "--workspace", str(workspace))
    assert ran.exit_code == ExitCode.CONFIG
    assert "password must not be in the file" in ran.stderr and "hunter2-secret" not in ran.stderr + ran.stdout


def test_assigning_filters_the_inbox_and_shows_on_screens(team_workspace: Path, state_url: str, monkeypatch):
    first, second, third = _stored(state_url, _mention(1), _mention(2), _mention(3, urgent=True))
    monkeypatch.setenv("CMDAY_USER", "ben")
    ws = ["--workspace", str(team_workspace)]

    assert run("assign", str(first), "ana", *ws).stderr.strip() == f"#{first}: assigned to Ana"
    assert run("assign", str(third), "--me", *ws).exit_code == 0
    refused = run("assign", str(second), "carla", *ws)
    assert refused.exit_code == ExitCode.USAGE and "ana, ben" in refused.stderr

    def listed(*flags: str) -> list[int]:
        return [m["id"] for m in json.loads(run("inbox", *flags, *ws, "--json").stdout)["mentions"]]

    assert listed("--mine") == [third]
    assert listed("--assignee", "Ana") == [first]
    assert listed("--unassigned") == [second]
    assert sorted(listed()) == sorted([first, second, third])
    assert "→ana" in run("inbox", *ws).stdout

    morning = run("morning", *ws, "--offline").stdout
    assert morning.index("Yours") < morning.index("Urgent first")
    assert "Tuyas" in run("morning", *ws, "--offline", "--lang", "es").stdout

    run("unassign", str(first), *ws)
    assert listed("--assignee", "ana") == []
    assert "assigned to: Ben Ruiz" in run("show", str(third), *ws, "--offline").stdout


def test_notes_are_shown_to_the_team_and_never_reach_the_client_report(team_workspace: Path, state_url: str, monkeypatch):
    [mention_id] = _stored(state_url, _mention(1))
    monkeypatch.setenv("CMDAY_USER", "ana")
    ws = ["--workspace", str(team_workspace)]
    assert run("note", str(mention_id), "called the customer, refund approved", *ws).exit_code == 0

    shown = run("show", str(mention_id), *ws, "--offline").stdout
    assert "Internal notes (never sent):" in shown and "Ana: called the customer, refund approved" in shown
    assert json.loads(run("show", str(mention_id), *ws, "--offline", "--json").stdout)["notes"][0]["author"] == "ana"
    report = run("report", "--month", "2026-11", *ws, "--json")
    assert report.exit_code == 0, report.stderr
    assert "refund approved" not in report.stdout


def test_another_member_replying_is_said_in_show_and_reply(team_workspace: Path, state_url: str, monkeypatch):
    [mention_id] = _stored(state_url, _mention(1))
    store = Store(state_url)
    store.start_replying(mention_id, "ana", NOW)
    store.close()
    monkeypatch.setenv("CMDAY_USER", "ben")
    ws = ["--workspace", str(team_workspace)]
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        assert "Ana is replying (since 2 min)" in run("show", str(mention_id), *ws, "--offline").stdout
        dry = run("reply", str(mention_id), "--text", "On it!", "--dry-run", *ws, "--offline")
        assert "Ana is replying (since 2 min)" in dry.stderr
        assert "Ana está respondiendo (desde hace 2 min)" in run("show", str(mention_id), *ws, "--offline", "--lang", "es").stdout
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):  # a mark left by a cmday that died expires
        assert "is replying" not in run("show", str(mention_id), *ws, "--offline").stdout


def test_two_members_replying_at_once_on_two_machines_send_one_answer(team_workspace: Path, state_url: str, tmp_path: Path,
                                                                     platform_server, recorded_fixtures: Path):
    fake = MastodonInstance(platform_server, honours_keys=False)
    project = team_workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8")
                       + f'\n[[sources]]\nid = "masto"\nplatform = "mastodon"\ninstance = "{platform_server.url}"\ntoken_env = "ACME_MASTODON_TOKEN"\n',
                       encoding="utf-8")
    page = json.loads((recorded_fixtures / NOTIFICATIONS_PAGE).read_text(encoding="utf-8"))
    notification = next(n for n in page if n["type"] == "mention" and (n["status"] or {}).get("visibility") == "public")
    [mention], _skipped = mentions_from_notifications([notification], "mastodon.social")
    fake.watch(mention.platform_id)
    store = Store(state_url)
    store.save_batch("acme", "masto", "mastodon", [mention], None, datetime.now(UTC))
    [mention_id] = [m.id for m in store.mentions("acme")]
    store.close()
    fake.queue.append("delay:1.5")  # the first POST takes a while: the second member's cmday arrives meanwhile

    def member(handle: str) -> subprocess.Popen:
        home = tmp_path / f"laptop-{handle}"  # another machine: no file lock in common, only the database
        env = {**os.environ, "CMDAY_HOME": str(home), "CMDAY_USER": handle, "CMDAY_STATE_PASSWORD": PASSWORD,
               "ACME_MASTODON_TOKEN": "token-1"}
        return subprocess.Popen([CMDAY, "reply", str(mention_id), "--text", f"Thanks, {handle} here!", "--yes",
                                 "--workspace", str(team_workspace)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    processes = [member("ana"), member("ben")]
    outcomes = [(p.wait(60), p.stderr.read()) for p in processes]

    assert len(fake.posts) == 1, outcomes
    assert sorted(code for code, _err in outcomes)[0] == 0 and any(code != 0 for code, _err in outcomes), outcomes
    store = Store(state_url)
    [sent] = [d for d in store.drafts_for(mention_id) if d.status == "sent"]
    assert sent.sent_by in ("ana", "ben") and fake.posts[0]["content"].count(sent.sent_by) == 1
    assert store.mention(mention_id).state == "answered"
    assert [r.sent_by for r in store.reply_log("acme", NOW - timedelta(days=30), datetime.now(UTC) + timedelta(minutes=1))] == [sent.sent_by]


def test_copying_a_local_state_in_twice_loses_and_doubles_nothing(workspace: Path, cmday_home: Path, state_url: str, monkeypatch):
    local = cmday_home / "state.sqlite3"
    _stored(local, _mention(1, url="https://m.example/1"), _mention(2), _mention(3))
    store = Store(local)
    number = {m.platform_id: m.id for m in store.mentions("acme", states=None)}
    store.save_batch("acme", "search", "mastodon", [_mention(1, url="https://m.example/1")], "c-search", NOW)  # stored linked
    claim = store.claim_reply(number["1"], "Thanks!", "thanks", "key-1", NOW, since=NOW, by="ana")
    store.finish_draft(claim.draft.id, "sent", NOW, remote_id="9", remote_url="https://m.example/9")
    store.add_escalation(number["2"], "manager", "email", "refund", NOW, True, "")
    store.add_note(number["3"], "ana", "waiting for the shop", NOW)
    store.set_checklist_mark("acme", "2026-11-23", "morning", "inbox", "done", "", NOW)
    store.set_kpi("acme", "followers.mastodon", "2026-11-23", 120, "manual", NOW)
    store.claim_post("acme", "launch", NOW)
    store.record_run("acme", "morning", NOW)
    store.close()
    shared = Store(state_url)
    shared.save_batch("acme", "m", "mastodon", [_mention(2)], "c-other-machine", NOW)  # fetched meanwhile by the cron machine
    shared.close()

    first = run("state", "copy", "--to", state_url, "--workspace", str(workspace), "--json")
    assert first.exit_code == 0, first.stderr
    again = json.loads(run("state", "copy", "--to", state_url, "--workspace", str(workspace), "--json").stdout)

    assert sum(again["copied"].values()) == 0 and again["already_there"]["mentions"] == 4
    before = json.loads(first.stdout)
    assert again["already_there"] == {t: before["copied"].get(t, 0) + before["already_there"].get(t, 0) for t in again["already_there"]}
    target = Store(state_url)
    assert sorted(m.platform_id for m in target.mentions("acme", states=None)) == ["1", "1", "2", "3"]
    assert len(target.mentions("acme", states=("linked",))) == 1
    copied = {m.platform_id: m.id for m in target.mentions("acme", states=None) if m.state != "linked"}
    # numbers kept where free: #1 was taken by the cron machine's copy of "2", so "1" got a new one
    assert copied["3"] == number["3"] and copied["2"] == 1 and copied["1"] not in (1, copied["3"])
    assert target.mention(copied["1"]).state == "answered" and target.drafts_for(copied["1"])[0].sent_by == "ana"
    assert target.notes(copied["3"])[0].text == "waiting for the shop"
    [escalation] = target.escalations("acme", NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert escalation.mention_id == copied["2"]
    assert target.checklist_marks("acme", "2026-11-23", "morning")["inbox"].status == "done"
    assert target.kpi_values("acme")[0].value == 120 and target.publication("acme", "launch").status == "sending"
    assert target.cursor("acme", "search") == "c-search" and target.cursor("acme", "m") == "c-other-machine"
    assert target.save_batch("acme", "m", "mastodon", [_mention(4)], None, NOW) == 1  # new numbers come after the copied ones
    target.close()
    said = run("state", "copy", "--to", state_url, "--workspace", str(workspace), "--lang", "es")
    assert "ya estaban" in said.stderr


def test_the_team_copy_of_the_report_lists_who_answered_and_the_client_copy_does_not(team_workspace: Path, state_url: str):
    ids = _stored(state_url, _mention(1), _mention(2), _mention(3))
    store = Store(state_url)
    for number, (mention_id, who, template) in enumerate(zip(ids, ["ana", "ana", "ben"], ["thanks", "", "thanks"], strict=True), start=1):
        claim = store.claim_reply(mention_id, "Thanks!", template, f"key-{number}", NOW, since=NOW, by=who)
        store.finish_draft(claim.draft.id, "sent", NOW + timedelta(minutes=10 * number))
    store.close()
    ws = ["--workspace", str(team_workspace), "--month", "2026-11"]

    team = json.loads(run("report", *ws, "--internal", "--json").stdout)["report"]["by_member"]
    assert [(line["member"], line["replies"], line["templates"]) for line in team] == [("Ana", 2, {"thanks": 1, "": 1}), ("Ben Ruiz", 1, {"thanks": 1})]
    markdown = run("report", *ws, "--internal", "--format", "md").stdout
    assert "| Ana | 2 |" in markdown and "by hand 1" in markdown
    client = run("report", *ws, "--format", "md").stdout
    assert "Ben Ruiz" not in client and "Who answered" not in client
    assert json.loads(run("report", *ws, "--json").stdout)["report"]["by_member"] == []
