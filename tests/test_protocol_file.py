"""`protocol add-template` edits the CM's own files: comments and layout kept, each file replaced whole or not at all."""

from __future__ import annotations

import json
import resource
import signal
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.support.workspaces import use_protocol

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PROTOCOL = """\
# Acme's protocol: Marta reviews every change here
[values]
shop_hours = "8:00-20:00"   # winter hours

[templates.hours]           # the one we use most
category = "question"
text = "Hi {author}, we open {shop_hours}."
"""


def answered_mention(cmday_home: Path, reply: str) -> int:
    """A question from @ana with a reply written through cmday."""
    store = Store(cmday_home / "state.sqlite3")
    try:
        store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "Do you have oat milk?", NOW,
                                                           author_handle="@ana@m.example", category="question")], None, NOW)
        mention = store.mentions("acme", states=None)[0]
        store.create_draft(mention.id, reply, "", "key-1", NOW)
        return mention.id
    finally:
        store.close()


def add_template(workspace: Path, mention_id: int, name: str = "oat-milk") -> dict:
    ran = run("protocol", "add-template", "--from", str(mention_id), "--name", name, "--workspace", str(workspace), "--json")
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)


def test_a_new_template_keeps_every_comment_and_value_of_the_protocol_file(workspace: Path, cmday_home: Path):
    protocol = use_protocol(workspace, PROTOCOL)
    protocol.chmod(0o640)
    mention = answered_mention(cmday_home, "Hi @ana@m.example! Oat milk in every Acme Coffee shop, Ana.")

    result = add_template(workspace, mention)

    written = protocol.read_text(encoding="utf-8")
    assert written.startswith(PROTOCOL)  # the CM's lines, comments and spacing as they were
    assert '[templates.oat-milk]\ncategory = "question"\ntext = "Hi {author}! Oat milk in every {brand} shop, {agent}."' in written
    assert result["text"] == "Hi {author}! Oat milk in every {brand} shop, {agent}."
    assert stat.S_IMODE(protocol.stat().st_mode) == 0o640  # its permissions kept
    assert sorted(p.name for p in protocol.parent.iterdir()) == ["acme.toml"]  # no temporary file left beside it
    dry = run("reply", str(mention), "--template", "oat-milk", "--dry-run", "--json", "--workspace", str(workspace))
    assert json.loads(dry.stdout)["text"] == "Hi @ana@m.example! Oat milk in every Acme Coffee shop, Ana."  # the template works


def test_a_project_without_a_protocol_gets_one_and_points_at_it_keeping_its_comments(workspace: Path, cmday_home: Path):
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text("# Acme: signed in November\n" + project_file.read_text(encoding="utf-8"), encoding="utf-8")
    mention = answered_mention(cmday_home, "Yes, oat milk everywhere.")

    result = add_template(workspace, mention)

    assert result["file"] == str(workspace / "protocols" / "acme.toml")
    assert (workspace / "protocols" / "acme.toml").read_text(encoding="utf-8").startswith("# Acme Coffee's response protocol")
    project_text = project_file.read_text(encoding="utf-8")
    assert project_text.startswith("# Acme: signed in November\n")
    assert 'protocol = "protocols/acme.toml"' in project_text
    # the next template goes in the same file, which the project now names
    again = add_template(workspace, mention, "oat-milk-short")
    assert again["file"] == result["file"]
    assert project_text == project_file.read_text(encoding="utf-8")


def test_a_name_in_use_or_not_a_slug_changes_nothing(workspace: Path, cmday_home: Path):
    protocol = use_protocol(workspace, PROTOCOL)
    mention = answered_mention(cmday_home, "Yes, oat milk everywhere.")
    for name, said in (("hours", "already has a template 'hours'"), ("Oat Milk", "use lowercase letters")):
        ran = run("protocol", "add-template", "--from", str(mention), "--name", name, "--workspace", str(workspace))
        assert ran.exit_code == 2 and said in ran.stderr
    assert protocol.read_text(encoding="utf-8") == PROTOCOL


def _files_of_at_most(size: int):
    def limit() -> None:  # in the child: a write past `size` bytes fails (EFBIG) as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_a_write_that_fails_midway_leaves_the_protocol_file_as_it_was(workspace: Path, cmday_home: Path):
    # a long protocol (a year of templates): rewriting it fails halfway through, as a full disk would make it
    long_protocol = PROTOCOL + "".join(f'\n[templates.t{i}]\ncategory = "question"\ntext = "{"x" * 200}"\n' for i in range(2000))
    protocol = use_protocol(workspace, long_protocol)
    mention = answered_mention(cmday_home, "Yes, oat milk everywhere.")
    cmday = str(Path(sys.executable).parent / "cmday")

    ran = subprocess.run(
        [cmday, "protocol", "add-template", "--from", str(mention), "--name", "oat-milk", "--workspace", str(workspace)],
        capture_output=True, text=True, timeout=60, preexec_fn=_files_of_at_most(len(long_protocol.encode()) // 2),
    )

    assert ran.returncode == 3, ran.stderr
    assert "cannot write protocols/acme.toml" in ran.stderr and "left as it was" in ran.stderr
    assert protocol.read_text(encoding="utf-8") == long_protocol
    assert sorted(p.name for p in protocol.parent.iterdir()) == ["acme.toml"]
