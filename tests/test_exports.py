"""What cmday writes for Excel and calendar apps: no formula runs, no control byte arrives, the CM's Excel opens it in columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
import time_machine

from tests.cli_runner import run
from tests.test_calendar_cli import MADRID, _second_workspace, add_post, as_json, cmday, hand_written_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """The workspace tests/test_calendar_cli.py works in."""
    return hand_written_workspace(tmp_path)


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


# -- the sheet the CM already uses ----------------------------------------------------------------------------


def test_calendar_xlsx_has_a_sheet_per_month_with_real_dates_and_reads_back(ws: Path, tmp_path: Path):
    import openpyxl

    add_post(ws, "--at", "2026-12-02T10:00", "--platform", "bluesky", "--text", "=December", "--link", "https://acme.example/?a=1",
             "--media", "m/one.png", "--media", "m/two.png", "--alt", "=One | the first", "--alt", "Two", "--campaign", "launch",
             "--owner", "Ana", "--id", "dec-launch", "--status", "ready")
    add_post(ws, "--at", "2026-11-26T10:00", "--source", "masto", "--text", "jueves", "--status", "idea")
    out = tmp_path / "plan.xlsx"
    ran = cmday(ws, "calendar", "export", "--out", str(out))  # the format from the extension
    assert ran.exit_code == 0 and "3 posts written" in ran.stderr, ran.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["2026-11", "2026-12"]
    november = book["2026-11"]
    assert [c.value for c in november[1]] == ["id", "at", "platform", "source", "text", "link", "media", "alt", "campaign", "owner", "status"]
    assert november["B2"].value == datetime(2026, 11, 25, 9, 0) and november["B2"].is_date
    formula = book["2026-12"]["E2"]
    assert formula.value == "=December" and formula.data_type == "s" and formula.quotePrefix  # text, never a formula

    other = _second_workspace(tmp_path)
    imported = cmday(other, "calendar", "import", str(out))
    assert imported.exit_code == 0 and "3 posts added" in imported.stderr, imported.stderr
    fields = ("key", "at", "platform", "source", "text", "link", "media", "alt", "campaign", "owner", "status")

    def posts(root: Path) -> list[dict]:
        view = as_json(root, "calendar", "--days", "60", at=datetime(2026, 11, 20, tzinfo=MADRID))["projects"][0]
        return [{f: p[f] for f in fields} for d in view["agenda"] for p in d["posts"]]

    assert posts(other) == posts(ws) and len(posts(ws)) == 3
    assert [p["alt"] for p in posts(other) if p["key"] == "dec-launch"] == [["=One | the first", "Two"]]
    assert "0 posts added" in cmday(other, "calendar", "import", str(out)).stderr


def test_an_xlsx_that_is_not_a_workbook_is_one_line(ws: Path, tmp_path: Path):
    bad = tmp_path / "plan.xlsx"
    bad.write_bytes(b"not a zip")
    ran = cmday(ws, "calendar", "import", str(bad))
    assert ran.exit_code == 3 and "not an Excel workbook" in ran.stderr and "Traceback" not in ran.stderr


def test_calendar_csv_in_spanish_is_excels_dialect_and_delimiter_overrides(ws: Path, tmp_path: Path):
    out = tmp_path / "plan.csv"
    assert cmday(ws, "calendar", "export", "--out", str(out), "--lang", "es").exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["id", "at", "platform"] and "Buenos días: café de avena en todas las tiendas." in rows[1]
    assert cmday(ws, "calendar", "export", "--out", str(out), "--lang", "es", "--delimiter", ",").exit_code == 0
    assert out.read_bytes().decode("utf-8-sig").startswith("id,at,platform")


def test_ics_uid_is_global_and_stable_and_summary_speaks_the_projects_language(ws: Path, tmp_path: Path):
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "first words", "--id", "launch-1", "--status", "ready")
    out = tmp_path / "plan.ics"

    def events() -> dict[str, icalendar.Event]:
        assert cmday(ws, "calendar", "export", "--out", str(out)).exit_code == 0
        return {str(e["uid"]): e for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")}

    before = events()
    assert "launch-1@acme.cmday" in before
    assert all(uid.endswith("@acme.cmday") for uid in before)
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("first words", "other words, edited").replace(
        'slug = "acme"', 'slug = "acme"\nlanguage = "es"'), encoding="utf-8")
    after = events()
    assert set(after) == set(before)  # the same events: a calendar app updates them instead of adding copies
    assert str(after["launch-1@acme.cmday"]["summary"]) == "mastodon · listo · other words, edited"
    other = _second_workspace(tmp_path)
    assert cmday(other, "calendar", "import", str(out)).exit_code == 0
    keys = {p["key"] for d in as_json(other, "calendar", "--days", "30")["projects"][0]["agenda"] for p in d["posts"]}
    assert "launch-1" in keys  # our UID reads back as the post's key


def test_kpi_xlsx_has_numbers_dates_and_a_sheet_per_period(tmp_path: Path, cmday_home: Path):
    import openpyxl

    from tests.test_indicators import NOW, WEEK, build_state, make_workspace

    root = make_workspace(tmp_path / "kpi-ws")
    build_state(cmday_home / "state.sqlite3").close()
    out = tmp_path / "kpis.xlsx"
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        ran = run("kpi", "export", "--week", WEEK, "--periods", "3", "--out", str(out), "--workspace", str(root))
    assert ran.exit_code == 0, ran.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["2026-W41", "2026-W42", WEEK]
    sheet = book[WEEK]
    header = [c.value for c in sheet[1]]
    assert header == ["project", "period", "start", "end", "key", "label", "value", "target", "unit"]
    rows = {r[4].value: r for r in sheet.iter_rows(min_row=2)}
    median = rows["response_time_median_minutes"]
    assert median[6].value == 30 and median[7].value == 60 and median[6].data_type == "n"
    assert median[2].value == datetime(2026, 10, 19) and median[2].is_date
    share = rows["answered_share"]
    assert isinstance(share[6].value, float) and share[6].number_format == "0.0%"


def test_kpi_csv_in_spanish_has_semicolons_decimal_commas_and_a_bom(tmp_path: Path, cmday_home: Path):
    from tests.test_indicators import NOW, WEEK, build_state, make_workspace

    root = make_workspace(tmp_path / "kpi-ws")
    build_state(cmday_home / "state.sqlite3").close()
    out = tmp_path / "kpis.csv"
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        ran = run("kpi", "export", "--week", WEEK, "--out", str(out), "--workspace", str(root), "--lang", "es")
        assert ran.exit_code == 0, ran.stderr
        assert "filas escritas" in ran.stderr
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8")[1:]), delimiter=";"))
        share = next(r for r in rows if r["period"] == WEEK and r["key"] == "answered_share")
        assert share["value"] == "0,9" and share["target"] == "0,95" and share["label"] == "Respondidas"
        ran = run("kpi", "export", "--week", WEEK, "--out", str(out), "--workspace", str(root), "--lang", "es", "--delimiter", ",")
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        assert next(r for r in rows if r["period"] == WEEK and r["key"] == "answered_share")["value"] == "0.9"
