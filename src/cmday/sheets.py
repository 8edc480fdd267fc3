"""Spreadsheets cmday writes for Excel and reads back: formulas neutralised, each language's CSV dialect, xlsx workbooks."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# OWASP's CSV-injection rule: a cell starting with one of these is run as a formula by Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """A text cell Excel shows as text: a leading apostrophe before a formula start (numbers pass as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restored(text: str) -> str:
    """The text `neutral` protected, as it was: reading our own sheet back gives back what was written."""
    if text[:1] == "'" and text[1:2] and text[1] in "=+-@\t\r":
        return text[1:]
    return text


@dataclass(frozen=True)
class Dialect:
    """How Excel in a language opens a CSV in columns: Spanish Excel splits on `;` and reads `3,5` as a number."""

    delimiter: str
    decimal_comma: bool
    bom: bool = True  # without it Excel reads UTF-8 as Windows-1252 (ñ becomes Ã±)


def dialect(language: str, delimiter: str | None = None) -> Dialect:
    spanish = language == "es"
    return Dialect(delimiter or (";" if spanish else ","), decimal_comma=spanish and (delimiter or ";") != ",")


def cell_text(value: Any, form: Dialect) -> str:
    """One cell as CSV text: numbers in the dialect's decimal mark without thousands separators, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
        return text.replace(".", ",") if form.decimal_comma else text
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return neutral(str(value))


def write_csv(header: list[str], rows: list[list[Any]], form: Dialect) -> str:
    """A CSV Excel opens in columns in that language (add the BOM when writing a file: `csv_bytes`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=form.delimiter, lineterminator="\r\n")
    writer.writerow([cell_text(h, form) for h in header])
    for row in rows:
        writer.writerow([cell_text(v, form) for v in row])
    return buffer.getvalue()


def csv_bytes(text: str, form: Dialect) -> bytes:
    return (("\ufeff" if form.bom else "") + text).encode("utf-8")


@dataclass
class Sheet:
    """One worksheet: a title (31 characters at most, as Excel allows), a header row and rows of values."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    date_format: str = "yyyy-mm-dd"
    datetime_format: str = "yyyy-mm-dd hh:mm"
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # (row, column), from 0: shares shown as 87.5%


def _sheet_title(title: str, taken: set[str]) -> str:
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title)[:31] or "Sheet"
    candidate, number = cleaned, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = cleaned[: 31 - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


def write_workbook(sheets: list[Sheet]) -> bytes:
    """An .xlsx: numbers as numbers, dates as dates, a bold frozen header, text that starts like a formula kept as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for sheet in sheets or [Sheet("Sheet", [], [])]:
        page = book.create_sheet(_sheet_title(sheet.title, taken))
        page.append(list(sheet.header))
        for cell in page[1]:
            cell.font = bold
        page.freeze_panes = "A2"
        for index, values in enumerate(sheet.rows):
            page.append([_workbook_value(v) for v in values])
            row = page.max_row
            for column, value in enumerate(values, start=1):
                cell = page.cell(row=row, column=column)
                if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                    # a string cell with Excel's quote prefix: shown as typed, never evaluated, even after an edit
                    cell.value, cell.data_type, cell.quotePrefix = _workbook_value(value), "s", True
                elif isinstance(value, datetime):
                    cell.number_format = sheet.datetime_format
                elif isinstance(value, date):
                    cell.number_format = sheet.date_format
                elif (index, column - 1) in sheet.percent_cells and isinstance(value, (int, float)):
                    cell.number_format = "0.0%"
        for column, title in enumerate(sheet.header, start=1):
            width = max([len(str(title))] + [len(str(r[column - 1])) for r in sheet.rows[:200] if column - 1 < len(r) and r[column - 1] is not None])
            page.column_dimensions[page.cell(row=1, column=column).column_letter].width = min(max(width + 2, 8), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _workbook_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: the local time as written
    if isinstance(value, str):
        from cmday.textsafe import clean

        return clean(value)  # XML forbids most control characters: openpyxl would refuse the file
    return value


def read_workbook(raw: bytes) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet of an .xlsx as (title, rows of values): dates come back as datetimes, numbers as numbers."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        return [(page.title, [list(row) for row in page.iter_rows(values_only=True)]) for page in book.worksheets]
    finally:
        book.close()
