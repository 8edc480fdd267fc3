"""The publication calendar: posts from the project file and its CSV, their checks, CSV/ICS exchange, UTM links, publishing."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from cmday import files
from cmday.clock import day_bounds
from cmday.errors import CmdayError, ConfigError, SourceError, UsageError
from cmday.i18n import _, ngettext
from cmday.labels import state_label
from cmday.models import POST_STATUSES, Post, Project, Utm
from cmday.sheets import neutral, restored
from cmday.sending import NotSent
from cmday.typed import is_day_first, read_written, read_written_clock

if TYPE_CHECKING:
    from cmday.sources.base import Sent
    from cmday.store import Store
    from cmday.workspace import Workspace

READY_STATUSES = ("ready", "scheduled", "published")
UNREADY_STATUSES = ("idea", "draft")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEVERITIES = ("error", "warning", "info")
NOT_READY_WINDOW = timedelta(hours=24)
MASTODON_URL_LENGTH = 23  # Mastodon counts every link as 23 characters, whatever its length
EXPORT_COLUMNS = ("id", "at", "platform", "source", "text", "link", "media", "campaign", "owner", "status")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
REQUIRED_UTM = ("utm_source", "utm_medium", "utm_campaign")

# CSV headers a spreadsheet may use, English and Spanish, compared lowercase and without accents.
CSV_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "key", "clave", "codigo"),
    "at": ("at", "when", "datetime", "date time", "date and time", "fecha y hora", "fecha hora", "cuando", "publicacion"),
    "date": ("date", "day", "fecha", "dia"),
    "time": ("time", "hour", "hora"),
    "platform": ("platform", "network", "channel", "plataforma", "red", "red social", "canal"),
    "source": ("source", "account", "fuente", "cuenta"),
    "text": ("text", "copy", "post", "texto", "contenido", "mensaje", "publicacion texto"),
    "link": ("link", "url", "enlace"),
    "media": ("media", "image", "images", "file", "files", "medios", "imagen", "imagenes", "archivo", "archivos"),
    "campaign": ("campaign", "campana"),
    "owner": ("owner", "author", "responsable", "autor", "autora"),
    "status": ("status", "state", "estado"),
}
# Status words, English and Spanish; the Spanish form is written back into a Spanish sheet.
STATUS_WORDS: dict[str, str] = {
    "idea": "idea", "draft": "draft", "ready": "ready", "scheduled": "scheduled", "published": "published",
    "borrador": "draft", "listo": "ready", "lista": "ready", "preparado": "ready", "preparada": "ready",
    "programado": "scheduled", "programada": "scheduled", "publicado": "published", "publicada": "published",
}
SPANISH_STATUS = {"idea": "idea", "draft": "borrador", "ready": "listo", "scheduled": "programado", "published": "publicado"}
_MEDIA_SEPARATOR = re.compile(r"\s*[|\n]\s*")
_LINK = re.compile(r"https?://[^\s<>\"']+")


def _fold(text: str) -> str:
    from cmday.protocol import fold

    return " ".join(fold(text).replace("_", " ").replace("-", " ").split())


# -- posts as planned ------------------------------------------------------------------------------


@dataclass
class PlannedPost:
    """A post as the calendar holds it: where it was written, its instant, its key, and what cmday did with it."""

    key: str
    post: Post
    at: datetime  # the instant, in UTC
    local: datetime  # the same instant in the project's time zone (a time in a DST gap shows as it will happen)
    platform: str
    origin: str  # "projects/acme.toml posts[3]" or "calendar.csv:7"
    status: str  # as written, or "published" once cmday published it
    url: str | None = None  # where it was published, from the state
    publication: str | None = None  # sending | published | failed, from the state
    publication_error: str | None = None

    @property
    def text(self) -> str:
        return self.post.text

    @property
    def link(self) -> str | None:
        return self.post.link


@dataclass
class CsvFormat:
    """How a calendar CSV is written, remembered so a row appended to it looks like the others."""

    delimiter: str = ","
    encoding: str = "utf-8"
    bom: bool = False
    header: list[str] = field(default_factory=lambda: list(EXPORT_COLUMNS))
    columns: dict[str, int] = field(default_factory=lambda: {name: i for i, name in enumerate(EXPORT_COLUMNS)})
    day_first: bool = False  # dates written dd/mm/yyyy
    spanish: bool = False  # status words in Spanish
    newline: str = "\r\n"


@dataclass
class Plan:
    """One project's calendar: every post, from `[[posts]]` and from its CSV, with the state's publications."""

    project: Project
    zone: ZoneInfo
    root: Path
    posts: list[PlannedPost]
    project_file: str
    csv_path: Path | None = None
    csv_format: CsvFormat | None = None

    def find(self, wanted: str) -> PlannedPost | None:
        """A post by its key, or by an unambiguous start of it."""
        exact = [p for p in self.posts if p.key == wanted]
        if exact:
            return exact[0]
        starts = [p for p in self.posts if p.key.startswith(wanted)] if len(wanted) >= 4 else []
        if len(starts) > 1:
            raise UsageError(
                _("{key!r} is the start of several posts' keys: {keys}").format(
                    key=wanted, keys=", ".join(p.key for p in starts[:5])
                ),
                hint=_("type more of the key"),
            )
        return starts[0] if starts else None

    def between(self, start: datetime, end: datetime) -> list[PlannedPost]:
        return sorted((p for p in self.posts if start <= p.at < end), key=lambda p: (p.at, p.platform))

    def on(self, day: date) -> list[PlannedPost]:
        return self.between(*day_bounds(day, self.zone))

    def active_platforms(self) -> list[str]:
        return self.project.publishing_platforms()

    def publishes_on(self, day: date) -> bool:
        weekdays = self.project.calendar.weekdays
        return weekdays is None or WEEKDAYS[day.weekday()] in weekdays


def post_instant(at: datetime, zone: ZoneInfo) -> datetime:
    """A post's instant: a time without an offset is the project's local time (the first one, when it happens twice)."""
    return at.replace(tzinfo=zone) if at.tzinfo is None else at


def post_key(post: Post, platform: str) -> str:
    """The post's stable key: its `id`, or a hash of time, channel and the start of its text.

    The hash stays the same while `at`, `source`/`platform` and the first 40 characters of the text do;
    give the post an `id` to edit those freely after publishing.
    """
    if post.id:
        return post.id
    basis = "|".join((post.at.isoformat(), post.source or "", platform, " ".join(post.text.split())[:40]))
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:8]


def load_plan(workspace: Workspace, project: Project, store: Store | None = None, missing_csv_ok: bool = False) -> Plan:
    """Every post of the project (file and CSV), with what the state says cmday published.

    `missing_csv_ok` lets `cmday calendar add` start the CSV the project names.
    """
    root = workspace.root
    zone = workspace.project_zone(project)
    project_file = _shown(workspace.project_files.get(project.slug), root) or f"projects/{project.slug}.toml"
    plan = Plan(project=project, zone=zone, root=root, posts=[], project_file=project_file)
    for index, post in enumerate(project.posts, start=1):
        plan.posts.append(_planned(post, project, zone, f"{project_file} posts[{index}]"))
    if project.calendar.file:
        plan.csv_path = root / project.calendar.file
        if not plan.csv_path.is_file():
            if not missing_csv_ok:  # `calendar add` may create the sheet it names
                raise ConfigError(
                    _("{file}: calendar.file: {csv} not found").format(file=project_file, csv=project.calendar.file),
                    hint=_("create it (`cmday calendar add` starts one) or fix the path: it is relative to the workspace"),
                )
        else:
            shown = _shown(plan.csv_path, root)
            rows, plan.csv_format = read_csv_posts(files.read_bytes(plan.csv_path, files.CALENDAR_SHEET, shown), shown, project)
            for post, line in rows:
                plan.posts.append(_planned(post, project, zone, f"{shown}:{line}"))
    if store is not None:
        published = {p.post_key: p for p in store.publications(project.slug)}
        for planned in plan.posts:
            record = published.get(planned.key)
            if record is None:
                continue
            planned.publication = record.status
            planned.publication_error = record.error
            if record.status == "published":
                planned.status, planned.url = "published", record.url
    plan.posts.sort(key=lambda p: (p.at, p.platform, p.key))
    return plan


def _planned(post: Post, project: Project, zone: ZoneInfo, origin: str) -> PlannedPost:
    platform = project.post_platform(post)
    # UTC for arithmetic: datetimes sharing one tzinfo compare and subtract by wall time, wrong across DST changes
    at = post_instant(post.at, zone).astimezone(UTC)
    return PlannedPost(post_key(post, platform), post, at, at.astimezone(zone), platform, origin, post.status)


def _shown(path: Path | None, root: Path) -> str:
    if path is None:
        return ""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# -- dates as people write them -------------------------------------------------------------------


def parse_when(value: str) -> datetime:
    """ISO (`2026-11-25T10:00`, with or without offset) or day first (`25/11/2026 10:00`)."""
    return read_written(value)


def parse_clock(value: str) -> time:
    return read_written_clock(value)


def parse_status(value: str) -> str:
    folded = _fold(value)
    if folded not in STATUS_WORDS:
        raise ValueError(
            _("unknown status {value!r}; use one of: {statuses}").format(value=value, statuses=", ".join(POST_STATUSES))
        )
    return STATUS_WORDS[folded]


# -- CSV --------------------------------------------------------------------------------------------


def decode_csv(raw: bytes, shown: str) -> tuple[str, str, bool]:
    """The text of a CSV, its encoding and whether it had a BOM: UTF-8 (with or without BOM), else Windows-1252 as Excel saves."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8-sig"), "utf-8", bom
    except UnicodeDecodeError as error:
        try:
            return raw.decode("cp1252"), "cp1252", False
        except UnicodeDecodeError:
            raise ConfigError(
                _("{file}: not UTF-8 text (byte {position})").format(file=shown, position=error.start),
                hint=_("save it as \"CSV UTF-8\""),
            ) from None


