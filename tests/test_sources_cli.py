"""`cmday sources` and `cmday auth`: health per source, secrets stored privately and never shown."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from cmday.errors import ExitCode
from tests.cli_runner import run
from tests.support.platform_server import Reply

SOURCES = """
[[sources]]
id = "acme-mastodon"
platform = "mastodon"
instance = "https://mastodon.example"
token_env = "ACME_MASTODON_TOKEN"

[[sources]]
id = "acme-alerts"
platform = "rss"
url = "https://www.google.com/alerts/feeds/1/2"
"""


def with_sources(workspace: Path) -> Path:
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + SOURCES, encoding="utf-8")
    return workspace


def test_auth_stores_the_secret_readable_by_the_owner_only(workspace: Path, cmday_home: Path):
    with_sources(workspace)
    ran = run("auth", "acme-mastodon", "--stdin", "--workspace", str(workspace), input="s3cr3t-token\n")
    assert ran.exit_code == 0, ran.stderr
    stored = cmday_home / "secrets" / "acme.acme-mastodon"
    assert stored.read_text(encoding="utf-8") == "s3cr3t-token"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert "s3cr3t-token" not in ran.stderr + ran.stdout


def test_sources_shows_where_credentials_come_from_never_the_secret(workspace: Path, monkeypatch):
    with_sources(workspace)
    monkeypatch.setenv("ACME_MASTODON_TOKEN", "env-token-value")
    ran = run("sources", "--workspace", str(workspace), "--json")
    rows = {row["source"]: row for row in json.loads(ran.stdout)["sources"]}
    assert rows["acme-mastodon"]["credentials"] == "$ACME_MASTODON_TOKEN"
    assert rows["acme-alerts"]["credentials"] == "-"
    assert "env-token-value" not in ran.stdout
    monkeypatch.delenv("ACME_MASTODON_TOKEN")
    rows = {row["source"]: row for row in json.loads(run("sources", "--workspace", str(workspace), "--json").stdout)["sources"]}
    assert rows["acme-mastodon"]["credentials"] == "missing"


def test_auth_refuses_sources_without_secrets_and_unknown_ids(workspace: Path):
    with_sources(workspace)
    ran = run("auth", "acme-alerts", "--stdin", "--workspace", str(workspace), input="x\n")
    assert ran.exit_code == ExitCode.USAGE and "needs no secret" in ran.stderr
    ran = run("auth", "nope", "--stdin", "--workspace", str(workspace), input="x\n")
    assert ran.exit_code == ExitCode.USAGE and "acme-mastodon" in ran.stderr


def test_auth_without_a_terminal_or_stdin_flag_asks_for_stdin(workspace: Path):
    with_sources(workspace)
    ran = run("auth", "acme-mastodon", "--workspace", str(workspace))
    assert ran.exit_code == ExitCode.USAGE and "--stdin" in ran.stderr


def test_sources_check_makes_an_authenticated_call(workspace: Path, platform_server, monkeypatch):
    from tests.support.platform_server import Reply

    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "good"\nplatform = "mastodon"\ninstance = "{platform_server.url}"\ntoken_env = "GOOD_TOKEN"\n',
        encoding="utf-8",
    )
    account = {"id": "1", "username": "acme", "acct": "acme", "display_name": "Acme", "followers_count": 1,
               "following_count": 1, "statuses_count": 1}
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, account), Reply(401, {"error": "The access token is invalid"}))
    monkeypatch.setenv("GOOD_TOKEN", "tok-123")
    working = run("sources", "--check", "--workspace", str(workspace), "--json")
    first = {r["source"]: r for r in json.loads(working.stdout)["sources"]}
    assert working.exit_code == 0
    assert first["good"]["credentials_work"] is True and first["good"]["account"].startswith("@acme@")
    refused = run("sources", "--check", "--workspace", str(workspace), "--json")
    second = {r["source"]: r for r in json.loads(refused.stdout)["sources"]}
    assert refused.exit_code == ExitCode.SOURCES  # cron and scripts see it without reading the table
    assert second["good"]["credentials_work"] is False and "access token is invalid" in second["good"]["account"]
    assert "tok-123" not in json.dumps(second)
    table = run("sources", "--check", "--workspace", str(workspace))
    assert table.exit_code == ExitCode.SOURCES and "credentials refused" in table.stdout
    assert run("sources", "--workspace", str(workspace)).exit_code == 0  # without --check nothing is tried


IMPORT_SOURCE = '\n[[sources]]\nid = "comments"\nplatform = "file"\npath = "comments.csv"\n'


def test_skipped_import_rows_are_reported_by_fetch_morning_and_sources_until_the_file_changes(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + IMPORT_SOURCE, encoding="utf-8")
    export = workspace / "comments.csv"
    export.write_text("fecha;texto\n21/11/2026 10:00;bien\n32/11/2026;mal\n21/11/2026 11:00;\n", encoding="utf-8")
    said = "2 rows of comments.csv skipped: line 3: date not readable ('32/11/2026'); line 4: no text"

    fetched = run("fetch", "--workspace", str(workspace))
    assert fetched.exit_code == 0 and said in " ".join(fetched.stderr.split())
    again = run("fetch", "--workspace", str(workspace), "--json")  # the file is unchanged: said again
    [row] = json.loads(again.stdout)["sources"]
    assert row["new"] == 0 and row["notes"] == [said]
    morning = run("morning", "--workspace", str(workspace))
    assert said in " ".join(morning.stderr.split())
    listed = run("sources", "--workspace", str(workspace), "--json")
    [source] = json.loads(listed.stdout)["sources"]
    assert source["skipped_rows"]["count"] == 2
    assert source["skipped_rows"]["rows"][0] == {"line": 3, "reason": "bad-date", "detail": "32/11/2026"}
    shown = run("sources", "--workspace", str(workspace), "--lang", "es")
    assert "2 filas de comments.csv omitidas: línea 3: fecha ilegible ('32/11/2026'); línea 4: sin texto" in " ".join(
        shown.stdout.split()
    )

    export.write_text("fecha;texto\n21/11/2026 10:00;bien\n21/11/2026 11:00;arreglado\n", encoding="utf-8")
    fixed = run("fetch", "--workspace", str(workspace), "--json")
    assert json.loads(fixed.stdout)["sources"][0]["notes"] == []
    after = json.loads(run("sources", "--workspace", str(workspace), "--json").stdout)["sources"][0]
    assert after["skipped_rows"]["count"] == 0


def test_an_instance_answering_every_search_empty_is_said_once_in_sources(workspace: Path, platform_server, monkeypatch):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8")
        + f'\n[[sources]]\nid = "masto"\nplatform = "mastodon"\ninstance = "{platform_server.url}"\n'
        'token_env = "MASTO_TOKEN"\nhashtags = ["acmecoffee"]\nsearch = ["acme coffee", "acme"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MASTO_TOKEN", "t0ken")
    platform_server.route("GET", "/api/v1/notifications", Reply(200, []))
    platform_server.route("GET", "/api/v1/timelines/tag/acmecoffee", Reply(200, []))
    # Mastodon without Elasticsearch: GET /api/v2/search answers the documented Search shape, never a status.
    platform_server.route("GET", "/api/v2/search", Reply(200, {"accounts": [], "statuses": [], "hashtags": []}))

    for _time in range(3):
        assert run("fetch", "--workspace", str(workspace)).exit_code == 0
    [row] = json.loads(run("sources", "--workspace", str(workspace), "--json").stdout)["sources"]
    assert row["search_unanswered"] == ["acme", "acme coffee"]
    shown = " ".join(run("sources", "--workspace", str(workspace)).stdout.split())
    assert shown.count("may lack full-text search") == 1 and "hashtags still work" in shown
    spanish = " ".join(run("sources", "--workspace", str(workspace), "--lang", "es").stdout.split())
    assert "búsqueda completa de texto" in spanish


def test_sources_says_an_instagram_token_ends_days_before_and_auth_takes_one(workspace: Path, cmday_home: Path):
    from datetime import UTC, date, datetime

    soon = date.fromordinal(datetime.now(UTC).date().toordinal() + 4)
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + f"""
[[sources]]
id = "acme-ig"
platform = "instagram"
ig_user_id = "17841400008460056"
token_env = "ACME_META_TOKEN"
token_expires = {soon.isoformat()}
""", encoding="utf-8")
    ran = run("auth", "acme-ig", "--stdin", "--workspace", str(workspace), input="EAAGpagetoken123\n")
    assert ran.exit_code == 0, ran.stderr
    ran = run("sources", "--workspace", str(workspace), "--json")
    [row] = [r for r in json.loads(ran.stdout)["sources"] if r["source"] == "acme-ig"]
    assert row["credentials"] == "cmday auth"
    assert "stops working in" in row["token_expiry"] and soon.isoformat() in row["token_expiry"]
    shown = run("sources", "--workspace", str(workspace))
    assert "stops working" in " ".join(shown.stdout.split())  # the state column wraps at 80 columns
