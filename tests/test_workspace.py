"""Finding the workspace and reporting bad project files: what, where (file, line, field), what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmday.errors import ConfigError, ExitCode
from cmday.models import Project
from cmday.workspace import find_workspace, load_workspace, parse_text
from tests.cli_runner import run


def write_project(root: Path, text: str, name: str = "acme.toml") -> Path:
    path = root / "projects" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_workspace_flag_wins_over_environment_and_parents(workspace: Path, tmp_path: Path, monkeypatch):
    other = tmp_path / "other"
    (other / "projects").mkdir(parents=True)
    (other / "cmday.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("CMDAY_WORKSPACE", str(other))
    assert find_workspace(workspace) == workspace.resolve()
    assert find_workspace(None) == other.resolve()


def test_nearest_parent_with_cmday_toml_is_found(workspace: Path):
    nested = workspace / "projects" / "deep" / "er"
    nested.mkdir(parents=True)
    assert find_workspace(None, cwd=nested) == workspace.resolve()


def test_user_config_dir_is_the_last_resort(tmp_path: Path, monkeypatch):
    config = tmp_path / "xdg-config" / "cmday"
    config.mkdir(parents=True)
    (config / "cmday.toml").write_text("", encoding="utf-8")
    assert find_workspace(None, cwd=tmp_path) == config


def test_no_workspace_says_so_and_offers_init_or_demo(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ran = run("morning")
    assert ran.exit_code == ExitCode.CONFIG
    assert "no cmday workspace" in ran.stderr
    assert "cmday init" in ran.stderr and "--demo" in ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout


def test_invalid_toml_names_file_line_and_column(workspace: Path):
    write_project(workspace, '[project]\nname = "Acme"\nslug = acme\n')
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert ran.exit_code == ExitCode.CONFIG
    assert "projects/acme.toml:3:8: invalid TOML" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_invalid_value_names_file_and_field_path(workspace: Path):
    write_project(
        workspace,
        '[project]\nname = "Acme"\n\n[[sources]]\nid = "a"\nplatform = "rss"\nurl = "https://x.example/feed"\n\n'
        '[[sources]]\nid = "b"\nplatform = "mastodon"\ninstance = "http://mastodon.example"\n',
    )
    ran = run("check", "--workspace", str(workspace), "--offline")
    assert ran.exit_code == ExitCode.CONFIG
    assert "projects/acme.toml: sources[2].instance:" in ran.stderr
    assert "plain http" in ran.stderr


def test_unknown_key_suggests_the_right_one(workspace: Path):
    write_project(
        workspace,
        '[project]\nname = "Acme"\n\n[[sources]]\nid = "m"\nplatform = "mastodon"\n'
        'instance = "https://mastodon.social"\ntokn_env = "X"\n',
    )
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert "sources[1].tokn_env: unknown key 'tokn_env'; did you mean 'token_env'?" in ran.stderr


def test_unknown_table_key_suggests_too(workspace: Path):
    write_project(workspace, '[project]\nname = "Acme"\ntimezon = "Europe/Madrid"\n')
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert "project.timezon: unknown key 'timezon'; did you mean 'timezone'?" in ran.stderr


def test_unknown_platform_lists_the_known_ones(workspace: Path):
    write_project(workspace, '[project]\nname = "Acme"\n[[sources]]\nid = "t"\nplatform = "myspace"\n')
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert "sources[1]: unknown platform 'myspace'" in ran.stderr
    assert "mastodon" in ran.stderr


# Per platform: its required keys, then one of its own keys as a CM might mistype it, and the key meant.
MISTYPED_SOURCE_KEYS = {
    "mastodon": ('instance = "https://mastodon.example"', "hashtag", "hashtags"),
    "bluesky": ('handle = "acme.bsky.social"', "pasword_env", "password_env"),
    "rss": ('url = "https://news.example/feed.xml"', "urls", "url"),
    "file": ('path = "comments.csv"', "netwrk", "network"),
    "email": ('host = "imap.acme.example"\nusername = "info@acme.example"', "smtp_hots", "smtp_host"),
    "instagram": ('ig_user_id = "17841400000000000"', "token_evn", "token_env"),
    "facebook": ('page_id = "1234567890"', "rating", "ratings"),
    "demo": ("", "labl", "label"),
}


def test_every_platform_has_a_mistyped_key_case_below():
    from cmday.sources import PLATFORMS

    assert set(MISTYPED_SOURCE_KEYS) == set(PLATFORMS)  # a new platform: add its row, so its typos are tried too


@pytest.mark.parametrize("platform", sorted(MISTYPED_SOURCE_KEYS))
def test_a_mistyped_key_of_every_platforms_source_names_the_file_and_field_and_suggests(workspace: Path, platform: str):
    required, typo, meant = MISTYPED_SOURCE_KEYS[platform]
    write_project(
        workspace,
        '[project]\nname = "Acme"\n\n[[sources]]\nid = "d"\nplatform = "demo"\n\n'
        f'[[sources]]\nid = "s"\nplatform = "{platform}"\n{required}\n{typo} = "x"\n',
    )
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert f"acme.toml: sources[2].{typo}: unknown key {typo!r}; did you mean {meant!r}?" in ran.stderr


def test_secrets_are_named_never_written(workspace: Path):
    write_project(
        workspace,
        '[project]\nname = "Acme"\n[[sources]]\nid = "m"\nplatform = "mastodon"\n'
        'instance = "https://m.example"\ntoken_env = "abc123 secret-token"\n',
    )
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert "sources[1].token_env" in ran.stderr and "environment variable" in ran.stderr
    assert "secret-token" not in ran.stderr  # what was pasted is never printed back


def test_unknown_project_lists_known_ones(workspace: Path):
    ran = run("morning", "--workspace", str(workspace), "--project", "nope", "--offline")
    assert ran.exit_code == ExitCode.USAGE
    assert "unknown project 'nope'; known projects: acme" in ran.stderr


def test_duplicate_source_ids_and_dangling_post_sources_are_errors(workspace: Path):
    write_project(
        workspace,
        '[project]\nname = "Acme"\n[[sources]]\nid = "f"\nplatform = "rss"\nurl = "https://a.example/f"\n'
        '[[sources]]\nid = "f"\nplatform = "rss"\nurl = "https://b.example/f"\n',
    )
    assert re.search("two sources have the id 'f'", load_workspace(workspace).broken["acme"].error.message)
    write_project(workspace, '[project]\nname = "Acme"\n[[posts]]\nat = 2026-12-01T09:00:00\nsource = "ghost"\n')
    assert re.search("names source 'ghost'", load_workspace(workspace).broken["acme"].error.message)


def test_bad_timezone_is_explained(workspace: Path):
    write_project(workspace, '[project]\nname = "Acme"\ntimezone = "Madrid"\n')
    assert re.search("unknown time zone 'Madrid'", load_workspace(workspace).broken["acme"].error.message)


def test_not_utf8_file_is_reported(workspace: Path):
    (workspace / "projects" / "acme.toml").write_bytes('[project]\nname = "Caf\xe9"\n'.encode("latin-1"))
    assert re.search("not UTF-8", load_workspace(workspace).broken["acme"].error.message)


def test_debug_shows_the_traceback(workspace: Path):
    write_project(workspace, "[project\n")
    with pytest.raises(ConfigError):
        run("morning", "--workspace", str(workspace), "--offline", "--debug")


def test_markup_in_a_brand_name_shows_literally(workspace: Path):
    write_project(workspace, '[project]\nname = "[red]Acme\\u001b]8;;http://evil\\u0007"\n')
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert ran.exit_code == 0, ran.stderr
    assert "[red]Acme" in ran.stdout
    assert "\x1b" not in ran.stdout and "\x07" not in ran.stdout


toml_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from([
            "[project]", 'name = "Acme"', "slug = 'a'", "[[sources]]", 'id = "x"', 'platform = "rss"',
            'url = "https://e.example"', "[[posts]]", "at = 2026-01-01T10:00:00", 'status = "ready"', "[listen]",
            "urgent = ['a']", "x = 1", "[knowledge]", "services = 3", "language = 'es'", "timezone = 'Mars/Base'",
        ]),
        max_size=20,
    ).map("\n".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toml_text)
def test_any_text_either_loads_or_gives_one_config_error(text: str):
    try:
        project = parse_text(text, Project, "projects/x.toml")
    except ConfigError as error:
        assert error.message.startswith("projects/x.toml")
        assert "\n" not in error.message
    else:
        assert project.project.name