def _header_columns(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        folded = _fold(cell)
        for name, words in CSV_HEADERS.items():
            if folded in words and name not in found:
                found[name] = index
                break
    return found


def _sniff(text: str, shown: str) -> tuple[str, list[str], dict[str, int]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    best: tuple[int, str, list[str], dict[str, int]] | None = None
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([first], delimiter=delimiter), [])
        columns = _header_columns(cells)
        if best is None or len(columns) > best[0]:
            best = (len(columns), delimiter, cells, columns)
    assert best is not None
    _count, delimiter, cells, columns = best
    if "at" not in columns and "date" not in columns:
        raise ConfigError(
            _("{file}:1: the header names no date column (at, date, fecha)").format(file=shown),
            hint=_("the first row must name the columns: at;platform;text;link;media;campaign;owner;status"),
        )
    if "platform" not in columns and "source" not in columns:
        raise ConfigError(
            _("{file}:1: the header names no platform or source column (platform, plataforma, source)").format(file=shown),
            hint=_("the first row must name the columns: at;platform;text;link;media;campaign;owner;status"),
        )
    return delimiter, cells, columns


def read_csv_posts(raw: bytes, shown: str, project: Project | None) -> tuple[list[tuple[Post, int]], CsvFormat]:
    """The posts of a calendar CSV with their line numbers, and how the file is written.

    Semicolon, comma or tab; UTF-8 with or without BOM (or Windows-1252); dates ISO or dd/mm/yyyy HH:MM;
    one `at` column or separate `date` and `time`. Rows with every cell empty are skipped; columns
    cmday does not know (notes, KPIs) are left alone.
    """
    text, encoding, bom = decode_csv(raw, shown)
    delimiter, header, columns = _sniff(text, shown)
    form = CsvFormat(delimiter, encoding, bom, header, columns, newline="\r\n" if "\r\n" in text else "\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    posts: list[tuple[Post, int]] = []
    header_seen = False
    line = 1
    for row in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if not header_seen:
            header_seen = True
            continue
        # `restored`: a cell cmday protected from Excel's formulas (`'=...`) reads back as it was written
        cells = {name: (restored(row[index].strip()) if index < len(row) else "") for name, index in columns.items()}
        posts.append((_row_post(cells, form, shown, start, project), start))
    return posts, form


def _row_post(cells: dict[str, str], form: CsvFormat, shown: str, line: int, project: Project | None) -> Post:
    def fail(name: str, what: str) -> ConfigError:
        column = form.columns.get(name)
        label = form.header[column].strip() if column is not None and column < len(form.header) else name
        return ConfigError(
            _("{file}:{line}: {field}: {what}").format(file=shown, line=line, field=label or name, what=what),
            hint=_("fix that cell in the sheet and run the command again"),
        )

    data: dict[str, Any] = {}
    # each cell read on its own, so an error names the column that holds it (`Hora`, not `Fecha`)
    reading = "at"
    try:
        if cells.get("at"):
            data["at"] = parse_when(cells["at"])
            form.day_first = form.day_first or is_day_first(cells["at"])
        elif cells.get("date"):
            reading = "date"
            moment = parse_when(cells["date"])
            form.day_first = form.day_first or is_day_first(cells["date"])
            reading = "time"
            data["at"] = datetime.combine(moment.date(), parse_clock(cells["time"])) if cells.get("time") else moment
        else:
            raise fail("at", _("no date"))
    except ValueError as error:
        raise fail(reading, str(error)) from None
    for name in ("id", "source", "text", "link", "campaign", "owner"):
        if cells.get(name):
            data[name] = cells[name]
    if cells.get("platform"):
        data["platform"] = cells["platform"].lower()
        if project is not None:
            from cmday.typed import known_platforms, nearest

            known = known_platforms([project])
            if data["platform"] not in known:
                suggestion = nearest(data["platform"], known)
                raise fail("platform", _("unknown platform {value!r}; known: {known}").format(value=cells["platform"], known=", ".join(known))
                           + (" — " + _("did you mean {suggestion!r}?").format(suggestion=suggestion) if suggestion else ""))
    if cells.get("media"):
        data["media"] = [m for m in _MEDIA_SEPARATOR.split(cells["media"]) if m]
    if cells.get("status"):
        try:
            data["status"] = parse_status(cells["status"])
        except ValueError as error:
            raise fail("status", str(error)) from None
        form.spanish = form.spanish or _fold(cells["status"]) not in POST_STATUSES
    try:
        post = Post.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(step) for step in first["loc"]) or "row"
        raise fail(name, str(first["msg"]).removeprefix("Value error, ")) from None
    if project is not None and post.source and project.source(post.source) is None:
        known = ", ".join(s.id for s in project.sources) or _("none")
        raise fail("source", _("no source {source!r} in the project (sources: {known})").format(source=post.source, known=known))
    return post


def csv_cells(post: Post, form: CsvFormat, zone: ZoneInfo, status: str | None = None) -> list[str]:
    """One post as a row of a CSV written in `form`."""
    at = post.at if post.at.tzinfo is None or not form.day_first else post.at.astimezone(zone).replace(tzinfo=None)
    status = status or post.status
    values = {
        "id": post.id or "",
        "at": _format_at(at, form.day_first),
        "date": at.strftime("%d/%m/%Y") if form.day_first else at.date().isoformat(),
        "time": at.strftime("%H:%M"),
        "platform": post.platform or "",
        "source": post.source or "",
        "text": post.text,
        "link": post.link or "",
        "media": "|".join(post.media),
        "campaign": post.campaign,
        "owner": post.owner,
        "status": SPANISH_STATUS[status] if form.spanish else status,
    }
    if "at" in form.columns:
        values["date"] = values["time"] = ""
    elif "time" not in form.columns:
        values["date"] = values["at"]  # one date column holds the time too
    row = [""] * len(form.header)
    for name, index in form.columns.items():
        row[index] = neutral(values.get(name, ""))  # a text starting with = + - @ is never run as a formula by Excel
    return row


def _format_at(at: datetime, day_first: bool) -> str:
    if day_first:
        return at.strftime("%d/%m/%Y %H:%M")
    text = at.isoformat(timespec="minutes" if at.second == 0 and at.microsecond == 0 else "seconds")
    return text


def export_csv(plan: Plan, delimiter: str = ",") -> str:
    """Every post as CSV with English headers, ISO times as written (local, or with their offset)."""
    form = CsvFormat(delimiter=delimiter)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for planned in plan.posts:
        writer.writerow(csv_cells(planned.post, form, plan.zone, planned.status))
    return buffer.getvalue()


def export_xlsx(plan: Plan) -> bytes:
    """The calendar as an Excel workbook: one sheet per month, times as Excel dates in the project's time zone."""
    from cmday.sheets import Sheet, write_workbook

    months: dict[str, list[list[Any]]] = {}
    for planned in plan.posts:
        post = planned.post
        months.setdefault(f"{planned.local:%Y-%m}", []).append([
            post.id or "", planned.local.replace(tzinfo=None), planned.platform if post.platform else "", post.source or "",
            post.text, post.link or "", "|".join(post.media), post.campaign, post.owner, planned.status,
        ])
    return write_workbook([Sheet(month, list(EXPORT_COLUMNS), rows) for month, rows in sorted(months.items())])


def read_xlsx_posts(raw: bytes, shown: str, project: Project | None) -> list[tuple[Post, int]]:
    """The posts of an Excel workbook, every sheet, each read like a calendar sheet (first row: the column names)."""
    from cmday.sheets import read_workbook

    try:
        sheets = read_workbook(raw)
    except Exception as error:  # openpyxl raises zipfile, KeyError or its own errors on a file that is not a workbook
        raise ConfigError(_("{file}: not an Excel workbook ({reason})").format(file=shown, reason=str(error)[:120])) from None
    posts: list[tuple[Post, int]] = []
    for title, rows in sheets:
        where = f"{shown} [{title}]"
        header_at = next((i for i, row in enumerate(rows) if any(c not in (None, "") for c in row)), None)
        if header_at is None:
            continue  # an empty sheet
        header = [_sheet_text(c) for c in rows[header_at]]
        columns = _header_columns(header)
        if "at" not in columns and "date" not in columns:
            raise ConfigError(_("{file}:1: the header names no date column (at, date, fecha)").format(file=where))
        form = CsvFormat(header=header, columns=columns)
        for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
            cells = {name: (_sheet_text(row[index]) if index < len(row) else "") for name, index in columns.items()}
            if not any(cells.values()):
                continue
            posts.append((_row_post(cells, form, where, number, project), number))
    return posts


def _sheet_text(value: Any) -> str:
    """A workbook cell as the text a calendar sheet would hold: dates ISO, whole numbers without `.0`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _missing_columns(post: Post, form: CsvFormat) -> list[str]:
    wanted = {
        "platform": bool(post.platform), "source": bool(post.source), "text": bool(post.text), "link": bool(post.link),
        "media": bool(post.media), "campaign": bool(post.campaign), "owner": bool(post.owner), "id": bool(post.id),
        "status": post.status != "draft",  # a sheet without a status column reads every row as a draft
    }
    return [name for name, needed in wanted.items() if needed and name not in form.columns]


# -- iCalendar ---------------------------------------------------------------------------------------


ICS_UID_DOMAIN = ".cmday"


def ics_uid(key: str, slug: str) -> str:
    """A UID no other calendar uses (`<post key>@<project>.cmday`), stable while the post keeps its key (its `id`, if it has one)."""
    return f"{key}@{slug}{ICS_UID_DOMAIN}"


def status_word(status: str, language: str) -> str:
    """A post's status in the words of the project's sheet: Spanish ones for a Spanish project."""
    return SPANISH_STATUS.get(status, status) if language == "es" else status


def export_ics(plan: Plan, now: datetime, language: str = "en") -> bytes:
    """One VEVENT per post (local times with their VTIMEZONE), for Google, Outlook, Thunderbird; SUMMARY in `language`."""
    import icalendar

    from cmday import __version__
    from cmday.textsafe import clean, one_line

    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//cmday//cmday {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("{name}: publications").format(name=clean(plan.project.name)))
    calendar.add("x-wr-timezone", plan.zone.key)
    for planned in plan.posts:
        post = planned.post
        start = post.at.replace(tzinfo=plan.zone) if post.at.tzinfo is None else post.at.astimezone(UTC)
        # every text a calendar shows passes `clean`: an ESC or other control byte in a post never reaches Outlook
        text, link = clean(post.text), clean(post.link) if post.link else None
        event = icalendar.Event()
        event.add("uid", ics_uid(planned.key, plan.project.slug))
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=15))
        event.add("summary", f"{clean(planned.platform)} · {status_word(planned.status, language)} · {one_line(post.text, 60)}")
        event.add("description", text + (f"\n\n{link}" if link else ""))
        if link:
            event.add("url", link)
        event.add("categories", [clean(planned.platform), planned.status] + ([clean(post.campaign)] if post.campaign else []))
        event.add("status", "CONFIRMED" if planned.status in READY_STATUSES else "TENTATIVE")
        event.add("x-cmday-platform", icalendar.vText(clean(planned.platform)))
        event.add("x-cmday-status", icalendar.vText(planned.status))
        event.add("x-cmday-text", icalendar.vText(text))
        for name, value in (
            ("x-cmday-source", post.source), ("x-cmday-link", link), ("x-cmday-media", "|".join(post.media)),
            ("x-cmday-campaign", post.campaign), ("x-cmday-owner", post.owner), ("x-cmday-published-url", planned.url),
        ):
            if value:
                event.add(name, icalendar.vText(clean(value)))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def read_ics_posts(raw: bytes, shown: str, zone: ZoneInfo, default_platform: str | None = None) -> list[Post]:
    """Posts from an iCalendar file: cmday's own export whole, other calendars' events as far as they go."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(raw)
    except ValueError as error:
        raise ConfigError(_("{file}: not an iCalendar file ({reason})").format(file=shown, reason=str(error)[:120])) from None
    posts = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        where = _("{file}: event {number}").format(file=shown, number=number)
        try:
            start = event.decoded("dtstart")
        except KeyError:
            raise ConfigError(_("{where}: no DTSTART").format(where=where)) from None
        if isinstance(start, datetime):
            if start.tzinfo is not None and getattr(start.tzinfo, "key", None) == zone.key:
                start = start.replace(tzinfo=None)  # the project's own zone: written as local time
            elif start.tzinfo is None:
                pass  # floating time: the project's local time
        else:
            start = datetime.combine(start, time(0))
        categories = _categories(event)
        platform = _ics_text(event, "x-cmday-platform") or next(
            (c.lower() for c in categories if c.lower() not in POST_STATUSES), None
        ) or default_platform
        status = _ics_text(event, "x-cmday-status") or next((c.lower() for c in categories if c.lower() in POST_STATUSES), None)
        link = _ics_text(event, "x-cmday-link") or _ics_text(event, "url")
        text = _ics_text(event, "x-cmday-text")
        if text is None:
            text = _ics_text(event, "description") or _ics_text(event, "summary") or ""
            if link and text.rstrip().endswith(link):
                text = text.rstrip()[: -len(link)].rstrip()
        data: dict[str, Any] = {"at": start, "text": text, "platform": platform, "link": link}
        for key, name in (("x-cmday-source", "source"), ("x-cmday-campaign", "campaign"), ("x-cmday-owner", "owner")):
            value = _ics_text(event, key)
            if value:
                data[name] = value
        media = _ics_text(event, "x-cmday-media")
        if media:
            data["media"] = [m for m in media.split("|") if m]
        if status:
            data["status"] = status
        uid = _ics_text(event, "uid")
        if uid and uid.endswith(ICS_UID_DOMAIN) and "@" in uid:
            uid = uid.rsplit("@", 1)[0]  # one of ours: the post's key before `@<project>.cmday`
        if not platform and not data.get("source"):
            raise UsageError(
                _("{where} ({uid}) names no platform").format(where=where, uid=uid or "?"),
                hint=_("pass --platform for events that come from another calendar"),
            )
        try:
            post = Post.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as error:
            first = error.errors()[0]
            raise ConfigError(
                _("{where}: {field}: {what}").format(
                    where=where, field=".".join(str(s) for s in first["loc"]) or "event",
                    what=str(first["msg"]).removeprefix("Value error, "),
                )
            ) from None
        if uid and uid != post_key(post, post.platform or "") and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", uid):
            post = post.model_copy(update={"id": uid})  # keeps the key it had where it came from
        posts.append(post)
    return posts


def _ics_text(event: Any, key: str) -> str | None:
    import icalendar

    value = event.get(key)
    if value is None:
        return None
    if isinstance(value, icalendar.vText):
        return str(value)
    # X- properties come back as written: undo RFC 5545's TEXT escapes (\\ \; \, \n)
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], str(value))


