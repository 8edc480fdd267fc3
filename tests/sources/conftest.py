"""Fixtures the adapter tests share."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def load(recorded_fixtures: Path) -> Callable[[str], Any]:
    """A recorded payload from tests/fixtures, by its path there."""

    def read(name: str) -> Any:
        return json.loads((recorded_fixtures / name).read_text(encoding="utf-8"))

    return read
