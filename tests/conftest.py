"""Fixtures every test shares: a private CMDAY_HOME, a clean environment, a CLI runner, a platform server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cmday.i18n import set_language
from cmday.private import tightened
from tests.support.platform_server import PlatformServer
from tests.support.postgres import PASSWORD, Postgres

RECORDED_FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def cmday_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """State, secrets and demo always live in a temporary folder: tests never touch the user's."""
    home = tmp_path / "cmday-home"
    monkeypatch.setenv("CMDAY_HOME", str(home))
    for variable in ("CMDAY_WORKSPACE", "CMDAY_LANG", "LC_ALL", "LC_MESSAGES", "NO_COLOR", "CMDAY_STATE_URL",
                     "CMDAY_STATE_PASSWORD", "CMDAY_USER", "PGPASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    set_language("en")  # a test that ran in Spanish must not leave the next one speaking it
    tightened()  # what a test made private outside a command is not for the next one's command to report
    return home


@pytest.fixture
def platform_server() -> Iterator[PlatformServer]:
    server = PlatformServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL server for the whole run (Debian's package; .ci/run installs it); a database per test."""
    server = Postgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def state_url(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty shared state, its password where cmday reads it (the environment), never in the URL."""
    monkeypatch.setenv("CMDAY_STATE_PASSWORD", PASSWORD)
    return postgres.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """What `Store(...)` opens, once per back end: the store tests run against both."""
    if request.param == "sqlite":
        return tmp_path / "s.sqlite3"
    return request.getfixturevalue("state_url")


@pytest.fixture
def recorded_fixtures() -> Path:
    """The recorded platform payloads in tests/fixtures (origin and licence in its README): never skipped."""
    if not (RECORDED_FIXTURES / "README.md").is_file():
        pytest.fail(f"{RECORDED_FIXTURES} is missing: the recorded payloads are part of the repository")
    return RECORDED_FIXTURES


BASIC_PROJECT = """
[project]
name = "Acme Coffee"
slug = "acme"
timezone = "Europe/Madrid"

[listen]
urgent = ["refund"]

[calendar]
platforms = ["mastodon"]
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small real workspace: cmday.toml and one project, no sources."""
    root = tmp_path / "ws"
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text('owner = "Ana"\ntimezone = "Europe/Madrid"\n', encoding="utf-8")
    (root / "projects" / "acme.toml").write_text(BASIC_PROJECT, encoding="utf-8")
    return root
