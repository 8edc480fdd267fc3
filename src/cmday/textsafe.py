"""Neutralising untrusted text before it can reach a terminal."""

from __future__ import annotations

import re

# CSI / OSC / other escape sequences first, so their parameters go with them,
# then any remaining C0/C1 control character (tab and newline survive),
# then the bidi controls that can make text read differently from what it is.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str | None) -> str:
    """Text safe to print: no escape sequences, control characters or bidi overrides.

    Rich markup is not removed here: it is neutralised by never rendering
    untrusted text as markup (see `cmday.cli.output`).
    """
    if not text:
        return ""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def one_line(text: str | None, limit: int | None = None) -> str:
    """`clean` text folded onto one line, shortened with an ellipsis past `limit` characters."""
    flat = " ".join(clean(text).split())
    if limit is not None and len(flat) > limit:
        return flat[: max(limit - 1, 0)] + "…"
    return flat


def count_graphemes(text: str) -> int:
    """User-perceived characters, as Bluesky counts its 300: an approximation of Unicode's extended clusters.

    Combining marks, variation selectors, skin-tone modifiers and anything joined by a zero-width
    joiner stay with the character before them; two regional indicators make one flag.
    """
    import unicodedata

    count = 0
    previous = ""
    pending_flag = False
    for char in text:
        code = ord(char)
        joins = (
            unicodedata.combining(char)
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
            or char == "\u200d"
            or previous == "\u200d"
        )
        if 0x1F1E6 <= code <= 0x1F1FF:
            if pending_flag:
                pending_flag = False
                previous = char
                continue
            pending_flag = True
            count += 1
        elif not joins:
            pending_flag = False
            count += 1
        previous = char
    return count
