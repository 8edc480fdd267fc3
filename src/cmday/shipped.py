"""Where the checklists, protocols and demo that ship with cmday live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent


def shipped_dir(kind: str) -> Path:
    """`checklists` or `protocols`: inside the installed wheel, else the repository's top-level folder."""
    for candidate in (_PACKAGE / "_shipped" / kind, _PACKAGE.parent.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cmday is installed without its {kind}/ folder")


def demo_workspace_dir() -> Path:
    return _PACKAGE / "demo_workspace"
