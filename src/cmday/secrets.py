"""Where a source's secret comes from (the variable the project names, or `cmday auth`'s file), and hiding known ones."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

if TYPE_CHECKING:
    import logging

REDACTED = "***"
MIN_SECRET_CHARS = 6  # shorter values are too common to hide without mangling ordinary words
MIN_PIECE_CHARS = 8  # a secret broken by a control character is hidden piece by piece

# Every secret this process has read or been given: errors, logs, stored errors and JSON are
# cleaned of them (see `redact`), whatever an exception from a library says.
_known: set[str] = set()
_forms: list[str] = []
_checked_folders: set[Path] = set()  # secrets folders already made private in this run


def secrets_dir() -> Path:
    """The secrets folder; the first look at it in a run makes it and its files private if they are not."""
    from cmday.paths import secrets_home

    folder = secrets_home()
    if folder not in _checked_folders:
        _checked_folders.add(folder)
        _keep_private(folder)
    return folder


def secret_path(project: str, source_id: str) -> Path:
    return secrets_dir() / f"{project}.{source_id}"


def read_secret(project: str, source_id: str, env_name: str | None) -> str | None:
    """The environment variable wins; otherwise the file `cmday auth` wrote (mode 0600)."""
    if env_name and os.environ.get(env_name):
        return remember(os.environ[env_name])
    path = secret_path(project, source_id)
    try:
        return remember(path.read_text(encoding="utf-8").strip() or None)
    except OSError:
        return None


def store_secret(project: str, source_id: str, secret: str) -> Path:
    """Write the secret readable by its owner only; the file never exists with wider permissions."""
    from cmday.private import private_folder

    remember(secret)
    path = secret_path(project, source_id)
    private_folder(path.parent)
    keep_secrets_private()
    temporary = path.with_name(path.name + ".tmp")  # with_suffix would make acme.m and acme.b share acme.tmp
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def keep_secrets_private() -> None:
    """The secrets folder 0700 and every file in it 0600: one found wider (copied, unpacked) is tightened, and noted."""
    _keep_private(secrets_dir())


def _keep_private(folder: Path) -> None:
    from cmday.private import private_file, private_folder

    if not folder.is_dir():
        return
    private_folder(folder)
    for path in folder.iterdir():
        if path.is_file():
            private_file(path)


def secret_origin(project: str, source: object) -> str:
    """Where a source's secret would come from, for `cmday sources`; never the secret itself."""
    env_name = getattr(source, "token_env", None) or getattr(source, "password_env", None)
    from cmday.sources import needs_secret

    if not needs_secret(getattr(source, "platform", "")):
        return "-"
    if env_name and os.environ.get(env_name):
        return f"${env_name}"
    if secret_path(project, getattr(source, "id", "")).is_file():
        return "cmday auth"
    return "missing"


def remember(secret: str | None) -> str | None:
    """Note a secret so that no message, log line, stored error or JSON shows it; returns it unchanged."""
    if secret and len(secret.strip()) >= MIN_SECRET_CHARS and secret not in _known:
        _known.add(secret)
        forms = set(_forms) | _shapes(secret)
        _forms[:] = sorted((f for f in forms if len(f) >= MIN_SECRET_CHARS), key=len, reverse=True)
    return secret


def remember_url(url: str | None, whole: bool = False) -> None:
    """A URL's query string and password are secrets (private feeds carry tokens there); with `whole`, its path too (webhooks)."""
    if not url:
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        remember(url)
        return
    if parts.query:
        remember(parts.query)
    if parts.password:
        remember(parts.password)  # https://user:password@host/feed: the error messages keep the host, not this
    if whole:
        remember(url)
        if parts.path.strip("/"):
            remember(parts.path + (f"?{parts.query}" if parts.query else ""))


def redact(text: str) -> str:
    """`text` with every known secret, in any of the shapes a library may quote it in, replaced by ***."""
    if not _forms or not text:
        return text
    for form in _forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact_json(value: Any) -> Any:
    """A JSON-like value with `redact` applied to every string in it, keys included."""
    if not _forms:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_json(k): redact_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_json(v) for v in value]
    return value


def _shapes(secret: str) -> set[str]:
    """The secret as written, escaped (repr, bytes repr, JSON), URL-quoted, flattened onto one line, and in pieces.

    httpx says "Illegal header value b'Bearer abc\\ndef'": the bytes' repr, not the text. A long piece
    between control characters is hidden too, so a message cut short after one still hides the others.
    """
    shapes = {
        secret,
        secret.strip(),
        repr(secret)[1:-1],
        repr(secret.encode("utf-8"))[2:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        " ".join(secret.split()),
    }
    shapes |= {piece for piece in re.split(r"[\x00-\x1f\x7f-\x9f]+", secret) if len(piece) >= MIN_PIECE_CHARS}
    return shapes


def looks_like_token(value: str) -> bool:
    """A value that is a credential rather than a variable's name: long, and mixing cases and digits or symbols."""
    if len(value) < 16:
        return False
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return True
    return bool(re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"[0-9]", value))


class RedactingFilter:
    """For --debug logs: a record's message, formatted, without known secrets (httpx logs whole URLs).

    Not a logging.Filter subclass: a handler takes any object with `filter(record)`, and every command loads
    this module while only --debug uses logging (importing it costs ~2 ms a run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _forms:
            record.msg, record.args = redact(record.getMessage()), None
        return True


def redact_exception(error: BaseException) -> None:
    """Known secrets taken out of an exception and those chained to it, before --debug prints their traceback."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
        for name in ("message", "hint"):
            if isinstance(getattr(error, name, None), str):
                setattr(error, name, redact(getattr(error, name)))
        error = error.__cause__ or error.__context__
