"""Replying from the terminal: templates, checks, drafts, confirmation, and never sending twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cmday.errors import ExitCode
from cmday.store import Store
from tests.cli_runner import run
from tests.support.workspaces import use_protocol


def demo_mention(category: str) -> dict:
    run("morning", "--demo")
    return next(m for m in json.loads(run("inbox", "--demo", "--json").stdout)["mentions"] if m["category"] == category)


def test_dry_run_shows_the_filled_template_and_sends_nothing():
    question = demo_mention("question")
    ran = run("reply", str(question["id"]), "--demo", "--dry-run", "--json")
    assert ran.exit_code == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["sent"] is False and result["draft"] is None
    assert "@oatlover@mastodon.social" in result["text"] and "{" not in result["text"]
    assert "cafearoma.example/faq" in result["text"] or "Café Aroma" in result["text"]
    still_open = [m["id"] for m in json.loads(run("inbox", "--demo", "--json").stdout)["mentions"]]
    assert question["id"] in still_open


def test_yes_sends_marks_answered_and_records_the_response_time():
    question = demo_mention("question")
    ran = run("reply", str(question["id"]), "--demo", "--yes", "--text", "Yes, oat milk in every shop. Thanks for asking!")
    assert ran.exit_code == 0, ran.stderr
    assert "demo: nothing was sent to mastodon" in ran.stderr and "sent: http" not in ran.stderr
    answered = json.loads(run("inbox", "--demo", "--json", "--state", "answered").stdout)["mentions"]
    assert question["id"] in [m["id"] for m in answered]


def test_the_demo_replies_as_the_real_platform_would():
    run("morning", "--demo")
    mentions = json.loads(run("inbox", "--demo", "--json", "--state", "all").stdout)["mentions"]
    imported = next(m for m in mentions if m["platform"] == "instagram" and m["state"] == "open")
    bluesky = next(m for m in mentions if m["platform"] == "bluesky" and m["state"] == "open")

    copied = run("reply", str(imported["id"]), "--demo", "--yes", "--text", "Lo sentimos mucho, te escribimos por privado.")
    assert copied.exit_code == 0, copied.stderr
    assert "copy the text above" in copied.stderr and "sent" not in copied.stderr
    posted = run("reply", str(bluesky["id"]), "--demo", "--yes", "--force", "--json", "--text", "Thanks!")
    assert posted.exit_code == 0, posted.stderr
    result = json.loads(posted.stdout)
    assert result["demo"] is True and result["sent"] is False and result["url"] is None
    assert "demo: nothing was sent to bluesky" in posted.stderr
    assert result["text"] == "Thanks!"  # Bluesky posts it as written
    mastodon = next(m for m in mentions if m["platform"] == "mastodon" and m["state"] == "open")
    shown = json.loads(run("reply", str(mastodon["id"]), "--demo", "--dry-run", "--json", "--text", "Thanks!").stdout)
    assert shown["text"] == f"{mastodon['author']['handle']} Thanks!"  # Mastodon would put the @acct in front


def test_without_a_terminal_and_without_yes_nothing_is_sent():
    question = demo_mention("question")
    ran = run("reply", str(question["id"]), "--demo", "--text", "Yes, oat milk everywhere. Thanks!")
    assert ran.exit_code == 0
    assert "not sent (send it with --yes)" in ran.stderr
    assert question["id"] in [m["id"] for m in json.loads(run("inbox", "--demo", "--json").stdout)["mentions"]]


def test_replying_again_needs_again():
    question = demo_mention("question")
    run("reply", str(question["id"]), "--demo", "--yes", "--text", "Yes! Thanks for asking.")
    ran = run("reply", str(question["id"]), "--demo", "--yes", "--text", "And one more thing, thanks")
    assert ran.exit_code == ExitCode.USAGE and "--again" in ran.stderr
    assert run("reply", str(question["id"]), "--demo", "--yes", "--again", "--text", "One more thing, thanks!").exit_code == 0


def test_a_failing_conduct_check_blocks_and_keeps_the_draft():
    complaint = demo_mention("complaint")
    ran = run("reply", str(complaint["id"]), "--demo", "--yes", "--text", "Whatever.")
    assert ran.exit_code == ExitCode.USAGE
    assert "admit" in ran.stdout and "draft #" in ran.stderr
    forced = run("reply", str(complaint["id"]), "--demo", "--yes", "--force", "--text", "Whatever.")
    assert forced.exit_code == 0


def test_missing_placeholder_values_are_named(workspace: Path, cmday_home: Path):
    from cmday.mention import Mention

    use_protocol(workspace, '[templates.promo]\ncategory = "question"\ntext = "Hi {author}, use code {discount_code}!"\n')
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(
        project_file.read_text(encoding="utf-8") + '\n[[sources]]\nid = "alerts"\nplatform = "rss"\nurl = "https://e.example/f"\n',
        encoding="utf-8",
    )
    store = Store(cmday_home / "state.sqlite3")
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store.save_batch("acme", "alerts", "rss", [Mention("rss", "1", "alert", "how much is it?", at, category="question")], None, at)
    mention_id = store.mentions("acme")[0].id
    store.close()
    ran = run("reply", str(mention_id), "--template", "promo", "--workspace", str(workspace), "--dry-run")
    assert ran.exit_code == ExitCode.USAGE
    assert "template 'promo' needs values for: discount_code" in ran.stderr


def test_sources_without_a_reply_api_give_text_to_copy_and_a_manual_mark(workspace: Path, cmday_home: Path):
    from cmday.mention import Mention

    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(project_file.read_text(encoding="utf-8") + '\n[[sources]]\nid = "alerts"\nplatform = "rss"\nurl = "https://e.example/f"\n',
                            encoding="utf-8")
    store = Store(cmday_home / "state.sqlite3")
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store.save_batch("acme", "alerts", "rss", [Mention("rss", "1", "alert", "Acme opens a new shop", at)], None, at)
    mention_id = store.mentions("acme")[0].id
    store.close()
    ran = run("reply", str(mention_id), "--workspace", str(workspace), "--yes", "--text", "Thanks for the coverage!")
    assert ran.exit_code == 0
    assert "copy the text above" in ran.stderr and "Thanks for the coverage!" in ran.stdout
    store = Store(cmday_home / "state.sqlite3")
    assert store.mention(mention_id).state == "answered"


def test_the_store_gate_keeps_one_pending_reply_per_mention(state):
    from cmday.mention import Mention

    store = Store(state)
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "hi", at)], None, at)
    mention_id = store.mentions("acme")[0].id
    first = store.claim_reply(mention_id, "hello", "", "key-1", at, since=at)
    assert first.outcome == "new" and first.draft.status == "sending"
    again = store.claim_reply(mention_id, "hello again", "", "key-2", at, since=at)  # a second cmday, or a run after a kill
    assert again.outcome == "pending" and again.draft.id == first.draft.id and again.draft.idempotency_key == "key-1"
    store.finish_draft(first.draft.id, "failed", at, error="timeout")
    assert store.claim_reply(mention_id, "x", "", "key-3", at, since=at).draft.id == first.draft.id  # failed: still pending
    second_pending = "INSERT INTO drafts (mention_id, text, idempotency_key, status, created_at) VALUES (?, 'y', 'key-4', 'failed', '2026-11-23T09:00:00Z')"
    if isinstance(state, Path):
        import sqlite3

        with pytest.raises(sqlite3.IntegrityError), sqlite3.connect(state) as db:  # the state file itself refuses a second pending draft
            db.execute(second_pending, (mention_id,))
    else:
        import psycopg

        from tests.support.postgres import PASSWORD

        with pytest.raises(psycopg.errors.UniqueViolation), psycopg.connect(state, password=PASSWORD) as db:  # and so does the database
            db.execute(second_pending.replace("?", "%s"), (mention_id,))
    store.finish_draft(first.draft.id, "sent", at, remote_id="9", remote_url="https://m.example/9")
    assert store.mention(mention_id).state == "answered"
    assert store.claim_reply(mention_id, "more", "", "key-5", at, since=at).outcome == "answered"
    later = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
    began = datetime(2026, 11, 23, 8, 59, tzinfo=UTC)
    assert store.claim_reply(mention_id, "more", "", "key-5", later, since=began, again=True).outcome == "answered"  # sent since we began
    assert store.claim_reply(mention_id, "more", "", "key-5", later, since=later, again=True).outcome == "new"


def test_add_template_from_a_sent_reply_keeps_the_protocol_files_comments():
    question = demo_mention("question")
    # --text fills placeholders as a template does: a literal brace is written twice
    sent = run("reply", str(question["id"]), "--demo", "--yes", "--text", "Hi @oatlover@mastodon.social! Oat milk in every Café Aroma shop {{always}}. Thanks!")
    assert sent.exit_code == 0, sent.stderr
    ran = run("protocol", "add-template", "--from", str(question["id"]), "--name", "oat-milk", "--demo", "--json")
    assert ran.exit_code == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["text"] == "Hi {author}! Oat milk in every {brand} shop {{always}}. Thanks!"
    written = Path(result["file"]).read_text(encoding="utf-8")
    assert written.startswith("# Café Aroma's own response protocol")
    assert "[templates.oat-milk]" in written
    dry = json.loads(run("reply", str(question["id"]), "--demo", "--again", "--template", "oat-milk", "--dry-run", "--json").stdout)
    assert dry["text"] == "Hi @oatlover@mastodon.social! Oat milk in every Café Aroma shop {always}. Thanks!"


def test_the_instances_own_length_limit_is_checked_before_sending(workspace: Path, cmday_home: Path, platform_server, monkeypatch):
    from cmday.mention import Mention
    from tests.support.platform_server import Reply

    # GET /api/v2/instance: an Instance whose configuration allows 40 characters per status
    platform_server.route("GET", "/api/v2/instance", Reply(200, {"domain": "m.example", "configuration": {"statuses": {"max_characters": 40}}}))
    monkeypatch.setenv("ACME_TOKEN", "tok")
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(
        project_file.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "m"\nplatform = "mastodon"\ninstance = "{platform_server.url}"\ntoken_env = "ACME_TOKEN"\n',
        encoding="utf-8",
    )
    store = Store(cmday_home / "state.sqlite3")
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "where are you?", at, category="question")], None, at)
    mention_id = store.mentions("acme")[0].id
    store.close()
    text = "We are in Malasaña, next to the market. Thanks!"  # 48 characters: fine for 500, not for 40
    ran = run("reply", str(mention_id), "--workspace", str(workspace), "--text", text, "--dry-run", "--json")
    assert ran.exit_code == ExitCode.USAGE
    findings = json.loads(ran.stdout)["findings"]
    assert findings[0]["rule"] == "length" and "of 40" in findings[0]["message"]
    assert not platform_server.requests_to("/api/v1/statuses")


def test_a_state_from_before_the_gate_keeps_one_pending_reply_per_mention(tmp_path: Path):
    """A state written by an older cmday may hold several failed drafts of one mention: the oldest stays pending."""
    import sqlite3

    from cmday.store import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, sql in MIGRATIONS[:2]:
        db.executescript(sql)
        db.execute("INSERT INTO migrations VALUES (?, 'then')", (name,))
    db.execute("INSERT INTO mentions (project, source_id, platform, platform_id, kind, text, created_at, fetched_at)"
               " VALUES ('acme', 'm', 'mastodon', '1', 'mention', 'hi', '2026-11-23T09:00:00Z', '2026-11-23T09:00:00Z')")
    for number, status in enumerate(["failed", "sending", "failed", "sent"], start=1):
        db.execute("INSERT INTO drafts (mention_id, text, idempotency_key, status, created_at, sent_at) VALUES (1, ?, ?, ?, ?, ?)",
                   (f"reply {number}", f"key-{number}", status, f"2026-11-23T09:0{number}:00Z", f"2026-11-23T09:0{number}:30Z"))
    db.commit()
    db.close()

    store = Store(path)

    assert [d.status for d in store.drafts_for(1)] == ["failed", "superseded", "superseded", "sent"]
    pending = store.pending_draft(1)
    assert pending.idempotency_key == "key-1" and pending.started_at == datetime(2026, 11, 23, 9, 1, 30, tzinfo=UTC)
    store.close()
