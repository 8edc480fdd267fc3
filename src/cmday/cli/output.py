"""The one console wrapper: data to stdout, messages to stderr, JSON without Rich in the way."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from cmday.i18n import _
from cmday.secrets import redact, redact_json
from cmday.textsafe import clean

# Markup is never parsed: every string shown is a Text built on purpose, so `[red]` from a
# mention is shown as the five characters it is.
out = Console(markup=False, highlight=False, emoji=False)
err = Console(stderr=True, markup=False, highlight=False, emoji=False)

_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe(text: str | None, style: str = "") -> Text:
    """Untrusted text, cleaned of control sequences and known secrets, shown literally."""
    return Text(clean(redact(text or "")), style=style)


def message(text: str, style: str = "") -> None:
    err.print(Text(clean(redact(text)), style=style), soft_wrap=True)


def error(text: str, hint: str | None = None) -> None:
    # soft_wrap: an error stays one line, whole for grep and logs, whatever the terminal's width
    # redact first: a secret is hidden in the shape the exception quoted it in, before cleaning changes it
    err.print(Text.assemble((_("cmday: error: "), "bold red"), clean(redact(text))), soft_wrap=True)
    if hint:
        err.print(Text.assemble((_("hint: "), "dim"), clean(redact(hint))), soft_wrap=True)


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def print_json(value: Any) -> None:
    """JSON on stdout, without known secrets; C1 controls and bidi overrides escaped so a terminal never acts on them."""
    text = json.dumps(redact_json(jsonable(value)), ensure_ascii=False, indent=2)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def paged(draw: Callable[[Console], None]) -> None:
    """A dashboard on stdout; on a terminal, through the user's pager when it is taller than the screen, as git does.

    Never in a pipe or under CI; `PAGER` chooses it (a shell command, as for git; empty or `cat`: none),
    else `less` with `LESS=FRX` unless LESS is set (colours kept, the screen left as it was).
    """
    import shutil
    import subprocess

    command = os.environ.get("PAGER", "less" if shutil.which("less") else "")
    if not out.is_terminal or os.environ.get("CI") or command.strip() in ("", "cat"):
        draw(out)
        return
    with out.capture() as captured:
        draw(out)
    text = captured.get()
    if text.count("\n") < out.height:
        out.file.write(text)
        out.file.flush()
        return
    out.file.flush()
    pager = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env={**os.environ, "LESS": os.environ.get("LESS", "FRX")})
    try:
        assert pager.stdin is not None
        with pager.stdin as pipe:
            pipe.write(text.encode("utf-8", "replace"))
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the pager was quit before the end: what it did not show is not wanted
    while True:
        try:
            status = pager.wait()
            break
        except KeyboardInterrupt:
            pass  # the pager has the terminal; it handles Ctrl-C itself, as git leaves it
    if status == 127:  # the shell found no such pager: the dashboard still shows
        out.file.write(text)
        out.file.flush()
