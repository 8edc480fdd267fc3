"""Importing mentions from files: CSV exported by Excel or a network's tool, and JSON Lines.

Columns are matched case-insensitively, ignoring accents, spaces and hyphens; each has
English and Spanish names (see COLUMNS):

    id           optional; without it a hash of network, author, date and text keeps re-imports from duplicating
    date         ISO 8601, dd/mm/yyyy HH:MM[:SS] or dd/mm/yyyy (also with - or .); naive times are in the given zone
    author       the author's handle
    author_name  the author's display name (defaults to the handle)
    text         required: a row without it is skipped and reported
    url          link to the comment or message
    kind         comment (the default), dm / message / mensaje, reply / respuesta
    network      the network it came from; else the source's `network`, else "file"
    language     optional language code

CSV may use commas, semicolons or tabs (chosen from the header line; Excel's `sep=;` line
is honoured), in UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252 (counted as
`encoding_fallback`). In JSON Lines each line is one object; a line that is not one is
skipped, as is any row without text or with a date that cannot be read. Skipped rows are kept in
the source's cursor (line and reason) and said by every fetch, and by `cmday sources`, until the
file changes.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from cmday import files
from cmday.errors import SourceError
from cmday.i18n import _, ngettext
from cmday.mention import Mention
from cmday.sources.base import Batch, FetchContext, cursor_fields
from cmday.typed import read_written

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "identificador", "id_comentario", "id_mensaje", "comment_id", "message_id"),
    "date": ("date", "fecha", "fecha_y_hora", "fecha_hora", "datetime", "created_at", "timestamp", "time"),
    "author": ("author", "autor", "usuario", "user", "username", "handle", "cuenta", "from", "de"),
    "author_name": ("author_name", "nombre", "nombre_autor", "nombre_del_autor", "name", "display_name"),
    "text": ("text", "texto", "comentario", "comment", "mensaje", "message", "contenido", "content", "body"),
    "url": ("url", "link", "enlace", "permalink"),
    "kind": ("kind", "type", "tipo"),
    "network": ("network", "platform", "red", "red_social", "plataforma", "canal", "channel"),
    "language": ("language", "lang", "idioma"),
}
KIND_WORDS: dict[str, str] = {
    "comment": "import", "comentario": "import", "import": "import",
    "dm": "dm", "md": "dm", "message": "dm", "direct_message": "dm", "mensaje": "dm", "mensaje_directo": "dm",
    "privado": "dm", "reply": "reply", "respuesta": "reply",
}  # fmt: skip
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
BATCH_SIZE = 500
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200  # outside this a "date" is a typo or another column

_ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}


SKIPPED_ROWS_KEPT = 20  # rows named in the cursor (and so in `sources`); the count is always whole
SKIPPED_ROWS_SHOWN = 3  # rows named in a fetch's note


@dataclass
class SkippedRow:
    """A row left out of an import: its line in the file, why (a reason code), and the cell at fault."""

    line: int
    reason: str  # no-text | bad-date | not-an-object | unclosed-quote | unreadable
    detail: str = ""

    def says(self) -> str:
        """`line 4: no text`, in the session's language."""
        detail = self.detail[:40] + ("…" if len(self.detail) > 40 else "")
        reasons = {
            "no-text": _("no text"),
            "bad-date": _("date not readable ({value})").format(value=repr(detail)),
            "not-an-object": _("not a JSON object"),
            "unclosed-quote": _("a quote opened and never closed"),
        }
        reason = reasons.get(self.reason) or _("not readable ({detail})").format(detail=detail)
        return _("line {line}: {reason}").format(line=self.line, reason=reason)


@dataclass
class ImportResult:
    mentions: list[Mention] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    encoding_fallback: bool = False

    @property
    def skipped_lines(self) -> list[int]:
        return [row.line for row in self.skipped]

    def counts(self) -> dict[str, int]:
        counts = {"rows_skipped": len(self.skipped)} if self.skipped else {}
        if self.encoding_fallback:
            counts["encoding_fallback"] = 1
        return counts


def skipped_rows(cursor: str | None) -> tuple[int, list[SkippedRow]]:
    """How many rows the last import of a file skipped, and the first of them, from the source's cursor."""
    data = cursor_fields(cursor)
    rows = []
    for entry in data.get("skipped", []) if isinstance(data.get("skipped"), list) else []:
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], int):
            rows.append(SkippedRow(entry[0], str(entry[1]), str(entry[2])))
    total = data.get("skipped_count")
    return (total if isinstance(total, int) and total >= len(rows) else len(rows)), rows


