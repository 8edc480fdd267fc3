"""Settings files already validated, remembered between runs so a check need not read and validate them again.

Reading a project file's TOML and building pydantic's validators for it is most of what a command does
before it starts its own work. The record a file gave (cmday.settings: its model's values, without pydantic,
so that recalling it loads no model) is kept in one private file in the cache folder,
keyed by the file's path, size, mtime, ctime and inode and by the code that validated it; a file whose
key differs in any way is read again. Nothing here is trusted that is not the user's own (0600) or
that does not unpickle: any doubt means reading the file, never an error.
"""

from __future__ import annotations

import functools
import os
import pickle
import stat
import sys
import time
from pathlib import Path
from typing import Any

from cmday.private import private_folder

CACHE_FILE = "validated.pickle"
MAX_ENTRIES = 200  # every settings file of a 60-source agency's workspace, with room for the demo and old ones
# A file written this recently may be written again within the clock tick its mtime is counted in (the
# same size, the same mtime): its model is not kept until the file has been still for this long. A tool
# that puts an old mtime back (touch -d, cp -p) changes the ctime, which the key holds too.
SETTLED_SECONDS = 2.0
_FORMAT = 1

# (path, model) -> (file key, pickled model), as read from the cache file at _entries_from
_entries: dict[tuple[str, str], tuple[tuple, bytes]] = {}
_entries_from: Path | None = None


def file_key(path: Path) -> tuple | None:
    """What changes whenever the file's content can have changed; None for anything but a regular file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def recall(path: Path, model: str, key: tuple | None) -> Any | None:
    """The record `path` gave when it had `key`, or None."""
    if key is None:
        return None
    entry = _load().get(_name(path, model))
    if entry is None or entry[0] != key:
        return None
    try:
        return pickle.loads(entry[1])
    except Exception:  # written by other code, or damaged: read the file instead
        return None


def remember(path: Path, model: str, key: tuple | None, value: Any) -> None:
    """Keep `value` for `path` as it was at `key` (taken before the file was read). Never raises."""
    if key is None or time.time() - key[1] / 1e9 < SETTLED_SECONDS:
        return
    try:
        entries = _load()
        entries.pop(_name(path, model), None)
        entries[_name(path, model)] = (key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        while len(entries) > MAX_ENTRIES:
            del entries[next(iter(entries))]
        _write(entries)
    except Exception:  # a cache that cannot be written costs the next run some milliseconds, nothing else
        pass


def _name(path: Path, model: str) -> tuple[str, str]:
    return (os.path.abspath(path), model)


def _cache_path() -> Path:
    from cmday.paths import cache_home

    return cache_home() / CACHE_FILE


@functools.cache
def _code_stamp() -> tuple:
    """The code that made the records: a cmday, pydantic or Python of another version, or an edited module, starts afresh."""
    from cmday import __version__

    package = Path(__file__).parent
    code = [Path(e.path) for e in os.scandir(package) if e.name.endswith(".py")]
    code += package.glob("sources/*/settings.py")  # each platform's source model, in its own package
    modules = sorted((str(p.relative_to(package)), p.stat().st_size, p.stat().st_mtime_ns) for p in code)
    validators = tuple(_installed(name) for name in ("pydantic", "pydantic_core"))
    return (_FORMAT, __version__, validators, sys.version, tuple(modules))


def _installed(package: str) -> tuple:
    """Where `package` is installed and when: found, not imported (a check on remembered files never loads pydantic)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return (package,)
    info = os.stat(spec.origin)
    return (spec.origin, info.st_size, info.st_mtime_ns)


def _load() -> dict:
    """The entries, read once per cache file (tests give each test a CMDAY_HOME of its own)."""
    global _entries, _entries_from
    path = _cache_path()
    if path != _entries_from:
        _entries, _entries_from = _read(path), path
    return _entries


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != getattr(os, "getuid", lambda: info.st_uid)() or info.st_mode & 0o077:
                return {}  # not ours alone: never unpickled
            stamp, entries = pickle.load(handle)
        return entries if stamp == _code_stamp() and isinstance(entries, dict) else {}
    except Exception:
        return {}


def _write(entries: dict) -> None:
    path = _cache_path()
    private_folder(path.parent)
    partial = path.with_name(f"{CACHE_FILE}.{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump((_code_stamp(), entries), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)  # atomic: a cmday running beside this one reads the old cache or the new
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
