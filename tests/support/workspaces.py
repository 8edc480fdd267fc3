"""Changing the test workspace (tests/conftest.py's `workspace`) the way a CM edits it."""

from __future__ import annotations

from pathlib import Path


def use_protocol(workspace: Path, text: str) -> Path:
    """Write protocols/acme.toml and point the acme project at it, as `protocol = ...` in [project] does."""
    path = workspace / "protocols" / "acme.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(
        project_file.read_text(encoding="utf-8").replace('slug = "acme"', 'slug = "acme"\nprotocol = "protocols/acme.toml"'),
        encoding="utf-8",
    )
    return path


def add_source(workspace: Path, entry: str, project: str = "acme") -> None:
    """One more `[[sources]]` entry at the end of a project's file, as a CM adds one."""
    path = workspace / "projects" / f"{project}.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[[sources]]\n" + entry, encoding="utf-8")
