"""What cmday writes for Excel and calendar apps: no formula runs, no control byte arrives, the CM's Excel opens it in columns."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import icalendar
import pytest

from tests.test_calendar_cli import MADRID, _second_workspace, add_post, as_json, cmday, ws  # noqa: F401  (ws is a fixture)

FORMULAS = ["=HYPERLINK(\"https://evil.example\",\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def test_calendar_csv_cells_that_start_like_formulas_are_text_and_import_back_as_written(ws: Path, tmp_path: Path):
    for number, formula in enumerate(FORMULAS):
        add_post(ws, "--at", f"2026-11-2{6 + number}T10:00", "--platform", "mastodon", "--text", formula, "--campaign", "launch")
    out = tmp_path / "plan.csv"
    assert cmday(ws, "calendar", "export", "--format", "csv", "--out", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=","))
    texts = [row["text"] for row in rows]
    for formula in FORMULAS:
        assert "'" + formula in texts  # Excel shows it; it does not run it
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    other = _second_workspace(tmp_path)
    assert cmday(other, "calendar", "import", str(out)).exit_code == 0
    view = as_json(other, "calendar", "--days", "30", at=datetime(2026, 11, 24, tzinfo=MADRID))["projects"][0]
    assert sorted(p["text"] for d in view["agenda"] for p in d["posts"] if p["text"] in FORMULAS) == sorted(FORMULAS)


def test_a_csv_calendar_sheet_gets_protected_rows_from_calendar_add(ws: Path):
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("horizon_days = 3", 'horizon_days = 3\nfile = "plan.csv"'), encoding="utf-8")
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "=1+1")
    assert "'=1+1" in (ws / "plan.csv").read_text(encoding="utf-8-sig")
    view = as_json(ws, "calendar")["projects"][0]
    assert "=1+1" in [p["text"] for d in view["agenda"] for p in d["posts"]]


def test_ics_export_carries_no_control_characters(ws: Path, tmp_path: Path):
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "red \x1b[31mtext\x1b[0m and a bell\x07 ok",
             "--campaign", "launch", "--owner", "Ana")
    out = tmp_path / "plan.ics"
    assert cmday(ws, "calendar", "export", "--format", "ics", "--out", str(out)).exit_code == 0
    data = out.read_bytes()
    assert b"\x1b" not in data and b"\x07" not in data
    events = list(icalendar.Calendar.from_ical(data).walk("VEVENT"))
    texts = [str(e["description"]) for e in events]
    assert "red text and a bell ok" in texts
