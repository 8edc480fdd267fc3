"""Untrusted text never reaches the terminal as control sequences, bidi overrides or markup."""

from __future__ import annotations

import io
import re

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from cmday.cli.output import safe
from cmday.textsafe import clean, one_line

DANGEROUS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@given(st.text())
def test_clean_leaves_no_control_or_bidi_characters(text: str):
    assert not DANGEROUS.search(clean(text))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs"))))
def test_clean_keeps_ordinary_text_as_it_is(text: str):
    assert clean(text) == text


def test_known_attacks_are_neutralised():
    assert clean("a\x1b[31mred\x1b[0m") == "ared"
    assert clean("x\x1b]8;;http://evil\x07click\x1b]8;;\x07") == "xclick"
    assert clean("\u202eevil") == "evil"


def test_markup_is_printed_literally():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=80, markup=False)
    console.print(safe("[bold red]hi[/] [link=http://evil]x[/link]"))
    printed = buffer.getvalue()
    assert "[bold red]hi[/]" in printed and "[link=http://evil]" in printed
    assert "\x1b]8" not in printed  # no hyperlink escape was produced


def test_one_line_folds_and_shortens():
    assert one_line("a\nb\t c") == "a b c"
    assert one_line("abcdef", 4) == "abc…"
