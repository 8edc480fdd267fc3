"""The mention lists as a user reads them: one line a mention, cut with '…' by the cells a character takes, columns lined up."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run

NOW = datetime.now(UTC)
HANDLES = {
    "1": "@a.very.long.handle.that.goes.on.and.on@mastodon.example.social",
    "2": "@東京の猫ちゃん大好きです東京の猫@m.example",  # two cells a character
    "3": "@emoji😀😀😀😀😀😀😀😀@m.example",
    "4": "@ana",
}
TEXTS = {
    "1": "Hola, ¿cuándo abre la tienda los domingos por la mañana? " * 3,
    "2": "日本語のテキストが長いです。" * 8,
    "3": "emoji 😀 everywhere 🎉🎉🎉 " * 6,
    "4": "short",
}


@pytest.fixture
def listed(workspace: Path, cmday_home: Path) -> Path:
    store = Store(cmday_home / "state.sqlite3")
    mentions = [Mention("mastodon", key, "mention", TEXTS[key], NOW - timedelta(minutes=10 * int(key)), author_handle=handle)
                for key, handle in HANDLES.items()]
    store.save_batch("acme", "m", "mastodon", mentions, None, NOW)
    store.close()
    return workspace


def _at_cell(line: str, cells: int) -> str:
    """The line from its `cells`-th cell on; a character cut in two there means the columns do not line up."""
    taken = 0
    for index, char in enumerate(line):
        if taken == cells:
            return line[index:]
        taken += cell_len(char)
        assert taken <= cells, f"a wide character straddles cell {cells}: {line!r}"
    assert taken == cells, line
    return ""


def _table(stdout: str) -> tuple[str, list[str]]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "age"])
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start], lines[start + 1 : end]


def test_long_and_wide_handles_stay_one_line_of_80_cells_with_the_columns_lined_up(listed: Path):
    ran = run("inbox", "--workspace", str(listed))
    assert ran.exit_code == 0, ran.stderr
    header, rows = _table(ran.stdout)
    assert len(rows) == len(HANDLES)  # one line each: nothing wrapped onto a second
    who_at = cell_len(header[: header.index("who")])
    what_at = cell_len(header[: header.index("what")])
    for row in rows:
        assert cell_len(row) <= 80, row
        key = row.split()[0].lstrip("!+")
        handle = HANDLES[key]
        who = _at_cell(row, who_at)
        shown = who[: len(who) - len(_at_cell(row, what_at))].rstrip()
        assert _at_cell(row, what_at).startswith("mention ")  # the category, then the text
        if key == "4":
            assert shown == handle
            continue
        assert shown.endswith("…") and handle.startswith(shown[:-1].rstrip()), (shown, handle)
        assert row.endswith("…")  # the text is cut too, by the cells it takes
        assert cell_len(row) == 80


def test_a_40_column_terminal_keeps_every_number_whole(listed: Path, cmday_home: Path):
    # a process of its own: the console takes its width from COLUMNS when cmday starts
    ran = subprocess.run([str(Path(sys.executable).parent / "cmday"), "inbox", "--workspace", str(listed)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "COLUMNS": "40", "CMDAY_HOME": str(cmday_home)})
    assert ran.returncode == 0, ran.stderr
    header, rows = _table(ran.stdout)
    assert len(rows) == len(HANDLES)
    assert {row.split()[0].lstrip("!+") for row in rows} == set(HANDLES)
    assert all(cell_len(line) <= 40 for line in [header, *rows])
    what_at = cell_len(header[: header.index("what")])  # the text keeps a column of its own, the handles give way
    for row in rows:
        what = _at_cell(row, what_at)
        assert what.startswith("mention") and cell_len(what) >= 10, row

