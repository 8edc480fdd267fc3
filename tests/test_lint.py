"""The lint the project keeps clean: `ruff check src tests benches`, with the settings in pyproject.toml's [tool.ruff]."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_in_src_tests_and_benches():
    ran = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "benches"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert ran.returncode == 0, f"ruff check src tests benches found something:\n{ran.stdout}{ran.stderr}"
