"""The recorded payloads travel with the repository, each with its origin."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_every_recorded_payload_names_its_origin():
    listed = (FIXTURES / "README.md").read_text(encoding="utf-8")
    payloads = [path.relative_to(FIXTURES).as_posix() for path in FIXTURES.rglob("*") if path.is_file() and path.name != "README.md"]
    assert payloads, "tests/fixtures holds no recorded payloads"
    unlisted = [name for name in payloads if f"| `{name}` |" not in listed]
    assert not unlisted, f"add these to tests/fixtures/README.md with their origin: {unlisted}"
