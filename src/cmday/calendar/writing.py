"""Writing posts back where the project keeps its calendar: `[[posts]]` in its file (comments kept) or rows of its sheet."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmday import files
from cmday.calendar.exchange import CsvFormat, csv_cells, decode_csv, read_csv_posts
from cmday.errors import UsageError
from cmday.files import shown_path
from cmday.i18n import _
from cmday.models import Project

if TYPE_CHECKING:
    from cmday.models import Post
    from cmday.workspace import Workspace


def add_posts(workspace: Workspace, project: Project, posts: list[Post]) -> Path:
    """Add posts where the project keeps its calendar: its CSV, or `[[posts]]` in its file, comments and all."""
    if project.calendar.file:
        return _append_csv(workspace, project, posts)
    return _append_toml(workspace, project, posts)


def _append_toml(workspace: Workspace, project: Project, posts: list[Post]) -> Path:
    import tomlkit

    from cmday.workspace import parse_text

    path = workspace.project_files[project.slug]
    shown = shown_path(path, workspace.root)
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
    files.write_atomically(path, written.encode("utf-8"))
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
        media = tomlkit.array()  # `media = [{ path = ..., alt = ... }]` on the post's own line, as the README writes it
        for path in post.media:
            if path in post.media_alt:
                entry = tomlkit.inline_table()
                entry.update({"path": path, "alt": post.media_alt[path]})
                media.append(entry)
            else:
                media.append(path)
        table.add("media", media)
    if post.campaign:
        table.add("campaign", post.campaign)
    if post.owner:
        table.add("owner", post.owner)
    table.add("status", post.status)
    table.add(tomlkit.nl())  # a blank line after it, as a person leaves between tables
    return table


def _append_csv(workspace: Workspace, project: Project, posts: list[Post]) -> Path:
    path = workspace.root / (project.calendar.file or "")
    shown = shown_path(path, workspace.root)
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
    files.write_atomically(path, raw + prefix + encoded if raw else prefix + encoded)
    return path



def _missing_columns(post: Post, form: CsvFormat) -> list[str]:
    wanted = {
        "platform": bool(post.platform), "source": bool(post.source), "text": bool(post.text), "link": bool(post.link),
        "media": bool(post.media), "alt": bool(post.media_alt), "campaign": bool(post.campaign), "owner": bool(post.owner), "id": bool(post.id),
        "status": post.status != "draft",  # a sheet without a status column reads every row as a draft
    }
    return [name for name, needed in wanted.items() if needed and name not in form.columns]
