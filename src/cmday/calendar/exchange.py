"""The calendar's exchange with spreadsheets and calendar apps: CSV and Excel sheets, iCalendar files, read and written."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from cmday import files
from cmday.calendar.dates import parse_clock, parse_when
from cmday.calendar.plan import READY_STATUSES, post_key
from cmday.errors import ConfigError, UsageError
from cmday.i18n import _, ngettext
from cmday.models import Post
from cmday.settings import POST_STATUSES
from cmday.sheets import neutral, restored
from cmday.typed import is_day_first

if TYPE_CHECKING:
    from cmday.calendar.plan import Plan
    from cmday.models import Project

EXPORT_COLUMNS = ("id", "at", "platform", "source", "text", "link", "media", "alt", "campaign", "owner", "status")

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
    "alt": ("alt", "alts", "alt text", "alt texts", "alternative text", "texto alternativo", "textos alternativos", "alt texto"),
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
ALT_SEPARATOR = "|"  # between the files' alt texts, in the order of `media`; one inside a text is written `\|`


def alt_cell(post: Post) -> str:
    """The alt text of each of the post's files, in one cell: `|` between them, `""` for a file without."""
    if not post.media_alt:
        return ""
    escaped = (post.media_alt.get(m, "").replace("\\", "\\\\").replace(ALT_SEPARATOR, "\\" + ALT_SEPARATOR) for m in post.media)
    return ALT_SEPARATOR.join(escaped)


def read_alt_cell(cell: str) -> list[str]:
    """The alt texts `alt_cell` wrote, one per file; a backslash before `|` or before another backslash is taken as written."""
    texts, current, at = [], [], 0
    while at < len(cell):
        character = cell[at]
        if character == "\\" and cell[at + 1 : at + 2] in (ALT_SEPARATOR, "\\"):
            current.append(cell[at + 1])
            at += 1
        elif character == ALT_SEPARATOR:
            texts.append("".join(current).strip())
            current = []
        else:
            current.append(character)
        at += 1
    texts.append("".join(current).strip())
    return texts


def media_with_alts(media: list[str], alts: list[str]) -> list[Any]:
    """Files and their alt texts, paired in order, as a post's `media` is written: `{path, alt}` where there is one."""
    if len(alts) > len(media):
        said_alts = ngettext("{count} alt text", "{count} alt texts", len(alts)).format(count=len(alts))
        said_files = ngettext("{count} media file", "{count} media files", len(media)).format(count=len(media))
        raise ValueError(_("{alts} for {files}: one alt text per file, in the same order").format(alts=said_alts, files=said_files))
    return [{"path": path, "alt": alt} if alt else path for path, alt in zip(media, alts + [""] * len(media), strict=False)]


def _fold(text: str) -> str:
    """A header or status word as compared: lowercase, no accents, `_` and `-` as spaces."""
    from cmday.protocol import fold

    return " ".join(fold(text).replace("_", " ").replace("-", " ").split())


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


def parse_status(value: str) -> str:
    """A status as a sheet or a person writes it (`listo`, `Ready`), as cmday names it (`ready`)."""
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
    if cells.get("media") or cells.get("alt"):
        media = [m for m in _MEDIA_SEPARATOR.split(cells.get("media", "")) if m]
        try:
            data["media"] = media_with_alts(media, read_alt_cell(cells["alt"]) if cells.get("alt") else [])
        except ValueError as error:
            raise fail("alt", str(error)) from None
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
        "alt": alt_cell(post),
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
            post.text, post.link or "", "|".join(post.media), alt_cell(post), post.campaign, post.owner, planned.status,
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
            ("x-cmday-alt", alt_cell(post)),
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
        media, alts = _ics_text(event, "x-cmday-media"), _ics_text(event, "x-cmday-alt")
        if media or alts:
            try:
                data["media"] = media_with_alts([m for m in (media or "").split("|") if m], read_alt_cell(alts) if alts else [])
            except ValueError as error:
                raise ConfigError(_("{where}: X-CMDAY-ALT: {what}").format(where=where, what=error)) from None
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