def _categories(event: Any) -> list[str]:
    value = event.get("categories")
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in values:
        found.extend(str(c) for c in getattr(item, "cats", [item]))
    return found


def read_posts_file(path: Path, project: Project, zone: ZoneInfo, fmt: str | None, default_platform: str | None) -> list[Post]:
    """Posts from a CSV or ICS file to import, by `fmt` or by the file's extension."""
    try:
        raw = files.read_bytes(path, files.CALENDAR_SHEET, error=UsageError)
    except OSError as error:
        raise UsageError(_("{file}: cannot be read ({reason})").format(file=path, reason=error.strerror)) from None
    suffix = path.suffix.lower()
    kind = fmt or ("ics" if suffix in (".ics", ".ical", ".ifb") else "xlsx" if suffix in (".xlsx", ".xlsm") else "csv")
    if kind == "ics":
        posts = read_ics_posts(raw, str(path), zone, default_platform)
    elif kind in ("csv", "xlsx"):
        posts = []
        rows = read_xlsx_posts(raw, str(path), project) if kind == "xlsx" else read_csv_posts(raw, str(path), project)[0]
        for post, _line in rows:
            if not post.platform and not post.source and default_platform:
                post = post.model_copy(update={"platform": default_platform})
            posts.append(post)
    else:
        raise UsageError(_("unknown format {fmt!r}; use csv, xlsx or ics").format(fmt=fmt))
    for post in posts:
        if post.source and project.source(post.source) is None:
            raise UsageError(
                _("{file}: a post names source {source!r}, which is not among the project's [[sources]]").format(
                    file=path, source=post.source
                )
            )
    return posts


