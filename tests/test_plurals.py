"""Counts agree with their nouns: every message that formats a count is a gettext plural entry, in both languages."""

from __future__ import annotations

import re
import string

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from cmday.i18n import ngettext, set_language
from tests.cli_runner import run
from tests.test_i18n import REPO, SOURCE, spanish_catalog

# Placeholders that hold a count, as cmday names them.
COUNT_NAMES = {
    "count", "n", "total", "errors", "warnings", "notes", "skipped", "covered", "empty", "wanted", "ready",
    "came_in", "answered", "open", "size", "megabytes", "minutes", "hours", "seconds",
}
# A count followed by a unit symbol agrees with nothing: "12 min", "3 h", "4 MB".
UNIT = re.compile(r"\{\w+(?::[^}]*)?\} (?:min|h|s|MB)\b")
# Messages whose count needs no agreement, and why.
ALLOWED = {
    "… and {count} more: {hint}": "'more' agrees with no noun",
    "… and {count} more (--limit 0 shows all)": "'more' agrees with no noun",
    "Timeline of the related mentions ({count}):": "a number in parentheses after its heading",
    "this command works on one project and the workspace has {count}": "never fewer than two",
    "in {came_in}  ·  answered {answered}  ·  still open {open}  ·  median response {median}": "labels before their numbers",
    "{url} answered with malformed JSON ({size} bytes)": "never one byte: a JSON body is longer",
    "{file} is {size}; {kind} may be at most {cap}, so it was not read": "sizes are written with their unit (human_size)",
    "{url} redirected more than {count} times": "the count is MAX_REDIRECTS, never one",
    "{url}: the upload is {size} bytes, over cmday's limit of {limit}": "over a limit of megabytes: never one byte",
    "{file} is {size}, over Bluesky's limit of {limit} for an image; nothing was sent": "sizes are written with their unit (human_size)",
    "{file} is {size} bytes, over {host}'s limit of {limit}; make it smaller": "over an instance's limit of megabytes: never one byte",
    "message {uid} in {folder}: only its first {size} KB were read (an attachment is never downloaded)": "a size in KB, far above one",
}
# The report helper converts these files' counts (issue 14).
CONVERTED_ELSEWHERE = ("report.py", "indicators.py", "cli/kpi.py")


def singular_messages() -> dict[str, list[str]]:
    """Every message extracted without a plural form (`_()`, not `ngettext()`), with where it is used."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        SOURCE, method_map, options_map, keywords={**DEFAULT_KEYWORDS, "_": None}
    ):
        if isinstance(message, str):
            found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def counted_placeholders(msgid: str) -> set[str]:
    without_units = UNIT.sub("", msgid)
    return {name for _text, name, _spec, _conversion in string.Formatter().parse(without_units) if name in COUNT_NAMES}


def test_the_scan_sees_a_count() -> None:
    assert counted_placeholders("{count} posts written to {file}") == {"count"}
    assert counted_placeholders("last sweep {hours:.0f} h ago") == set()
    assert counted_placeholders("{errors} errors · {warnings} warnings") == {"errors", "warnings"}


def test_every_formatted_count_is_a_plural_entry() -> None:
    singular = []
    for msgid, places in singular_messages().items():
        if msgid in ALLOWED or not counted_placeholders(msgid):
            continue
        ours = [place for place in places if not place.rsplit(":", 1)[0].replace("\\", "/").endswith(CONVERTED_ELSEWHERE)]
        if ours:
            singular.append(f"  {msgid!r}  ({', '.join(ours)})")
    assert not singular, (
        "counts formatted without ngettext(singular, plural, count) (or add the message to ALLOWED with why):\n"
        + "\n".join(singular)
    )


def test_the_allow_list_names_only_messages_that_exist() -> None:
    assert set(ALLOWED) <= set(singular_messages())


def test_spanish_plural_entries_fill_their_three_forms() -> None:
    for entry in spanish_catalog():
        if entry.id and isinstance(entry.id, tuple):
            assert len(entry.string) == 3 and all(entry.string), entry.id


@pytest.mark.parametrize(("language", "one", "two"), [("en", "1 note", "2 notes"), ("es", "1 nota", "2 notas")])
def test_one_and_two_agree_in_both_languages(language: str, one: str, two: str) -> None:
    set_language(language)
    assert ngettext("{count} note", "{count} notes", 1).format(count=1) == one
    assert ngettext("{count} note", "{count} notes", 2).format(count=2) == two


def test_the_calendar_footer_agrees_in_spanish() -> None:
    shown = run("calendar", "--demo", "--lang", "es").stdout
    assert re.search(r"\d+ error(es)? · \d+ avisos? · \d+ notas?", shown)
    assert not re.search(r"\b1 (errores|avisos|notas)\b", shown)
    assert not re.search(r"\b1 (errors|warnings|notes)\b", run("calendar", "--demo").stdout)
