"""CMDAY_HOME read in one place: state, secrets and the catalogue cache all follow it, `~` included."""

from __future__ import annotations

from cmday.paths import cache_home, state_home
from cmday.secrets import secrets_dir, store_secret


def test_state_secrets_and_cache_live_under_cmday_home_even_written_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMDAY_HOME", "~/cm")
    home = tmp_path / "cm"
    assert state_home() == home
    assert cache_home() == home / "cache"
    assert secrets_dir() == home / "secrets"
    assert store_secret("acme", "masto", "token-123456").parent == home / "secrets"
    assert not (tmp_path / "~").exists()  # no folder literally named "~" beside the workspace
