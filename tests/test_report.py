"""The monthly report: the same figures as `cmday kpi --json`, nothing fetched, untrusted text escaped, printable."""

from __future__ import annotations

import json
import re
from datetime import UTC
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine

from cmday.errors import ExitCode
from cmday.mention import Mention
from tests.cli_runner import run
from tests.test_indicators import NOW, build_state, local, make_workspace

MONTH = "2026-10"
HOSTILE_TEXT = '<script>alert("x")</script><img src="https://tracker.example/p.gif"> [link](javascript:alert(1)) **bold**'
HOSTILE_AUTHOR = '"><b>boss</b>'


class Page(HTMLParser):
    """What a report's HTML holds: its figures (data-* attributes), every tag with its attributes, its style text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: dict[str, str] = {}
        self.previous: dict[str, str] = {}
        self.targets: dict[str, str] = {}
        self.shown: dict[str, str] = {}
        self.styles = ""
        self.text = ""
        self._open: list[str] = []
        self._capture: str | None = None
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "data-kpi" in attributes:
            self.figures[attributes["data-kpi"]] = attributes["data-value"]
            self._capture = attributes["data-kpi"]
            self.shown[self._capture] = ""
        if "data-previous" in attributes:
            self.previous[attributes["data-previous"]] = attributes["data-value"]
        if "data-target" in attributes and "data-value" in attributes:
            self.targets[attributes["data-target"]] = attributes["data-value"]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "div":
            self._capture = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles += data
            return
        self.text += data
        if self._capture:
            self.shown[self._capture] += data


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


@pytest.fixture
def acme(tmp_path: Path, cmday_home: Path) -> str:
    root = make_workspace(tmp_path / "ws", extra_project='client = "Acme S.L."')
    store = build_state(cmday_home / "state.sqlite3")
    store.save_batch("acme", "masto", "mastodon", [
        Mention("mastodon", "hostile", "mention", HOSTILE_TEXT, local(20, 12), author_handle=HOSTILE_AUTHOR, category="complaint"),
    ], None, local(20, 13))
    store.close()
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield str(root)


def report(root: str, *args: str) -> str:
    ran = run("report", "--workspace", root, "--month", MONTH, *args)
    assert ran.exit_code == 0, ran.stderr
    return ran.stdout


def no_external_resources(page: Page) -> None:
    for tag, attributes in page.tags:
        assert tag not in ("script", "iframe", "object", "embed"), tag
        if tag == "link":
            assert "stylesheet" not in (attributes.get("rel") or ""), attributes
        for name in ("src", "srcset", "data", "poster", "background"):
            assert not attributes.get(name), (tag, name, attributes)
        if tag in ("link", "use", "image"):
            assert not re.match(r"\s*(https?:)?//", attributes.get("href") or ""), (tag, attributes)
    assert "@import" not in page.styles and "url(" not in page.styles and "@font-face" not in page.styles


def test_the_html_report_has_the_figures_of_kpi_json(acme: str):
    page = parse(report(acme, "--format", "html"))
    figures = json.loads(run("kpi", "--workspace", acme, "--month", MONTH, "--json").stdout)
    assert figures["period"] == MONTH
    for indicator in figures["indicators"]:
        key = indicator["key"]
        assert number(page.figures[key]) == indicator["value"], key
        assert number(page.previous[key]) == indicator["previous"], key
        if indicator["target"] is not None:
            assert number(page.targets[key]) == indicator["target"], key
    assert set(page.figures) == {i["key"] for i in figures["indicators"]}
    # and what a person reads is that same figure
    assert page.shown["mentions_in"].strip() == "15"  # the week's 12, p1, m14 and the hostile one
    assert page.shown["answered_share"].strip() == "77%"  # 10 of 13: m7, m14 and the hostile one wait
    assert page.shown["response_time_median_minutes"].strip() == "25 min"  # 0 0 5 10 20 | 30 30 45 60 120
    assert page.shown["followers.instagram"].strip() == "12,840"


def test_the_markdown_report_has_the_same_figures(acme: str):
    text = report(acme, "--format", "md")
    figures = {i["key"]: i for i in json.loads(run("kpi", "--workspace", acme, "--month", MONTH, "--json").stdout)["indicators"]}
    assert figures["mentions_in"]["value"] == 15
    assert re.search(r"^\| Mentions in \| 15 \| 0 \|", text, re.M)
    assert re.search(r"^\| Answered \| 77% \|", text, re.M)
    assert re.search(r"^\| Followers · instagram \| 12,840 \|", text, re.M)
    for heading in ("## Summary", "## Objectives", "## Indicators", "## Response times", "## Best posts",
                    "## Notable mentions", "## Crises and how they were handled", "## People worth engaging", "## Recommendations"):
        assert heading in text


def test_the_html_report_fetches_nothing_and_escapes_what_came_from_the_network(acme: str):
    text = report(acme)
    page = parse(text)
    no_external_resources(page)
    assert "<script>" not in text and "<b>boss</b>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert HOSTILE_TEXT[:30] in page.text  # shown, as the characters it is
    assert '"><b>boss</b>' in page.text
    assert 'href="javascript' not in text


def test_markdown_neutralises_what_came_from_the_network(acme: str):
    text = report(acme, "--format", "md")
    assert "<script>" not in text and "\\[link\\]" in text and "\\*\\*bold\\*\\*" in text


def test_the_html_report_prints_cleanly(acme: str):
    page = parse(report(acme))
    assert "@media print" in page.styles and "@page" in page.styles
    assert any(tag == "svg" for tag, _a in page.tags)
    assert next(a for t, a in page.tags if t == "html")["lang"] == "en"


def test_objectives_met_or_not(acme: str):
    page = parse(report(acme))
    rows = [a for t, a in page.tags if t == "tr" and a.get("class") in ("met", "missed", "on-track", "behind", "unknown")]
    # October is in progress on the 27th: 77% < 95%; 25 <= 60; 15 < 20 × 27/31 days; the weekly one has no monthly figure
    assert [r["class"] for r in rows] == ["behind", "on-track", "behind", "unknown"]
    assert "not met" not in page.text and "1–27 October, month in progress" in page.text


def test_recommendations_missing_then_written(acme: str):
    ran = run("report", "--workspace", acme, "--month", MONTH, "--format", "md")
    assert "No recommendations were written for this month" in ran.stderr  # a warning for the CM on the terminal...
    assert "No recommendations were written" not in ran.stdout  # ...not a box in the client's copy
    project = Path(acme) / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + '\n[report]\nrecommendations = "reports/acme-{month}.md"\n', encoding="utf-8")
    ran = run("report", "--workspace", acme, "--month", MONTH, "--format", "html")
    assert "reports/acme-2026-10.md does not exist yet" in ran.stderr and "reports/acme-2026-10.md" not in ran.stdout
    (Path(acme) / "reports").mkdir()
    (Path(acme) / "reports" / "acme-2026-10.md").write_text(
        "**Post less on Sundays.**\n\n![pixel](https://tracker.example/p.png) <img src=x onerror=alert(1)>\n", encoding="utf-8"
    )
    assert "**Post less on Sundays.**" in report(acme, "--format", "md")
    html_text = report(acme)
    page = parse(html_text)
    assert "<strong>Post less on Sundays.</strong>" in html_text
    no_external_resources(page)  # neither the image nor the raw HTML became a tag
    assert "onerror=alert(1)" not in [v for _t, a in page.tags for v in a]


def test_recommendations_written_inline(acme: str):
    project = Path(acme) / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + '\n[report]\nrecommendations = """\n- Answer Instagram at every check.\n"""\n', encoding="utf-8")
    assert "- Answer Instagram at every check." in report(acme, "--format", "md")


def test_a_spanish_project_gets_a_spanish_report(acme: str):
    project = Path(acme) / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace('slug = "acme"', 'slug = "acme"\nlanguage = "es"'), encoding="utf-8")
    text = report(acme)
    page = parse(text)
    assert next(a for t, a in page.tags if t == "html")["lang"] == "es"
    assert page.shown["followers.instagram"].strip() == "12.840"
    assert page.shown["answered_share"].strip() == "77\u00a0%"
    assert "Informe mensual" in text and "Octubre de 2026" in text


def test_report_writes_a_file_with_the_format_of_its_extension(acme: str, tmp_path: Path):
    out = tmp_path / "acme-2026-10.md"
    ran = run("report", "--workspace", acme, "--month", MONTH, "--out", str(out))
    assert ran.exit_code == 0, ran.stderr
    assert out.read_text(encoding="utf-8").startswith("# Acme Coffee")
    assert str(out) in ran.stderr


def test_report_json_is_the_same_computation(acme: str):
    data = json.loads(run("report", "--workspace", acme, "--month", MONTH, "--json").stdout)["report"]
    figures = json.loads(run("kpi", "--workspace", acme, "--month", MONTH, "--json").stdout)
    assert [(i["key"], i["value"]) for i in data["indicators"]] == [(i["key"], i["value"]) for i in figures["indicators"]]
    assert data["details"]["crises"][0]["answered"] == 2


@pytest.mark.parametrize(("args", "words"), [(["--format", "pdf"], "unknown format"), (["--month", "2026-W43"], "not a month")])
def test_report_mistakes_are_usage_errors(acme: str, args: list[str], words: str):
    ran = run("report", "--workspace", acme, *args)
    assert ran.exit_code == ExitCode.USAGE
    assert words in ran.stderr and "Traceback" not in ran.stderr


def test_report_demo_in_both_formats():
    html_run = run("report", "--demo")  # last month: a crisis, escalations, posts, recommendations
    assert html_run.exit_code == 0, html_run.stderr
    page = parse(html_run.stdout)
    no_external_resources(page)
    assert "Crisis from" in page.text or "Crisis on" in page.text
    assert "What worked." in page.text  # the demo CM's recommendations
    assert int(page.figures["crises"]) == 1
    md_run = run("report", "--demo", "--format", "md", "--lang", "es")
    assert md_run.exit_code == 0, md_run.stderr
    assert "## Recomendaciones" in md_run.stdout or "## Recommendations" in md_run.stdout
