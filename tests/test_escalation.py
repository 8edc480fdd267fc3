"""Escalation emails: one file per escalation, headers no mention can break, the demo's kept in its own folder."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmday.errors import ExitCode
from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.support.workspaces import use_protocol

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CONTACT = '[escalation.contacts.client]\nname = "Marta Ruiz"\nemail = "marta@acme.example"\n'


def with_mentions(cmday_home: Path, *mentions: Mention) -> list[int]:
    store = Store(cmday_home / "state.sqlite3")
    try:
        store.save_batch("acme", "m", "mastodon", list(mentions), None, NOW)
        return [m.id for m in store.mentions("acme")]
    finally:
        store.close()


def read_eml(path: str) -> email.message.EmailMessage:
    return email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)


def recorded(cmday_home: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(cmday_home / "state.sqlite3") as db:
        return list(db.execute("SELECT delivered, detail FROM escalations ORDER BY id"))


def test_escalations_in_the_same_second_each_get_their_own_file(workspace: Path, cmday_home: Path):
    use_protocol(workspace, CONTACT)
    ids = with_mentions(cmday_home, *(Mention("mastodon", str(i), "mention", f"complaint {i}", NOW) for i in range(27)))

    with time_machine.travel(NOW, tick=False):
        runs = [run("escalate", str(i), "--to", "client", "--workspace", str(workspace)) for i in ids]

    assert all(r.exit_code == 0 for r in runs), runs[0].stderr
    files = sorted((cmday_home / "outbox").glob("*.eml"))
    assert len(files) == 27
    rows = recorded(cmday_home)
    assert [delivered for delivered, _detail in rows] == [1] * 27
    assert sorted(detail for _d, detail in rows) == sorted(str(f) for f in files)
    bodies = {read_eml(str(f)).get_content().split("\n")[1] for f in files}
    assert len(bodies) == 27  # each file holds its own escalation, none overwritten
    assert stat.S_IMODE((cmday_home / "outbox").stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


def test_an_author_handle_with_a_line_break_cannot_add_headers(workspace: Path, cmday_home: Path):
    use_protocol(workspace, CONTACT)
    hostile = Mention(
        "mastodon", "1", "mention", "refund now\r\nBcc: everyone@example.com", NOW,
        author_handle="evil\nBcc: attacker@example.com\r\nX-Priority: 1",
    )
    [mention_id] = with_mentions(cmday_home, hostile)

    ran = run("escalate", str(mention_id), "--to", "client", "--workspace", str(workspace), "--json")

    assert ran.exit_code == 0, ran.stderr
    result = json.loads(ran.stdout)
    message = read_eml(result["detail"])
    assert message["Bcc"] is None and message["X-Priority"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["marta@acme.example"]
    assert "evil Bcc: attacker@example.com X-Priority: 1" in message["Subject"]
    assert "\n" not in message["Subject"]
    assert recorded(cmday_home) == [(1, result["detail"])]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(handle=st.text(min_size=1, max_size=40), name=st.text(max_size=30))
def test_any_handle_and_contact_name_make_a_well_formed_email(tmp_path_factory, handle: str, name: str):
    from zoneinfo import ZoneInfo

    from cmday.escalation import EscalationMessage, compose, write_eml
    from cmday.mention import StoredMention  # noqa: F401 - compose takes what the store hands back
    from cmday.models import Contact, Project

    home = tmp_path_factory.mktemp("outbox")
    store = Store(home / "state.sqlite3")
    try:
        store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "hi", NOW, author_handle=handle)], None, NOW)
        mention = store.mentions("acme")[0]
    finally:
        store.close()
    project = Project.model_validate({"project": {"name": "Acme", "slug": "acme"}})
    composed = compose(project, mention, "client", "", [], ZoneInfo("Europe/Madrid"))
    path = write_eml(EscalationMessage(composed.subject, composed.body), Contact(name=name, email="marta@acme.example"), home / "outbox", NOW)

    message = read_eml(str(path))
    assert set(message.keys()) == {"To", "Subject", "Date", "Message-ID", "X-Unsent", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"}
    assert [a.addr_spec for a in message["To"].addresses] == ["marta@acme.example"]


def test_a_contact_address_that_is_no_address_is_a_clear_error_and_nothing_is_recorded(workspace: Path, cmday_home: Path):
    use_protocol(workspace, '[escalation.contacts.client]\nemail = "marta@acme.example\\nBcc: x@y.z"\n')
    [mention_id] = with_mentions(cmday_home, Mention("mastodon", "1", "mention", "hi", NOW))

    ran = run("escalate", str(mention_id), "--to", "client", "--workspace", str(workspace))

    assert ran.exit_code == ExitCode.CONFIG, ran.stderr
    assert "is not one cmday can write in an email" in ran.stderr and "unexpected" not in ran.stderr
    assert recorded(cmday_home) == []


def test_an_outbox_cmday_cannot_write_to_records_nothing_as_delivered(workspace: Path, cmday_home: Path):
    use_protocol(workspace, CONTACT)
    [mention_id] = with_mentions(cmday_home, Mention("mastodon", "1", "mention", "hi", NOW))
    (cmday_home / "outbox").write_text("a file where the folder should be", encoding="utf-8")

    ran = run("escalate", str(mention_id), "--to", "client", "--workspace", str(workspace))

    assert ran.exit_code == ExitCode.STATE
    assert "cannot write the escalation email" in ran.stderr and "nothing was recorded" in ran.stderr
    assert recorded(cmday_home) == []
    state = json.loads(run("inbox", "--workspace", str(workspace), "--json", "--offline").stdout)["mentions"]
    assert [m["state"] for m in state] == ["open"]


def test_demo_escalations_write_only_inside_the_demo_folder(cmday_home: Path):
    run("morning", "--demo")
    crisis = next(m for m in json.loads(run("inbox", "--demo", "--json").stdout)["mentions"] if m["category"] == "crisis")

    ran = run("escalate", str(crisis["id"]), "--to", "client", "--demo", "--json")

    written = Path(json.loads(ran.stdout)["detail"])
    assert written.is_file() and written.parent == cmday_home / "demo" / "outbox"
    assert not (cmday_home / "outbox").exists()


# -- the webhook, as a Slack or Mattermost channel receives it ---------------------------------------------

HOOK_PATH = "/hooks/T0ACME/B0TEAM/wh00secret00part"  # the path of an incoming-webhook URL is its credential
TEAM = '[escalation.contacts.team]\nname = "Account team"\nwebhook_env = "ACME_SLACK"\n'


def a_complaint(cmday_home: Path) -> int:
    [mention_id] = with_mentions(cmday_home, Mention(
        "mastodon", "1", "mention", "My oat latte came cold, twice.", NOW, author_handle="@ana@m.example",
        url="https://m.example/@ana/1", category="complaint"))
    return mention_id


def mention_state(workspace: Path) -> str:
    return json.loads(run("inbox", "--state", "all", "--workspace", str(workspace), "--json").stdout)["mentions"][0]["state"]


def test_the_team_channel_gets_the_subject_the_mention_in_local_time_and_the_note(workspace: Path, cmday_home: Path, platform_server, monkeypatch):
    from tests.support.platform_server import Reply

    platform_server.route("POST", HOOK_PATH, Reply(200, "ok"))
    monkeypatch.setenv("ACME_SLACK", platform_server.url + HOOK_PATH)
    use_protocol(workspace, TEAM)
    mention_id = a_complaint(cmday_home)

    ran = run("escalate", str(mention_id), "--to", "team", "--note", "Offer a voucher?", "--workspace", str(workspace), "--json")

    assert ran.exit_code == 0, ran.stderr
    [request] = platform_server.requests_to(HOOK_PATH)
    assert request.json() == {"text": (
        "*[Acme Coffee] complaint escalated to Account team: @ana@m.example on mastodon*\n"
        "What came in:\n"
        "- 2026-11-23 11:00  mastodon  @ana@m.example: My oat latte came cold, twice.\n"  # 10:00 UTC is 11:00 in Madrid
        "  https://m.example/@ana/1\n"
        "\n"
        "Note from the community manager:\nOffer a voucher?\n"
        "\n"
        "Sent with cmday. Reply to agree the answer before anything is published."
    )}
    result = json.loads(ran.stdout)
    assert (result["to"], result["channel"], result["delivered"]) == ("team", "webhook", True)
    assert HOOK_PATH not in ran.stdout and "wh00secret00part" not in ran.stdout
    assert mention_state(workspace) == "escalated"
    assert recorded(cmday_home) == [(1, "200")]


def test_a_webhook_that_answers_an_error_is_said_without_its_address_and_nothing_is_recorded(workspace: Path, cmday_home: Path, platform_server, monkeypatch):
    from tests.support.platform_server import Reply

    platform_server.route("POST", HOOK_PATH, Reply(500, "internal error"))
    monkeypatch.setenv("ACME_SLACK", platform_server.url + HOOK_PATH)
    use_protocol(workspace, TEAM)
    mention_id = a_complaint(cmday_home)

    ran = run("escalate", str(mention_id), "--to", "team", "--workspace", str(workspace))

    assert ran.exit_code == ExitCode.SOURCES
    assert "the escalation webhook answered 500" in ran.stderr
    assert "wh00secret00part" not in ran.stderr + ran.stdout and "B0TEAM" not in ran.stderr + ran.stdout
    assert recorded(cmday_home) == [] and mention_state(workspace) == "open"  # escalate again once the channel works


def test_a_webhook_that_cannot_be_reached_is_said_without_its_address(workspace: Path, cmday_home: Path, monkeypatch):
    from tests.support.mailserver import free_port

    monkeypatch.setenv("ACME_SLACK", f"http://127.0.0.1:{free_port()}{HOOK_PATH}")  # nothing listens there
    use_protocol(workspace, TEAM)
    mention_id = a_complaint(cmday_home)

    ran = run("escalate", str(mention_id), "--to", "team", "--workspace", str(workspace))

    assert ran.exit_code == ExitCode.SOURCES
    assert "the escalation webhook did not answer" in ran.stderr
    assert "wh00secret00part" not in ran.stderr and "127.0.0.1" not in ran.stderr
    assert recorded(cmday_home) == [] and mention_state(workspace) == "open"


def test_a_contact_without_webhook_or_email_gets_the_text_to_copy(workspace: Path, cmday_home: Path):
    use_protocol(workspace, '[escalation.contacts.client]\nname = "Marta Ruiz"\n')
    mention_id = a_complaint(cmday_home)

    ran = run("escalate", str(mention_id), "--to", "client", "--note", "Call her", "--workspace", str(workspace))

    assert ran.exit_code == 0, ran.stderr
    assert "no contact channel in the protocol, so here it is to copy" in ran.stderr
    assert ran.stdout.startswith("[Acme Coffee] complaint escalated to Marta Ruiz: @ana@m.example on mastodon\n\nWhat came in:\n")
    assert "Call her" in ran.stdout
    assert mention_state(workspace) == "escalated"
    assert recorded(cmday_home) == [(0, "")]  # escalated, but no one was told by cmday


def test_a_mistyped_contact_is_refused_before_anything_is_recorded(workspace: Path, cmday_home: Path):
    use_protocol(workspace, CONTACT)
    mention_id = a_complaint(cmday_home)

    ran = run("escalate", str(mention_id), "--to", "clinet", "--workspace", str(workspace))

    assert ran.exit_code == ExitCode.USAGE
    assert "no contact 'clinet' in the protocol" in ran.stderr and "did you mean 'client'?" in ran.stderr
    assert recorded(cmday_home) == [] and mention_state(workspace) == "open"
    assert not (cmday_home / "outbox").exists()
