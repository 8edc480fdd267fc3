"""Folders and files only their owner may read: the state folder and its files, the secrets folder, the outbox."""

from __future__ import annotations

import os
import stat
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600

# What was found readable by others and made private in this run, for the CLI to say so once.
_tightened: list[tuple[Path, int, int]] = []


def private_folder(path: Path) -> Path:
    """Create `path` and every missing folder above it as 0700; an existing one open to others is tightened and noted.

    Every missing folder, not only the last: `mkdir(parents=True)` makes the ones above with the umask's mode
    (0755), so a first run that made `~/.local/share/cmday/cache` left cmday's own state folder open to others
    and then said it had found it so. The XDG base directory spec asks for 0700 on folders made to write in.
    """
    missing = []
    folder = path
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True, mode=FOLDER_MODE)  # the umask may narrow the mode, never widen it
    _tighten(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """An existing file readable or writable by others made 0600 (noted); a missing one is left missing."""
    _tighten(path, FILE_MODE)
    return path


def create_private_file(path: Path) -> Path:
    """`path` exists afterwards, created 0600 if it was missing: no moment when another user could open it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    return private_file(path)


def write_private_file(path: Path, data: bytes) -> Path:
    """A new file holding `data`, 0600 from its first byte; fails if the name is taken (never overwrites)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path


def tightened() -> list[tuple[Path, int, int]]:
    """(path, mode it had, mode it has now) for everything made private since the last call."""
    found = list(_tightened)
    _tightened.clear()
    return found


def _tighten(path: Path, wanted: int) -> None:
    if os.name == "nt":
        return  # Windows keeps a user's files private by their folder's ACL; its modes say nothing of others
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # through a link: what it points to holds the data
    except FileNotFoundError:
        return
    if mode & 0o077:
        try:
            os.chmod(path, mode & wanted)
        except PermissionError:
            return  # someone else's folder (a shared mount): cmday cannot change it, and still works in it
        _tightened.append((path, mode, mode & wanted))