# -- writing posts back ------------------------------------------------------------------------------


def add_posts(workspace: Workspace, project: Project, posts: list[Post]) -> Path:
    """Add posts where the project keeps its calendar: its CSV, or `[[posts]]` in its file, comments and all."""
    if project.calendar.file:
        return _append_csv(workspace, project, posts)
    return _append_toml(workspace, project, posts)


def _append_toml(workspace: Workspace, project: Project, posts: list[Post]) -> Path:
    import tomlkit

    from cmday.workspace import parse_text

    path = workspace.project_files[project.slug]
    shown = _shown(path, workspace.root)
    text = files.read_text(path, files.SETTINGS, shown)
    document = tomlkit.parse(text)
    existing = document.get("posts")
    if existing is None:
        if not text.endswith("\n\n"):
            document.add(tomlkit.nl())  # the first post stands apart from the comments above it
        existing = tomlkit.aot()
        document.append("posts", existing)
    for post in posts:
        table = _toml_table(post)
        if isinstance(existing, tomlkit.items.AoT):
            existing.append(table)
        else:  # `posts = [{...}, ...]`: an inline array, kept as one
            inline = tomlkit.inline_table()
            inline.update({k: v for k, v in table.items()})
            existing.append(inline)
    written = tomlkit.dumps(document)
    parse_text(written, Project, shown)  # never write a file cmday could not read back
    _write_atomically(path, written.encode("utf-8"))
    return path


def _toml_table(post: Post) -> Any:
    import tomlkit

    table = tomlkit.table()
    table.add("at", post.at)
    if post.id:
        table.add("id", post.id)
    if post.source:
        table.add("source", post.source)
    if post.platform:
        table.add("platform", post.platform)
    table.add("text", post.text)
    if post.link:
        table.add("link", post.link)
    if post.media:
        table.add("media", [({"path": m, "alt": post.media_alt[m]} if m in post.media_alt else m) for m in post.media])
    if post.campaign:
        table.add("campaign", post.campaign)
    if post.owner:
        table.add("owner", post.owner)
    table.add("status", post.status)
    table.add(tomlkit.nl())  # a blank line after it, as a person leaves between tables
    return table


def _append_csv(workspace: Workspace, project: Project, posts: list[Post]) -> Path:
    path = workspace.root / (project.calendar.file or "")
    shown = _shown(path, workspace.root)
    zone = workspace.project_zone(project)
    if path.is_file():
        raw = files.read_bytes(path, files.CALENDAR_SHEET, shown)
        form = read_csv_posts(raw, shown, project)[1]
    else:
        raw = b""
        language = project.project.language or workspace.config.language
        form = CsvFormat(delimiter=";" if language == "es" else ",", bom=True, spanish=language == "es")
    for post in posts:
        missing = _missing_columns(post, form)
        if missing:
            raise UsageError(
                _("{file} has no column for: {columns}").format(file=shown, columns=", ".join(missing)),
                hint=_("add the column to the sheet's first row, or leave that field out"),
            )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=form.delimiter, lineterminator=form.newline)
    if not raw:
        writer.writerow(form.header)
    for post in posts:
        writer.writerow(csv_cells(post, form, zone))
    addition = buffer.getvalue()
    text = decode_csv(raw, shown)[0] if raw else ""
    if text and not text.endswith(("\n", "\r")):
        addition = form.newline + addition
    try:
        encoded = addition.encode(form.encoding)
    except UnicodeEncodeError as error:
        raise UsageError(
            _("{file} is saved as {encoding}, which cannot hold {char!r}").format(
                file=shown, encoding=form.encoding, char=error.object[error.start : error.end]
            ),
            hint=_("save the sheet as \"CSV UTF-8\" and try again"),
        ) from None
    prefix = b"\xef\xbb\xbf" if not raw and form.bom else b""
    _write_atomically(path, raw + prefix + encoded if raw else prefix + encoded)
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace the file whole or not at all, keeping its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- UTM ------------------------------------------------------------------------------------------


