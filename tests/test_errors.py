"""The exit statuses scripts and cron rely on: the README's table and the code's enum say the same."""

from __future__ import annotations

import re
from pathlib import Path

from cmday.errors import ExitCode

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_exit_status_in_the_readme_is_in_the_enum_and_back():
    section = README.read_text(encoding="utf-8").split("### Exit codes", 1)[1].split("\n### ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}
    assert ExitCode.INTERRUPTED == 130
