"""Reading a file from a workspace (regular files only, each kind with a size cap, one error naming both), and replacing one whole."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import NamedTuple

from cmday.errors import CmdayError, ConfigError
from cmday.i18n import _, format_number

KB, MB = 1024, 1024 * 1024


class FileKind(NamedTuple):
    """What a file is for, in the CM's words, and how big one can sensibly be.

    A NamedTuple, not a frozen dataclass: every command loads this module, and a frozen dataclass costs ~0.5 ms to define."""

    words: str  # plural, no article: translated when the message is made, in the session's language
    cap: int


# A project with a year of posts is ~200 KB of TOML; exports and sheets grow with the account.
SETTINGS = FileKind("workspace, project, checklist and protocol files", 1 * MB)
CALENDAR_SHEET = FileKind("calendar sheets and calendars to import", 16 * MB)
IMPORT = FileKind("import files", 64 * MB)
RECOMMENDATIONS = FileKind("report recommendations", 1 * MB)
MEDIA = FileKind("images and videos to publish", 40 * MB)  # Mastodon's largest video

_KIND_WORDS = {  # the msgids above, spelled out so the catalog extractor finds them
    SETTINGS.words: lambda: _("workspace, project, checklist and protocol files"),
    CALENDAR_SHEET.words: lambda: _("calendar sheets and calendars to import"),
    IMPORT.words: lambda: _("import files"),
    RECOMMENDATIONS.words: lambda: _("report recommendations"),
    MEDIA.words: lambda: _("images and videos to publish"),
}


def shown_path(path: Path | None, root: Path | None) -> str:
    """A file as messages name it: relative to the workspace when it is inside it."""
    if path is None:
        return ""
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)


def read_bytes(path: Path, kind: FileKind, shown: str | None = None, error: type[CmdayError] = ConfigError) -> bytes:
    """The whole file, if it is a regular file within the cap; else `error` saying which file and why.

    Opened non-blocking and checked with fstat on what was opened, so a FIFO never hangs and a link
    to /dev/zero is never read, and no swap between a check and the read can slip one in. A missing
    or unreadable file raises the usual OSError for the caller to word.
    """
    shown = shown or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise error(
                _("{file} is {what}, not a regular file; cmday reads only regular files").format(
                    file=shown, what=_what(info.st_mode)
                ),
                hint=_("put the file itself there: cmday does not read devices, pipes or folders in its place"),
            )
        if info.st_size > kind.cap:
            raise _too_big(shown, info.st_size, kind, error)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(descriptor, min(1 * MB, kind.cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > kind.cap:  # grew while being read
                raise _too_big(shown, total, kind, error)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_text(
    path: Path, kind: FileKind, shown: str | None = None, error: type[CmdayError] = ConfigError, encoding: str = "utf-8-sig"
) -> str:
    """`read_bytes` decoded; UnicodeDecodeError for the caller to word (it knows what to suggest)."""
    return read_bytes(path, kind, shown, error).decode(encoding)


def human_size(size: int, kilo: int = KB) -> str:
    """"23.5 MB", "512 KB", "80 bytes", with the language's decimal mark. `kilo=1000` for a limit a platform
    states in decimal units: Bluesky's 1,000,000 bytes are "1 MB", not "977 KB"."""
    if size >= kilo * kilo:
        return _("{number} MB").format(number=format_number(round(size / (kilo * kilo), 1)))
    if size >= kilo:
        return _("{number} KB").format(number=format_number(round(size / kilo)))
    return _("{number} bytes").format(number=format_number(size))


def _too_big(shown: str, size: int, kind: FileKind, error: type[CmdayError]) -> CmdayError:
    return error(
        _("{file} is {size}; {kind} may be at most {cap}, so it was not read").format(
            file=shown, size=human_size(size), cap=human_size(kind.cap), kind=_KIND_WORDS[kind.words]()
        ),
        hint=_("check that this is the right file; split it if it really is that big"),
    )


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return _("a folder")
    if stat.S_ISFIFO(mode):
        return _("a named pipe (FIFO)")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("a device")
    if stat.S_ISSOCK(mode):
        return _("a socket")
    return _("not a file")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file whole or not at all, keeping its permissions: a reader never sees half of it.

    The temporary file is unique to this write, so two cmday writing the same file never share it.
    """
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
