"""The monthly report as a client sees it: opened and printed by a real headless Chromium."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.test_report import HOSTILE_TEXT, acme, parse, report  # noqa: F401 (acme is a fixture)

CHROMIUM = Path("/usr/bin/chromium")
# The chart bars' fills in templates/report.css (--accent-soft for past months, --accent for this one).
BAR_COLOURS = {(0xA9, 0xC0, 0xD8), (0x2F, 0x5D, 0x8A)}

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is missing: .ci/run installs Debian's chromium", pytrace=False)
    pytest.skip("headless Chromium is not installed at /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)


def chromium(page: Path, home: Path, *action: str) -> None:
    home.mkdir(exist_ok=True)
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-extensions", "--disable-sync", "--no-first-run",
         "--no-default-browser-check", "--hide-scrollbars", f"--user-data-dir={home}", *action, page.as_uri()],
        capture_output=True, text=True, timeout=90, env={**os.environ, "HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture
def page_file(acme: str, tmp_path: Path) -> Path:  # noqa: F811 (the fixture imported above)
    path = tmp_path / "report.html"
    path.write_text(report(acme), encoding="utf-8")
    return path


def test_the_screen_shows_the_charts(page_file: Path, tmp_path: Path):
    shot = tmp_path / "report.png"
    chromium(page_file, tmp_path / "chromium", "--window-size=1000,2400", f"--screenshot={shot}")
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    bar_pixels = sum(count for count, colour in colours if colour in BAR_COLOURS)
    assert bar_pixels > 2_000, "no chart bars were painted"
    ink = sum(count for count, colour in colours if max(colour) < 90)  # dark text
    assert ink > 5_000, "no text was painted"


def test_the_printed_report_carries_every_figure(page_file: Path, tmp_path: Path):
    pdf = tmp_path / "report.pdf"
    chromium(page_file, tmp_path / "chromium", "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    reader = PdfReader(pdf)
    printed = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    shown = parse(page_file.read_text(encoding="utf-8")).shown
    assert shown, "the report shows no figures"
    for key, text in shown.items():
        figure = " ".join(text.split())
        assert figure and figure in printed, f"{key}: {figure!r} is not on the printed page"
    assert HOSTILE_TEXT.split("<img")[0] in printed  # the network's markup is printed as text, never run