@dataclass
class TaggedLink:
    url: str
    changes: list[tuple[str, str, str]]  # (tag, as given, as written) where the naming rules changed a value


def utm_value(value: str, rules: Utm) -> str:
    """A tag value as the naming rules want it: lowercase, dashes for spaces."""
    written = value.strip()
    if rules.lowercase:
        written = written.lower()
    if rules.no_spaces:
        written = re.sub(r"\s+", "-", written)
    return written


def build_utm(
    url: str,
    source: str,
    campaign: str,
    medium: str | None = None,
    content: str | None = None,
    term: str | None = None,
    rules: Utm | None = None,
) -> TaggedLink:
    """`url` with UTM tags, keeping its other query parameters as written, and its fragment.

    Tags the URL already has are replaced by the new ones; values follow the naming rules, and a
    campaign outside the allowed list is refused.
    """
    rules = rules or Utm()
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            _("{url!r} is not a web address").format(url=url), hint=_("write it whole: https://acme.example/page")
        )
    wanted = {
        "utm_source": source,
        "utm_medium": medium or rules.medium,
        "utm_campaign": campaign,
        "utm_term": term,
        "utm_content": content,
    }
    tags: list[tuple[str, str]] = []
    changes: list[tuple[str, str, str]] = []
    for key in UTM_KEYS:
        given = wanted[key]
        if given is None or not given.strip():
            if key in REQUIRED_UTM:
                raise UsageError(_("{tag} cannot be empty").format(tag=key))
            continue
        written = utm_value(given, rules)
        if written != given:
            changes.append((key, given, written))
        tags.append((key, written))
    campaign_written = dict(tags)["utm_campaign"]
    if rules.campaigns and campaign_written not in [utm_value(c, rules) for c in rules.campaigns]:
        raise UsageError(
            _("campaign {campaign!r} is not among the project's campaigns: {allowed}").format(
                campaign=campaign_written, allowed=", ".join(rules.campaigns)
            ),
            hint=_("use one of them, or add it to [utm] campaigns"),
        )
    setting = {key for key, _value in tags}
    kept = [
        piece for piece in parts.query.split("&")
        if piece and unquote_plus(piece.split("=", 1)[0]).lower() not in setting
    ]
    added = [f"{key}={quote(value, safe='-._~')}" for key, value in tags]
    query = "&".join(kept + added)
    return TaggedLink(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment)), changes)


def own_domain(url: str, rules: Utm) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in rules.domains)


def utm_tags(url: str) -> dict[str, str]:
    return {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k.lower().startswith("utm_")}


def naming_breaks(tags: dict[str, str], rules: Utm) -> list[str]:
    """What in these UTM tags breaks the naming rules, said plainly."""
    said = []
    for key, value in tags.items():
        if rules.lowercase and value != value.lower():
            said.append(_("{tag}={value!r} has capitals").format(tag=key, value=value))
        if rules.no_spaces and re.search(r"\s", value):
            said.append(_("{tag}={value!r} has spaces").format(tag=key, value=value))
    campaign = tags.get("utm_campaign")
    if campaign and rules.campaigns and campaign not in rules.campaigns:
        said.append(_("campaign {value!r} is not among: {allowed}").format(value=campaign, allowed=", ".join(rules.campaigns)))
    return said


# -- text -----------------------------------------------------------------------------------------


def taboo_hits(text: str, project: Project) -> list[str]:
    """The project's taboo topics a text touches (accent- and case-insensitive, whole words).

    The one place the calendar asks; it defers to the protocol's conduct checks so there is one copy of the rule.
    """
    from cmday.conduct import taboo_hits as conduct_taboo_hits

    return conduct_taboo_hits(text, project)


def text_limit(platform: str, project: Project) -> int | None:
    from cmday.conduct import PLATFORM_LIMITS

    return project.calendar.text_limits.get(platform) or PLATFORM_LIMITS.get(platform)


def post_length(text: str, link: str | None, platform: str) -> int:
    """A post's length as its platform counts it, with the link added when the text does not hold it.

    Bluesky counts graphemes (user-perceived characters; see `cmday.textsafe.count_graphemes` for the
    approximation without a Unicode-segmentation dependency); Mastodon counts every link as 23 characters;
    other platforms count characters.
    """
    from cmday.textsafe import count_graphemes

    whole = text if not link or link in text else (f"{text}\n\n{link}" if text else link)
    if platform == "bluesky":
        return count_graphemes(whole)
    if platform == "mastodon":
        return len(_LINK.sub("x" * MASTODON_URL_LENGTH, whole))
    return len(whole)


# -- time -------------------------------------------------------------------------------------------


def local_time_problem(at: datetime, zone: ZoneInfo) -> str | None:
    """`gap` when a local time does not exist that day (clocks jump forward), `ambiguous` when it happens twice."""
    if at.tzinfo is not None:
        return None
    first, second = at.replace(tzinfo=zone, fold=0), at.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)
    return "gap" if back != at.replace(fold=0) else "ambiguous"


def _when(moment: datetime) -> str:
    return f"{_day(moment.date())} {_clock(moment)}"


def _day(day: date) -> str:
    from cmday.i18n import format_short_day

    return format_short_day(day)


