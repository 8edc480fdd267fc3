"""Files cmday reads from a workspace: regular files only, within a size cap, or one error naming the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmday import files
from cmday.errors import ConfigError, SourceError
from tests.cli_runner import run

ENOUGH = 60  # seconds: a FIFO read without O_NONBLOCK would hang until this kills it


def cmday(*args: str, cmday_home: Path) -> subprocess.CompletedProcess:
    """A real process with a time limit: a reader that hangs on a FIFO fails the test instead of hanging it."""
    executable = str(Path(sys.executable).parent / "cmday")
    env = {**os.environ, "CMDAY_HOME": str(cmday_home), "COLUMNS": "80"}
    return subprocess.run([executable, *args], env=env, capture_output=True, text=True, timeout=ENOUGH)


def add_to_project(workspace: Path, text: str) -> None:
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_project_file_linked_to_dev_zero_is_refused_not_read(workspace: Path, cmday_home: Path):
    (workspace / "projects" / "zero.toml").symlink_to("/dev/zero")

    ran = cmday("morning", "--workspace", str(workspace), "--offline", cmday_home=cmday_home)

    assert "projects/zero.toml is a device, not a regular file; cmday reads only regular files" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_project_file_that_is_a_fifo_is_refused_not_waited_on(workspace: Path, cmday_home: Path):
    os.mkfifo(workspace / "projects" / "pipe.toml")

    ran = cmday("morning", "--workspace", str(workspace), "--offline", "--lang", "es", cmday_home=cmday_home)

    assert "projects/pipe.toml" in ran.stderr and "FIFO" in ran.stderr and "archivo normal" in ran.stderr


def test_a_checklist_and_a_protocol_that_are_fifos_are_refused(workspace: Path, cmday_home: Path):
    (workspace / "checklists").mkdir()
    os.mkfifo(workspace / "checklists" / "morning.toml")
    ran = cmday("checklist", "morning", "--workspace", str(workspace), cmday_home=cmday_home)
    assert ran.returncode == 3 and "checklists/morning.toml is a named pipe (FIFO)" in ran.stderr

    os.unlink(workspace / "checklists" / "morning.toml")
    (workspace / "protocols").mkdir()
    os.mkfifo(workspace / "protocols" / "acme.toml")
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace('slug = "acme"', 'slug = "acme"\nprotocol = "protocols/acme.toml"'), encoding="utf-8")
    ran = cmday("lint", "hello there", "--workspace", str(workspace), cmday_home=cmday_home)
    assert ran.returncode == 3 and "protocols/acme.toml is a named pipe (FIFO)" in ran.stderr


def test_a_project_file_past_its_cap_names_its_size_and_the_cap(workspace: Path):
    padding = "# " + "x" * 1000 + "\n"
    (workspace / "projects" / "huge.toml").write_text('[project]\nname = "Huge"\n' + padding * 1100, encoding="utf-8")

    ran = run("morning", "--workspace", str(workspace), "--offline")
    in_spanish = run("morning", "--workspace", str(workspace), "--offline", "--lang", "es")

    assert ran.exit_code == 3
    assert "projects/huge.toml is 1.1 MB; workspace, project, checklist and protocol files may be at most 1 MB" in ran.stderr
    assert "projects/huge.toml pesa 1,1 MB" in in_spanish.stderr


def test_a_calendar_sheet_past_its_cap_is_refused_without_reading_it(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    text = project.read_text(encoding="utf-8")
    project.write_text(text.replace('platforms = ["mastodon"]', 'platforms = ["mastodon"]\nfile = "plan.csv"'), encoding="utf-8")
    sheet = workspace / "plan.csv"
    with open(sheet, "wb") as handle:
        handle.truncate(17 * 1024 * 1024)  # sparse: its size says 17 MB, no byte of it is read

    ran = run("calendar", "--workspace", str(workspace))

    assert ran.exit_code == 3, ran.stderr
    assert "plan.csv is 17 MB; calendar sheets and calendars to import may be at most 16 MB" in ran.stderr


def test_an_import_file_linked_to_dev_zero_or_past_its_cap_fails_only_its_source(workspace: Path, cmday_home: Path):
    add_to_project(
        workspace,
        '\n[[sources]]\nid = "ig"\nplatform = "file"\npath = "exports/comments.csv"\n'
        '\n[[sources]]\nid = "big"\nplatform = "file"\npath = "exports/big.jsonl"\n'
        '\n[[sources]]\nid = "ok"\nplatform = "file"\npath = "exports/fine.csv"\n',
    )
    (workspace / "exports").mkdir()
    (workspace / "exports" / "comments.csv").symlink_to("/dev/zero")
    with open(workspace / "exports" / "big.jsonl", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)
    (workspace / "exports" / "fine.csv").write_text("id,author,text,date\n1,ana,hola,2026-11-20T10:00:00Z\n", encoding="utf-8")

    ran = cmday("fetch", "--workspace", str(workspace), cmday_home=cmday_home)

    assert "exports/comments.csv is not a file" in ran.stderr or "comments.csv is a device" in ran.stderr
    assert "big.jsonl is 65 MB; import files may be at most 64 MB" in ran.stderr
    assert "acme/ok: 1 new" in ran.stderr and "error: acme/ok" not in ran.stderr  # the readable export still came in


def test_the_reader_returns_a_regular_file_whole_and_refuses_a_folder(tmp_path: Path):
    data = bytes(range(256)) * 5000
    (tmp_path / "a.csv").write_bytes(data)
    assert files.read_bytes(tmp_path / "a.csv", files.CALENDAR_SHEET) == data
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(ConfigError, match="is a folder, not a regular file"):
        files.read_text(tmp_path / "folder.toml", files.SETTINGS)
    with pytest.raises(SourceError, match="is 2 MB; import files"):
        small = files.FileKind(files.IMPORT.words, 1024 * 1024)
        (tmp_path / "b.jsonl").write_bytes(b"x" * 2 * 1024 * 1024)
        files.read_bytes(tmp_path / "b.jsonl", small, error=SourceError)
    with pytest.raises(FileNotFoundError):
        files.read_bytes(tmp_path / "missing.toml", files.SETTINGS)
