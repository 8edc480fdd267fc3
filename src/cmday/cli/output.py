"""The one console wrapper: data to stdout, messages to stderr, JSON without Rich in the way."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
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