def _clock(moment: datetime) -> str:
    from cmday.i18n import format_time

    return format_time(moment)


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return _("{count} min").format(count=minutes)
    if minutes < 48 * 60:
        return _("{count} h").format(count=minutes // 60)
    return ngettext("{count} day", "{count} days", minutes // 1440).format(count=minutes // 1440)


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}" if text else ""


# -- the checks -------------------------------------------------------------------------------------


@dataclass
class Problem:
    severity: str  # error | warning | info
    code: str
    message: str
    post_key: str | None = None
    day: date | None = None
    platform: str | None = None


PROBLEM_CODES = (
    "past", "dst-gap", "dst-ambiguous", "not-ready", "tomorrow-missing", "media-missing", "alt-missing", "link-broken", "empty",
    "too-long", "taboo", "utm-missing", "utm-naming", "utm-mismatch", "too-many", "too-close", "gap",
    "horizon-short", "duplicate", "links-not-checked",
)
# Problems that stop `cmday publish` (the others are about timing or the calendar as a whole).
BLOCKING = ("media-missing", "empty", "too-long", "taboo")


def check_plan(
    plan: Plan,
    now: datetime,
    days: int | None = None,
    links: dict[str, str | None] | None = None,
    links_skipped: str | None = None,
) -> list[Problem]:
    """Every problem of the calendar from now to `days` ahead (the horizon by default), errors first.

    `links` holds what HEAD requests found (URL -> None when it answered, else why not); it is
    gathered apart (`verify_links`) so the checks stay plain and offline.
    """
    settings = plan.project.calendar
    zone = plan.zone
    today = now.astimezone(zone).date()
    horizon = days or settings.horizon_days
    until = day_bounds(today + timedelta(days=horizon), zone)[1]
    tomorrow = today + timedelta(days=1)
    soon = day_bounds(tomorrow, zone)[1]  # the "tomorrow" check covers everything due before tomorrow ends
    problems: list[Problem] = []
    for planned in plan.posts:
        if planned.status == "published" or planned.at >= until:
            continue
        if planned.at < now:
            problems.append(_past(plan, planned, now))  # nothing else matters for a post whose time is gone
        else:
            problems.extend(_post_problems(plan, planned, now, soon, links or {}))
    problems.extend(_duplicates(plan))
    problems.extend(_tomorrow(plan, tomorrow))
    problems.extend(_saturation(plan, today, until))
    problems.extend(_horizon(plan, today, horizon))
    if links_skipped:
        problems.append(Problem("info", "links-not-checked", links_skipped))
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    return sorted(problems, key=lambda p: (rank[p.severity], p.day or date.min, p.platform or "", p.code))


def _said(planned: PlannedPost) -> str:
    return f"{_when(planned.local)} {planned.platform}"


def _past(plan: Plan, planned: PlannedPost, now: datetime) -> Problem:
    missed = planned.status in ("ready", "scheduled")  # meant to go out; a stale draft is housekeeping
    message = _("was due {ago} ago and is not published (status: {status})").format(ago=_span(now - planned.at), status=state_label(planned.status))
    return Problem("error" if missed else "warning", "past", f"{_said(planned)}: {message}", planned.key, planned.local.date(), planned.platform)


def _post_problems(plan: Plan, planned: PlannedPost, now: datetime, soon: datetime, links: dict[str, str | None]) -> list[Problem]:
    """What is wrong with one unpublished post: its time, readiness, media, text and links."""
    post, project = planned.post, plan.project
    local = planned.local
    day = local.date()
    said = _said(planned)

    def problem(severity: str, code: str, message: str) -> Problem:
        return Problem(severity, code, f"{said}: {message}", planned.key, day, planned.platform)

    found: list[Problem] = []
    if planned.at >= now:
        kind = local_time_problem(post.at, plan.zone)
        if kind == "gap":
            found.append(problem("error", "dst-gap", _(
                "{time} does not exist in {zone} that day: the clocks jump forward an hour; as written it would go out at {actual}"
            ).format(time=_clock(post.at), zone=plan.zone.key, actual=f"{_clock(local)} {local.strftime('%Z')}")))
        elif kind == "ambiguous":
            found.append(problem("warning", "dst-ambiguous", _(
                "{time} happens twice in {zone} that day: the clocks go back an hour; cmday takes the first one ({offset}); "
                "write the offset to choose, e.g. {example}"
            ).format(
                time=_clock(post.at), zone=plan.zone.key, offset=_offset(local),
                example=post.at.replace(tzinfo=None).isoformat() + _offset(post.at.replace(tzinfo=plan.zone, fold=1)),
            )))
    if planned.at >= now and planned.at - now < NOT_READY_WINDOW and planned.status in UNREADY_STATUSES:
        found.append(problem("error", "not-ready", _("due in {span} and still {status}").format(
            span=_span(planned.at - now), status=state_label(planned.status))))
    urgent = planned.at < soon
    for media in post.media:
        path = Path(media).expanduser()
        if not (path if path.is_absolute() else plan.root / path).is_file():
            found.append(problem("error" if urgent else "warning", "media-missing",
                                 _("media file {file} not found (relative to the workspace)").format(file=media)))
        elif not post.media_alt.get(media):
            found.append(problem("warning", "alt-missing",
                                 _("{file} has no alt text: people using screen readers miss it; write "
                                   "media = [{{ path = \"{file}\", alt = \"...\" }}]").format(file=media)))
    if planned.status in ("ready", "scheduled") and not post.text.strip() and not post.media:
        found.append(problem("error", "empty", _("ready but has no text and no media")))
    limit = text_limit(planned.platform, project)
    if limit:
        length = post_length(post.text, post.link, planned.platform)
        if length > limit:
            unit = _("graphemes") if planned.platform == "bluesky" else _("characters")
            found.append(problem("error", "too-long", _("{length} {unit}, over the {limit} {platform} allows").format(
                length=length, unit=unit, limit=limit, platform=planned.platform)))
    hits = taboo_hits(post.text, project)
    if hits:
        found.append(problem("error", "taboo", _("touches a taboo topic: {topics}").format(topics=", ".join(hits))))
    for link in _post_links(post):
        found.extend(problem(*said_link) for said_link in _link_problems(link, planned, project.utm))
        if link in links and links[link]:
            found.append(problem("error" if urgent else "warning", "link-broken",
                                 _("link {link} does not answer: {reason}").format(link=link, reason=links[link])))
    return found


def _post_links(post: Post) -> list[str]:
    found = [link.rstrip(".,;:!?)]}»…") for link in _LINK.findall(post.text)]  # "see https://x.example/a." ends before the dot
    if post.link and post.link not in found:
        found.insert(0, post.link)
    return found


def _link_problems(link: str, planned: PlannedPost, rules: Utm) -> list[tuple[str, str, str]]:
    if not own_domain(link, rules):
        return []
    tags = utm_tags(link)
    missing = [key for key in REQUIRED_UTM if not tags.get(key)]
    if missing:
        return [("warning", "utm-missing", _("link {link} to the brand's site lacks {tags}; `cmday utm` builds it").format(
            link=link, tags=", ".join(missing)))]
    said = [("warning", "utm-naming", _("link {link}: {what}").format(link=link, what=what)) for what in naming_breaks(tags, rules)]
    source = tags["utm_source"].lower()
    if source != planned.platform and source in _known_platforms():
        said.append(("warning", "utm-mismatch", _("link tagged utm_source={source} but the post goes to {platform}").format(
            source=source, platform=planned.platform)))
    campaign = planned.post.campaign
    if campaign and tags["utm_campaign"] != utm_value(campaign, rules):
        said.append(("warning", "utm-mismatch", _("link tagged utm_campaign={tagged} but the post's campaign is {campaign}").format(
            tagged=tags["utm_campaign"], campaign=campaign)))
    return said


def _known_platforms() -> set[str]:
    from cmday.conduct import PLATFORM_LIMITS
    from cmday.models import SOURCE_PLATFORMS

    return set(PLATFORM_LIMITS) | set(SOURCE_PLATFORMS) | {"threads", "youtube", "pinterest"}


def _duplicates(plan: Plan) -> list[Problem]:
    counts = Counter(p.key for p in plan.posts)
    found = []
    for key, count in counts.items():
        if count > 1:
            places = [p.origin for p in plan.posts if p.key == key]
            first = next(p for p in plan.posts if p.key == key)
            found.append(Problem("warning", "duplicate", ngettext("{count} post has the key {key}: {places}; give one an id", "{count} posts share the key {key}: {places}; give one an id", count).format(
                count=count, key=key, places=", ".join(places)), key, first.local.date(), first.platform))
    return found


def _tomorrow(plan: Plan, tomorrow: date) -> list[Problem]:
    if not plan.publishes_on(tomorrow):
        return []
    posts = plan.on(tomorrow)
    found = []
    for platform in plan.active_platforms():
        wanted = plan.project.calendar.per_platform("min_per_day", platform)
        ready = sum(1 for p in posts if p.platform == platform and p.status in READY_STATUSES)
        if ready < wanted:
            found.append(Problem("error", "tomorrow-missing", ngettext("tomorrow ({day}) {platform} has {ready} of the {wanted} ready post it needs",
                                                                        "tomorrow ({day}) {platform} has {ready} of the {wanted} ready posts it needs", wanted).format(
                day=_day(tomorrow), platform=platform, ready=ready, wanted=wanted), None, tomorrow, platform))
    return found


def _saturation(plan: Plan, today: date, until: datetime) -> list[Problem]:
    found = []
    counted = [p for p in plan.posts if p.status != "idea" and day_bounds(today, plan.zone)[0] <= p.at < until]
    by_day: dict[tuple[str, date], list[PlannedPost]] = defaultdict(list)
    for planned in counted:
        by_day[(planned.platform, planned.local.date())].append(planned)
    for (platform, day), posts in sorted(by_day.items(), key=lambda item: (item[0][1], item[0][0])):
        most = plan.project.calendar.per_platform("max_per_day", platform)
        if most and len(posts) > most:  # 0: no limit
            found.append(Problem("warning", "too-many", ngettext("{day} {platform}: {count} post, more than the {most} a day the project allows",
                                                          "{day} {platform}: {count} posts, more than the {most} a day the project allows", len(posts)).format(
                day=_day(day), platform=platform, count=len(posts), most=most), None, day, platform))
    by_platform: dict[str, list[PlannedPost]] = defaultdict(list)
    for planned in counted:
        by_platform[planned.platform].append(planned)
    for platform, posts in by_platform.items():
        gap = timedelta(minutes=plan.project.calendar.per_platform("min_gap_minutes", platform))
        posts.sort(key=lambda p: p.at)
        for before, after in zip(posts, posts[1:]):
            if after.at - before.at < gap and after.key != before.key:
                found.append(Problem("warning", "too-close", _("{time} {platform}: {minutes} min after the post at {before}; the project wants {gap} min between posts").format(
                    time=_when(after.local), platform=platform, minutes=int((after.at - before.at).total_seconds() // 60),
                    before=_clock(before.local), gap=int(gap.total_seconds() // 60)), after.key, after.local.date(), platform))
    return found


def empty_days(plan: Plan, today: date, days: int) -> dict[str, list[date]]:
    """Per active platform, the publishing days from tomorrow to `days` ahead with nothing planned on it."""
    planned: set[tuple[str, date]] = {(p.platform, p.local.date()) for p in plan.posts}
    result: dict[str, list[date]] = {}
    for platform in plan.active_platforms():
        result[platform] = [
            day for offset in range(1, days + 1)
            if plan.publishes_on(day := today + timedelta(days=offset)) and (platform, day) not in planned
        ]
    return result


def _horizon(plan: Plan, today: date, horizon: int) -> list[Problem]:
    found = []
    for platform, days in empty_days(plan, today, horizon).items():
        for day in days:
            found.append(Problem("warning", "gap", _("{day} {platform}: nothing planned").format(
                day=_day(day), platform=platform), None, day, platform))
    ideal = plan.project.calendar.ideal_horizon_days
    furthest = max((p.local.date() for p in plan.posts), default=None)
    covered = (furthest - today).days if furthest else 0
    if covered < ideal:
        found.append(Problem("info", "horizon-short", ngettext("planned {covered} day ahead; aim for {horizon} at least, {ideal} is ideal",
                                                                 "planned {covered} days ahead; aim for {horizon} at least, {ideal} is ideal", max(covered, 0)).format(
            covered=max(covered, 0), horizon=plan.project.calendar.horizon_days, ideal=ideal)))
    return found


def verify_links(urls: Iterable[str], timeout: float = 10.0) -> dict[str, str | None]:
    """HEAD each link (GET when HEAD is refused): URL -> None when it answers below 400, else why not."""
    import asyncio

    return asyncio.run(_verify_links(sorted(set(urls)), timeout))


async def _verify_links(urls: list[str], timeout: float) -> dict[str, str | None]:
    import asyncio

    from cmday.http import HttpClient

    answered = tuple(range(100, 600))
    limit = asyncio.Semaphore(8)

    async def one(http: Any, url: str) -> tuple[str, str | None]:
        async with limit:
            try:
                response = await http.request("HEAD", url, expect=answered)
                if response.status in (405, 501):
                    response = await http.request("GET", url, expect=answered)
            except CmdayError as error:
                return url, error.message
            return url, None if response.status < 400 else _("it answers {status}").format(status=response.status)

    async with HttpClient(timeout=timeout, max_retry_wait=3.0) as http:
        return dict(await asyncio.gather(*(one(http, url) for url in urls)))


def links_to_check(plan: Plan, now: datetime, days: int | None = None) -> list[str]:
    until = day_bounds(now.astimezone(plan.zone).date() + timedelta(days=days or plan.project.calendar.horizon_days), plan.zone)[1]
    return sorted({link for p in plan.posts if now <= p.at < until and p.status != "published" for link in _post_links(p.post)})


# -- the agenda --------------------------------------------------------------------------------------


@dataclass
class AgendaPost:
    key: str
    at: datetime
    platform: str
    source: str | None
    status: str
    text: str
    link: str | None
    media: list[str]
    campaign: str
    owner: str
    url: str | None
    origin: str
    problems: list[str]  # problem codes, worst first
    severity: str  # of the worst problem: error, warning, info, or "" when there is none


@dataclass
class AgendaDay:
    day: date
    posts: list[AgendaPost]
    gaps: list[str]  # active platforms with nothing planned that day
    problems: list[Problem]  # about the day rather than one post: too many, tomorrow not ready


@dataclass
class AgendaView:
    project: str
    name: str
    timezone: str
    now: datetime
    today: date
    days: int
    overdue: list[AgendaPost]
    agenda: list[AgendaDay]
    problems: list[Problem]
    counts: dict[str, int]


def agenda_post(planned: PlannedPost, problems: list[Problem]) -> AgendaPost:
    post = planned.post
    own = [p for p in problems if p.post_key == planned.key]  # check_plan sorts them worst first
    return AgendaPost(
        planned.key, planned.local, planned.platform, post.source, planned.status, post.text, post.link, list(post.media),
        post.campaign, post.owner, planned.url, planned.origin, [p.code for p in own], own[0].severity if own else "",
    )


def agenda(plan: Plan, now: datetime, days: int | None = None, problems: list[Problem] | None = None) -> AgendaView:
    """Today and the next `days` days, one entry per post, with the days' gaps and the checks' problems."""
    days = days or plan.project.calendar.horizon_days
    today = now.astimezone(plan.zone).date()
    problems = check_plan(plan, now, days) if problems is None else problems
    by_post: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        if problem.post_key:
            by_post[problem.post_key].append(problem)
    gaps = empty_days(plan, today, days)
    start = day_bounds(today, plan.zone)[0]
    overdue = [agenda_post(p, by_post[p.key]) for p in plan.posts if p.at < start and p.status != "published"]
    entries = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        entries.append(AgendaDay(
            day,
            [agenda_post(p, by_post[p.key]) for p in plan.on(day)],
            [platform for platform, empty in gaps.items() if day in empty],
            [p for p in problems if p.post_key is None and p.day == day and p.code != "gap"],
        ))
    counts = Counter(p.severity for p in problems)
    return AgendaView(
        plan.project.slug, plan.project.name, plan.zone.key, now, today, days, overdue, entries, problems,
        {severity: counts.get(severity, 0) for severity in SEVERITIES},
    )


def due(plan: Plan, now: datetime) -> list[PlannedPost]:
    """Ready or scheduled posts whose time has come and that cmday has not published."""
    return [p for p in plan.posts if p.at <= now and p.status in ("ready", "scheduled")]


# -- publishing ---------------------------------------------------------------------------------------


@dataclass
class Publishing:
    """What `cmday publish` is about to do, shown before it does it (and all `--dry-run` does)."""

    project: str
    key: str
    platform: str
    source: str
    text: str
    link: str | None
    media: list[Path]
    at: datetime
    alts: list[str] = field(default_factory=list)  # alt text of each file, "" where none was written


def prepare_publication(plan: Plan, planned: PlannedPost, now: datetime, store: Store) -> tuple[Publishing, Any]:
    """Everything that must hold before a post is sent, or a UsageError saying plainly which does not."""
    from cmday.sources import ADAPTERS, adapter_class

    key = planned.key
    record = store.publication(plan.project.slug, key)
    if planned.status == "published" or (record is not None and record.status == "published"):
        where = f": {record.url}" if record is not None and record.url else ""
        raise UsageError(_("post {key} is already published{where}; cmday never publishes a post twice").format(key=key, where=where))
    if planned.status not in ("ready", "scheduled"):
        raise UsageError(
            _("post {key} is {status}; only ready or scheduled posts are published").format(key=key, status=state_label(planned.status)),
            hint=_("set its status to \"ready\" in {origin} when it is").format(origin=planned.origin),
        )
    going_now = planned.at + timedelta(seconds=1)  # whenever it was planned for, it goes out now: every fault counts
    blocking = [p for p in _post_problems(plan, planned, now, going_now, {}) if p.code in BLOCKING and p.severity == "error"]
    if blocking:
        raise UsageError(
            _("post {key} cannot go out: {problem}").format(key=key, problem=blocking[0].message.split(": ", 1)[-1]),
            hint=_("fix it in {origin}").format(origin=planned.origin),
        )
    source = _publishing_source(plan.project, planned)
    if source.platform not in ADAPTERS:
        raise UsageError(_("{platform} cannot publish from cmday").format(platform=source.platform))
    adapter = adapter_class(source.platform)
    if not callable(getattr(adapter, "publish", None)):
        raise UsageError(
            _("{platform} cannot publish from cmday yet: its adapter has no publishing").format(platform=source.platform),
            hint=_("publish it by hand, then set status = \"published\" in {origin}").format(origin=planned.origin),
        )
    media = [(Path(m).expanduser() if Path(m).expanduser().is_absolute() else plan.root / m) for m in planned.post.media]
    alts = [planned.post.media_alt.get(m, "") for m in planned.post.media]
    return Publishing(plan.project.slug, key, planned.platform, source.id, planned.post.text, planned.post.link, media,
                      planned.local, alts), source


def _publishing_source(project: Project, planned: PlannedPost) -> Any:
    if planned.post.source:
        source = project.source(planned.post.source)
        assert source is not None, "the loader checks sources"
        return source
    candidates = [s for s in project.sources if s.enabled and s.platform == planned.platform]
    if not candidates:
        from cmday.sources.demo import REHEARSED_PLATFORMS

        demo = [s for s in project.sources if s.enabled and s.platform == "demo"]
        if demo and planned.platform in REHEARSED_PLATFORMS:  # the demo rehearses what the real platform would take
            return demo[0]
        raise UsageError(
            _("post {key} goes to {platform}, and the project has no enabled {platform} source to publish with").format(
                key=planned.key, platform=planned.platform),
            hint=_("add a [[sources]] entry for that account, or name one with `source` on the post"),
        )
    if len(candidates) > 1:
        raise UsageError(
            _("post {key} goes to {platform}, and the project has several {platform} sources: {ids}").format(
                key=planned.key, platform=planned.platform, ids=", ".join(s.id for s in candidates)),
            hint=_("name one with `source` on the post"),
        )
    return candidates[0]


def publish(workspace: Workspace, plan: Plan, publishing: Publishing, source: Any, store: Store, now: datetime) -> Sent:
    """Send the post at most once, as replies are sent (cmday.sending): the state's claim, a lock while in flight,
    and the platform asked before any resend of a post whose earlier attempt failed or was interrupted."""
    import asyncio

    from cmday.sending import deliver, in_flight, not_sent

    slug = plan.project.slug
    busy = lambda: NotSent(_("post {key} is being published by another cmday right now; nothing sent").format(key=publishing.key))  # noqa: E731
    with in_flight(store, f"post-{slug}-{publishing.key}", busy):
        claim = store.claim_post(slug, publishing.key, now)
        if claim == "refused":
            raise UsageError(_("post {key} is already being published or was published").format(key=publishing.key))
        record = store.publication(slug, publishing.key)
        since = (record.started_at if record and record.started_at else now)

        def attempt(adapter: Any):
            return deliver(
                lambda: adapter.publish(publishing.text, publishing.link, publishing.media, publishing.key,
                                        **_alt_texts(adapter, publishing)),
                lambda: _find_post(adapter, publishing, since),
                earlier_attempt=claim == "pending",
            )

        hint = _("it stays pending: run `cmday publish {key}` again and cmday asks {platform} first, never posting twice").format(
            key=publishing.key, platform=publishing.platform)
        try:
            delivery = asyncio.run(_send(workspace, plan.project, source, now, attempt))
        except CmdayError as error:
            store.finish_publication(slug, publishing.key, "failed", now, error=error.message)
            raise not_sent(error, hint) from None
        except Exception as error:  # the platform answered something nobody foresaw: recorded, said in one line
            from cmday.textsafe import one_line

            message = _("publishing failed: {kind}: {detail}").format(kind=type(error).__name__, detail=one_line(str(error), 160))
            store.finish_publication(slug, publishing.key, "failed", now, error=message)
            raise NotSent(message, hint=hint) from None
        except BaseException:
            store.finish_publication(slug, publishing.key, "failed", now, error="interrupted")
            raise
    sent = delivery.sent
    store.finish_publication(slug, publishing.key, "published", now, remote_id=sent.remote_id, url=sent.url)
    return sent


def _alt_texts(adapter: Any, publishing: Publishing) -> dict[str, list[str]]:
    """The files' alt text, for the adapters that take it (Mastodon, Bluesky)."""
    import inspect

    takes = "alts" in inspect.signature(adapter.publish).parameters
    return {"alts": publishing.alts} if takes and any(publishing.alts) else {}


async def _find_post(adapter: Any, publishing: Publishing, since: datetime) -> Sent | None:
    find = getattr(adapter, "find_post", None)
    if not callable(find):
        raise SourceError(
            _("{platform} cannot be asked whether post {key} went out; look at the account, then mark it by hand").format(
                platform=publishing.platform, key=publishing.key)
        )
    return await find(publishing.text, publishing.link, publishing.key, since)


async def _send(workspace: Workspace, project: Project, source: Any, now: datetime, attempt: Any) -> Any:
    import contextlib

    from cmday.secrets import read_secret
    from cmday.sources import adapter_class
    from cmday.sources.base import FetchContext

    adapter_type = adapter_class(source.platform)
    if getattr(adapter_type, "uses_network", True):
        from cmday.http import HttpClient

        client: Any = HttpClient()
    else:
        client = contextlib.nullcontext(None)
    async with client as http:
        context = FetchContext(
            http=http,
            secret=lambda env_name: read_secret(project.slug, source.id, env_name),
            workspace_root=workspace.root,
            now=now,
            project_slug=project.slug,
            state={"timezone": workspace.project_zone(project).key},
        )
        adapter = adapter_type(source, context)
        return await attempt(adapter)
