"""The token's end from Meta's `/debug_token`, said days before in fetch, `sources`, `morning` and `check --quiet`.

The answer's shape is the Debug-Token reference's (https://developers.facebook.com/docs/graph-api/reference/debug_token):
`{"data": {app_id, type, application, data_access_expires_at, expires_at, is_valid, scopes, ...}}`, Unix times,
`expires_at: 0` for a Page token that does not expire.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from tests.cli_runner import run
from tests.sources.test_graph import IG, TOKEN, V, instagram, sweep
from tests.support.platform_server import PlatformServer, Reply
from tests.support.workspaces import add_source

NOW = datetime(2026, 4, 12, 7, 0, tzinfo=UTC)
ALL_SCOPES = ["instagram_basic", "instagram_manage_comments", "pages_show_list", "pages_read_engagement"]


def debug_token(expires: datetime | None, data_access: datetime | None = None, scopes=ALL_SCOPES, valid=True) -> Reply:
    return Reply(200, {"data": {
        "app_id": "138483919580948", "type": "PAGE", "application": "Acme agency", "profile_id": "1234567890",
        "expires_at": int(expires.timestamp()) if expires else 0,
        "data_access_expires_at": int(data_access.timestamp()) if data_access else 0,
        "is_valid": valid, "issued_at": int((NOW - timedelta(days=55)).timestamp()), "scopes": scopes,
        "user_id": "10216447503279211"}})


@pytest.fixture
def account(platform_server: PlatformServer, monkeypatch: pytest.MonkeyPatch) -> PlatformServer:
    monkeypatch.setenv("ACME_IG_TOKEN", TOKEN)
    platform_server.route("GET", f"{V}/{IG}", Reply(200, {"username": "acmecoffee", "id": IG}))
    platform_server.route("GET", f"{V}/{IG}/media", Reply(200, {"data": []}))
    platform_server.route("GET", f"{V}/{IG}/tags", Reply(200, {"data": []}))
    return platform_server


def test_a_token_ending_in_three_days_is_said_and_meta_is_asked_once_a_day(account: PlatformServer, tmp_path: Path) -> None:
    account.route("GET", f"{V}/debug_token", debug_token(NOW + timedelta(days=3, hours=2), NOW + timedelta(days=80)))
    store, fetch = sweep(tmp_path, instagram(account))
    with time_machine.travel(NOW, tick=False):
        [result] = fetch().results
    assert result.error is None
    [note] = result.notes
    assert "stops working in 3 days (2026-04-15)" in note and "make a new one" in note and TOKEN not in note
    [asked] = account.requests_to(f"{V}/debug_token")
    assert asked.query["input_token"] == [TOKEN] and asked.headers["Authorization"] == f"Bearer {TOKEN}"
    kept = json.loads(store.cursor("acme", "acme-ig"))["token"]
    assert TOKEN not in json.dumps(kept) and kept["expires"].startswith("2026-04-15")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        [result] = fetch().results
    assert len(account.requests_to(f"{V}/debug_token")) == 1  # the check two hours later reads what was kept
    assert any("stops working in 3 days" in note for note in result.notes)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        fetch()
    assert len(account.requests_to(f"{V}/debug_token")) == 2


def test_a_page_token_that_never_expires_still_loses_its_data_access(account: PlatformServer, tmp_path: Path) -> None:
    account.route("GET", f"{V}/debug_token", debug_token(None, NOW + timedelta(days=1, hours=1)))
    _store, fetch = sweep(tmp_path, instagram(account))
    with time_machine.travel(NOW, tick=False):
        [result] = fetch().results
    [note] = result.notes
    assert "Meta stops giving data to its access token in 1 day (2026-04-13)" in note and "log in" in note


def test_far_endings_say_nothing_and_missing_permissions_are_named(account: PlatformServer, tmp_path: Path) -> None:
    account.route("GET", f"{V}/debug_token", debug_token(None, NOW + timedelta(days=80), scopes=["instagram_basic"]))
    _store, fetch = sweep(tmp_path, instagram(account))
    with time_machine.travel(NOW, tick=False):
        [result] = fetch().results
    [note] = result.notes
    assert "lacks the permission instagram_manage_comments" in note


def test_meta_refusing_to_describe_the_token_does_not_stop_the_fetch(account: PlatformServer, tmp_path: Path) -> None:
    account.route("GET", f"{V}/debug_token", Reply(400, {"error": {
        "message": "(#100) You must provide an app access token, or a user access token that is an owner or "
                   "developer of the app", "type": "OAuthException", "code": 100}}))
    _store, fetch = sweep(tmp_path, instagram(account, token_expires=(NOW + timedelta(days=3)).date()))
    with time_machine.travel(NOW, tick=False):
        [result] = fetch().results
    assert result.error is None
    assert [n for n in result.notes if "stops working in 2 days (2026-04-15)" in n]  # the date in the file still counts


def test_sources_morning_and_check_say_it_without_the_network(
    account: PlatformServer, workspace: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    account.route("GET", f"{V}/debug_token", debug_token(NOW + timedelta(days=5, hours=3)))
    monkeypatch.setenv("CMDAY_WORKSPACE", str(workspace))
    add_source(workspace, f'id = "acme-ig"\nplatform = "instagram"\nig_user_id = "{IG}"\ntoken_env = "ACME_IG_TOKEN"\nbase_url = "{account.url}"\n')
    with time_machine.travel(NOW, tick=False):
        assert run("fetch").exit_code == 0
        listed = run("sources")
        assert "stops working in 5" in " ".join(listed.stdout.split())
        [row] = json.loads(run("sources", "--json").stdout)["sources"]
        assert row["token_expiry"].startswith("its access token stops working in 5 days (2026-04-17)")
        morning = run("morning", "--offline")
        assert "acme-ig: its access token stops working in 5 days" in " ".join(morning.stdout.split())
        assert "failing: acme-ig" not in " ".join(morning.stdout.split())  # it still works: the checklist is not failed
        quiet = run("check", "--quiet", "--offline")
        assert quiet.exit_code == 10 and "acme: acme-ig: its access token stops working in 5 days" in quiet.stdout
        spanish = run("sources", "--lang", "es")
        assert "deja de funcionar en 5 días" in " ".join(spanish.stdout.split())
        for ran in (listed, morning, quiet, spanish):
            assert TOKEN not in ran.stdout + ran.stderr


def test_a_recorded_debug_token_answer(account: PlatformServer, recorded_fixtures: Path, tmp_path: Path) -> None:
    # A user token's debug_token answer (expires 2019-12-26 08:00 UTC, data access until 2020-03-24), whose
    # scopes hold no Instagram permission.
    recorded = json.loads((recorded_fixtures / "graph" / "token_info.json").read_text(encoding="utf-8"))
    account.route("GET", f"{V}/debug_token", Reply(200, recorded))
    _store, fetch = sweep(tmp_path, instagram(account))
    with time_machine.travel(datetime(2019, 12, 23, 7, 0, tzinfo=UTC), tick=False):
        [result] = fetch().results
    ending, permissions = result.notes
    assert "stops working in 3 days (2019-12-26)" in ending
    assert "lacks the permission instagram_basic, instagram_manage_comments" in permissions


def test_the_debug_log_never_shows_the_token_debug_token_carries_in_its_query(
    account: PlatformServer, workspace: Path, cmday_home: Path,
) -> None:
    from tests.test_secrets import cmday

    account.route("GET", f"{V}/debug_token", debug_token(datetime.now(UTC) + timedelta(days=4)))
    add_source(workspace, f'id = "acme-ig"\nplatform = "instagram"\nig_user_id = "{IG}"\ntoken_env = "ACME_IG_TOKEN"\nbase_url = "{account.url}"\n')
    ran = cmday("fetch", "--workspace", str(workspace), "--debug", env={"CMDAY_HOME": str(cmday_home), "ACME_IG_TOKEN": TOKEN})
    assert ran.returncode == 0, ran.stderr
    assert "debug_token" in ran.stderr and "stops working in" in ran.stderr  # the logs are there
    assert TOKEN not in ran.stderr + ran.stdout