def skipped_note(name: str, total: int, rows: list[SkippedRow]) -> str:
    """`3 rows of comments.csv skipped: line 4: no text; …`, the first few named."""
    named = "; ".join(row.says() for row in rows[:SKIPPED_ROWS_SHOWN]) + ("; …" if total > SKIPPED_ROWS_SHOWN else "")
    return ngettext(
        "{count} row of {file} skipped: {rows}", "{count} rows of {file} skipped: {rows}", total
    ).format(count=total, file=name, rows=named)


class FileAdapter:
    """Reads one file of comments or messages; an unchanged file (size, mtime, sha256) is not parsed again."""

    def __init__(self, source: Any, context: FetchContext) -> None:
        self.source = source
        self.context = context
        self.skipped_lines: list[int] = []  # for a caller that can show them; Batch has only counts

    def path(self) -> Path:
        configured = Path(self.source.path).expanduser()
        return configured if configured.is_absolute() else self.context.workspace_root / configured

    async def fetch(self, cursor: str | None) -> AsyncIterator[Batch]:
        path = self.path()
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise SourceError(
                _("import file {path} does not exist").format(path=path),
                hint=_("save the export there, or fix `path` in source {id} (relative to the workspace folder)").format(
                    id=self.source.id
                ),
            ) from None
        except OSError as error:
            raise _unreadable(path, error) from None
        if not path.is_file():
            raise SourceError(
                _("import file {path} is not a file").format(path=path),
                hint=_("point `path` in source {id} at the exported .csv or .jsonl file").format(id=self.source.id),
            )
        previous = cursor_fields(cursor)
        if previous.get("size") == stat.st_size and previous.get("mtime_ns") == stat.st_mtime_ns:
            if skipped_rows(cursor)[0]:
                yield from_previous(path.name, cursor)  # what it skipped is said until the file changes
            return
        try:
            data = await asyncio.to_thread(files.read_bytes, path, files.IMPORT, str(path), SourceError)
        except OSError as error:
            raise _unreadable(path, error) from None
        digest = hashlib.sha256(data).hexdigest()
        place = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
        if previous.get("sha256") == digest:
            # Touched, not changed: remember the new mtime, keep what it skipped.
            kept = {key: previous[key] for key in ("skipped", "skipped_count") if key in previous}
            following = json.dumps(place | kept)
            yield from_previous(path.name, following, following)
            return
        result = await asyncio.to_thread(
            parse_import,
            data,
            path.name,
            network=getattr(self.source, "network", "") or "",
            tz=self.context.zone,
            now=self.context.now,
        )
        self.skipped_lines = result.skipped_lines
        if result.skipped:
            place["skipped"] = [[row.line, row.reason, row.detail] for row in result.skipped[:SKIPPED_ROWS_KEPT]]
            place["skipped_count"] = len(result.skipped)
        following = json.dumps(place, ensure_ascii=False)
        notes = [skipped_note(path.name, len(result.skipped), result.skipped)] if result.skipped else []
        chunks = [result.mentions[i : i + BATCH_SIZE] for i in range(0, len(result.mentions), BATCH_SIZE)] or [[]]
        for chunk in chunks[:-1]:
            yield Batch(chunk, None)  # no cursor yet: the file counts as read only once all of it is stored
        yield Batch(chunks[-1], following, result.counts(), notes)


def from_previous(name: str, cursor: str | None, following: str | None = None) -> Batch:
    """Nothing new from an unchanged file, and the rows its last import skipped, said again."""
    total, rows = skipped_rows(cursor)
    return Batch([], following, {}, [skipped_note(name, total, rows)] if total else [])


def parse_import(
    data: bytes, name: str, *, network: str = "", tz: tzinfo = UTC, now: datetime | None = None
) -> ImportResult:
    """Mentions from a CSV or JSON Lines export; bad rows are skipped and their line numbers kept."""
    now = now or datetime.now(UTC)
    text, fallback = _decode(data)
    result = ImportResult(encoding_fallback=fallback)
    lower = name.lower()
    json_lines = lower.endswith(JSON_LINES_SUFFIXES) or (
        not lower.endswith((".csv", ".tsv", ".txt")) and text.lstrip().startswith("{")
    )
    rows = _json_lines(text, result) if json_lines else _csv_rows(text, name, result)
    for line, fields, raw in rows:
        mention = _mention(fields, raw, network=network, tz=tz, now=now)
        if isinstance(mention, SkippedRow):
            mention.line = line
            result.skipped.append(mention)
        else:
            result.mentions.append(mention)
    result.skipped.sort(key=lambda row: row.line)
    return result


