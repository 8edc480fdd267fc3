"""Files already uploaded for a post, kept so that a send resumed after a failure reuses them instead of uploading again.

An upload is not a post: a platform keeps an unattached file for a while, then drops it. So a publish
that fails after its uploads (the status refused, the answer lost) leaves files on the server that a
retry can attach, and uploading them again would only waste the CM's bandwidth and the server's
storage. Each upload is remembered under the send (project, source, idempotency key) and the file's
content; a remembered one is reused only while the platform surely still holds it, and a send that
ends (posted, or refused) forgets its uploads. Losing this file costs at most a second upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cmday.private import private_folder

UPLOADS_FILE = "uploads.json"
FORGOTTEN_AFTER = timedelta(days=2)  # longer than any platform keeps an unattached upload


def file_key(data: bytes, *extra: str) -> str:
    """The file by its content (and whatever else the upload carried, as Mastodon's alt text): a changed file is a new upload."""
    digest = hashlib.sha256(data)
    for part in extra:
        digest.update(b"\x00" + part.encode("utf-8"))
    return digest.hexdigest()


@dataclass
class UploadLog:
    """What the uploads of unfinished sends left on the platforms, in one private JSON file beside the state."""

    path: Path | None = None  # None: uploads.json in the state folder (CMDAY_HOME in tests)

    def recall(self, send: str, key: str, now: datetime, kept_for: timedelta) -> Any | None:
        """The upload this send made of this file, if it is recent enough for the platform to still hold it."""
        entry = self._read().get(send, {}).get(key)
        if not isinstance(entry, dict):
            return None
        try:
            at = datetime.fromisoformat(entry["at"])
        except (KeyError, TypeError, ValueError):
            return None
        return entry.get("upload") if now - kept_for <= at <= now + timedelta(minutes=5) else None

    def keep(self, send: str, key: str, upload: Any, now: datetime) -> None:
        with self._changing():
            entries = {name: files for name, files in self._read().items() if self._recent(files, now)}
            entries.setdefault(send, {})[key] = {"at": now.isoformat(), "upload": upload}
            self._write(entries)

    @staticmethod
    def _recent(files: Any, now: datetime) -> bool:
        """Whether a send's uploads may still serve: those of a send never finished (discarded, abandoned) go after two days."""
        try:
            return any(now - datetime.fromisoformat(entry["at"]) < FORGOTTEN_AFTER for entry in files.values())
        except (AttributeError, KeyError, TypeError, ValueError):
            return False

    def forget(self, send: str) -> None:
        """The send ended (posted or refused): its uploads are the post's now, or the server's to drop."""
        with self._changing():
            entries = self._read()
            if entries.pop(send, None) is not None:
                self._write(entries)

    def _file(self) -> Path:
        if self.path is not None:
            return self.path
        from cmday.paths import state_home

        return state_home() / UPLOADS_FILE

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """One change at a time across processes: two publishes at once would each write back what they read, one
        entry lost (a second upload of that file later)."""
        path = self._file()
        private_folder(path.parent)
        descriptor = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl
            except ImportError:  # not POSIX: no lock, at worst a second upload
                fcntl = None
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # and with it the lock

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self._file().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or damaged: at worst a file is uploaded again
        return data if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        path = self._file()
        private_folder(path.parent)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(entries, handle)
        os.replace(temporary, path)
