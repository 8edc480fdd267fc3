"""Private data at rest: the state folder and its files, the demo's and the secrets folder, readable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cmday import i18n
from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The usual desktop umask, under which a file is created 0644 unless cmday asks otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_state_folder_is_0700_and_the_database_its_wal_and_shm_0600(cmday_home: Path):
    store = Store(cmday_home / "state.sqlite3")
    try:
        store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "dm", "my address is ...", NOW)], None, NOW)
        files = [cmday_home / name for name in ("state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm")]
        assert all(f.exists() for f in files)  # while it is open, WAL mode keeps all three
        assert mode(cmday_home) == 0o700
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        store.close()
    left = sorted(cmday_home.iterdir())  # what stays beside it once closed (the integrity stamp too)
    assert left and {f.name: mode(f) for f in left if f.is_file()} == {f.name: 0o600 for f in left if f.is_file()}


def test_a_state_left_readable_by_others_is_tightened_on_open_and_the_user_told(workspace: Path, cmday_home: Path):
    Store(cmday_home / "state.sqlite3").close()
    os.chmod(cmday_home, 0o755)
    os.chmod(cmday_home / "state.sqlite3", 0o644)

    ran = run("morning", "--workspace", str(workspace), "--offline")

    assert ran.exit_code == 0, ran.stderr
    assert mode(cmday_home) == 0o700 and mode(cmday_home / "state.sqlite3") == 0o600
    assert "state.sqlite3 was open to other users (mode 644); cmday made it private (mode 600)" in ran.stderr
    assert "(mode 755)" in ran.stderr
    again = run("morning", "--workspace", str(workspace), "--offline")
    assert "open to other users" not in again.stderr  # said once, when it was done


def test_the_demo_state_is_private_too(cmday_home: Path):
    ran = run("check", "--demo")
    assert ran.exit_code in (0, 10), ran.stderr
    demo = cmday_home / "demo"
    assert mode(cmday_home) == 0o700 and mode(demo) == 0o700
    assert mode(demo / "state.sqlite3") == 0o600 and mode(demo / ".lock") == 0o600


def test_a_secrets_folder_open_to_others_is_tightened_saying_so(workspace: Path, cmday_home: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + '\n[[sources]]\nid = "m"\nplatform = "mastodon"\ninstance = "https://m.example"\n',
        encoding="utf-8",
    )
    secrets = cmday_home / "secrets"
    secrets.mkdir(parents=True, mode=0o755)
    os.chmod(secrets, 0o755)  # as unpacked from a backup
    (secrets / "acme.m").write_text("copied-token-value", encoding="utf-8")
    os.chmod(secrets / "acme.m", 0o644)
    (secrets / "bluesky-session.json").write_text("{}", encoding="utf-8")
    os.chmod(secrets / "bluesky-session.json", 0o664)

    ran = run("sources", "--workspace", str(workspace), "--lang", "es")

    assert ran.exit_code == 0, ran.stderr
    assert mode(secrets) == 0o700
    assert mode(secrets / "acme.m") == 0o600 and mode(secrets / "bluesky-session.json") == 0o600
    assert "secrets estaba abierto a otros usuarios (modo 755); cmday lo ha hecho privado (modo 700)" in ran.stderr
    assert "acme.m estaba abierto a otros usuarios (modo 644)" in ran.stderr
    assert "copied-token-value" not in ran.stderr + ran.stdout


def test_auth_creates_the_secrets_folder_0700(workspace: Path, cmday_home: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + '\n[[sources]]\nid = "m"\nplatform = "mastodon"\ninstance = "https://m.example"\n',
        encoding="utf-8",
    )
    ran = run("auth", "m", "--stdin", "--workspace", str(workspace), input="s3cr3t-token\n")
    assert ran.exit_code == 0, ran.stderr
    assert mode(cmday_home / "secrets") == 0o700 and mode(cmday_home / "secrets" / "acme.m") == 0o600
    assert not (cmday_home / "secrets" / "acme.m.tmp").exists()


def test_a_session_file_in_the_secrets_folder_is_tightened_by_any_command_that_looks_there(workspace: Path, cmday_home: Path):
    """The Bluesky session `send` keeps beside the secrets is covered too, whoever reads the folder first."""
    from cmday.private import tightened
    from cmday.secrets import secrets_dir

    folder = cmday_home / "secrets"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o775)
    (folder / "bluesky-session.acme.b.json").write_text("{}", encoding="utf-8")
    os.chmod(folder / "bluesky-session.acme.b.json", 0o644)

    assert secrets_dir() == folder
    assert mode(folder) == 0o700 and mode(folder / "bluesky-session.acme.b.json") == 0o600
    assert [(p.name, before) for p, before, _after in tightened()] == [("secrets", 0o775), ("bluesky-session.acme.b.json", 0o644)]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_first_run_makes_every_folder_it_needs_private_and_says_nothing_of_it(
        workspace: Path, tmp_path: Path, monkeypatch, lang: str):
    home = tmp_path / "data" / "cmday"  # as ~/.local/share/cmday on a new machine: neither folder there yet
    monkeypatch.setenv("CMDAY_HOME", str(home))
    earlier = datetime.now().timestamp() - 3600  # files written a while ago: their records are remembered in cache/
    for settings in workspace.rglob("*.toml"):
        os.utime(settings, (earlier, earlier))
    # Spanish from a checkout whose .po changed since its .mo was built: the catalogue is compiled into cache/
    monkeypatch.setattr(i18n, "_STALE_AFTER_SECONDS", -1e12)

    ran = run("inbox", "--workspace", str(workspace), "--lang", lang)

    assert ran.exit_code == 0, ran.stderr
    assert (home / "cache").is_dir()
    assert {str(f.relative_to(tmp_path)): mode(f) for f in (tmp_path / "data", home, home / "cache")} == {
        "data": 0o700, "data/cmday": 0o700, "data/cmday/cache": 0o700}
    assert "open to other users" not in ran.stderr and "abierto a otros" not in ran.stderr  # cmday made them
    if lang == "es":  # the catalogue compiled into cache/ spoke, and its folders are private as the others
        assert "abiertas (0)" in ran.stdout and (home / "cache" / "locale").is_dir()
        assert {mode(f) for f in (home / "cache" / "locale").rglob("*") if f.is_dir()} == {0o700}