def parse_date(value: Any, tz: tzinfo = UTC) -> datetime | None:
    """An aware UTC instant from ISO 8601, day-first dd/mm/yyyy [HH:MM[:SS]] or epoch seconds; None if unreadable."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # JSON exports give epoch seconds or, from JavaScript tools, milliseconds.
            moment = datetime.fromtimestamp(value / 1000 if abs(value) > 1e11 else value, UTC)
        else:
            moment = read_written(str(value))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if EARLIEST_YEAR <= moment.year <= LATEST_YEAR else None


def _mention(
    fields: dict[str, Any], raw: dict[str, Any], *, network: str, tz: tzinfo, now: datetime
) -> Mention | SkippedRow:
    text = _cell(fields.get("text"))
    if not text:
        return SkippedRow(0, "no-text")
    created = None
    if _cell(fields.get("date")):
        created = parse_date(fields["date"], tz)
        if created is None:
            return SkippedRow(0, "bad-date", _cell(fields["date"]))
    platform = _word(_cell(fields.get("network"))).replace("_", "-") or network.strip().lower() or "file"
    author = _cell(fields.get("author"))
    given_id = _cell(fields.get("id"))
    if given_id:
        platform_id = f"{platform}:{given_id}"  # ids from two networks in one file may clash
    else:
        stamp = created.isoformat() if created else ""
        platform_id = "h:" + hashlib.sha256("\x1f".join((platform, author, stamp, text)).encode()).hexdigest()[:32]
    language = _cell(fields.get("language")).lower()
    return Mention(
        platform=platform,
        platform_id=platform_id,
        kind=KIND_WORDS.get(_word(_cell(fields.get("kind"))), "import"),
        text=text,
        created_at=created or now,
        author_handle=author,
        author_name=_cell(fields.get("author_name")) or author,
        url=_cell(fields.get("url")),
        language=language or None,
        raw=raw,
    )


def _csv_rows(text: str, name: str, result: ImportResult) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    lines = text.split("\n", 1)
    first_line = 1
    excel_hint = re.fullmatch(r'"?sep=(.)"?\r?', lines[0].strip("\ufeff"), re.IGNORECASE)
    if excel_hint:
        delimiter = excel_hint.group(1)
        text, first_line = (lines[1] if len(lines) > 1 else ""), 2
    else:
        header_line = next((line for line in text.split("\n") if line.strip()), "")
        counted = {d: header_line.count(d) for d in (",", ";", "\t")}
        delimiter = max(counted, key=counted.__getitem__)  # a tie (one-column file) keeps the comma
    # One cell may hold a long message (csv's own limit is 128 KB): the whole file is the bound.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    header: list[str] | None = None
    columns: dict[str, int] = {}
    start = first_line
    spans_lines = short = False
    while True:
        before = reader.line_num
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            # One row the reader cannot take; the reader goes on with the next line.
            result.skipped.append(SkippedRow(start, "unreadable", str(error)))
            start = first_line + reader.line_num
            if reader.line_num == before:
                break  # nothing more it can read
            continue
        line, start = start, first_line + reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lstrip("\ufeff") for cell in cells]
            for index, title in enumerate(header):
                canonical = _ALIASES.get(_word(title))
                if canonical:
                    columns.setdefault(canonical, index)
            if "text" not in columns:
                raise SourceError(
                    _("{name} has no text column (its columns: {found})").format(
                        name=name, found=", ".join(header)[:200]
                    ),
                    hint=_("name the column that holds the message `text` or `texto`"),
                )
            continue
        raw: dict[str, Any] = {}
        for index, cell in enumerate(cells):
            raw.setdefault(header[index] if index < len(header) and header[index] else f"column_{index + 1}", cell)
        fields = {key: cells[index] for key, index in columns.items() if index < len(cells)}
        rows.append((line, fields, raw))
        spans_lines, short = start - line > 1, len(cells) < len(header)
    if rows and spans_lines and short:
        # An unclosed quote swallows the rest of the file into one short last row: not a comment, a typo.
        result.skipped.append(SkippedRow(rows.pop()[0], "unclosed-quote"))
    return rows


def _json_lines(text: str, result: ImportResult) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    # Split on newlines only: str.splitlines would also cut at U+2028, which JSON strings may hold.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            record = None
        if not isinstance(record, dict):
            result.skipped.append(SkippedRow(number, "not-an-object"))
            continue
        fields: dict[str, Any] = {}
        for key, value in record.items():
            canonical = _ALIASES.get(_word(key))
            if canonical:
                fields.setdefault(canonical, value)
        rows.append((number, fields, record))
    return rows


def _decode(data: bytes) -> tuple[str, bool]:
    """Text and whether it had to be read as Windows-1252 (old Excel's 'CSV' on Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), False
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), True


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _word(value: str) -> str:
    """A header or keyword folded for matching: lower case, no accents, spaces and hyphens as underscores."""
    folded = unicodedata.normalize("NFKD", value.strip().lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[\s\-]+", "_", folded)


def _unreadable(path: Path, error: OSError) -> SourceError:
    reason = error.strerror or type(error).__name__
    return SourceError(_("cannot read import file {path}: {reason}").format(path=path, reason=reason))
