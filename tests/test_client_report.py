"""The client's report tells only what the client should see, with the right numbers; the team's copy tells all."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cmday.mention import Mention
from cmday.store import Store
from tests.cli_runner import run
from tests.support.workspaces import use_protocol
from tests.test_report import no_external_resources, parse

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=MADRID)  # the first morning of December: November is whole, December has begun
MONTH = "2026-11"
NOTE = "Llamar al cliente y ofrecer reembolso"  # the team's words: never in the client's copy
HOSTILE_URL = "https://x.example/<script>alert(1)</script><img src=x onerror=alert(1)>"

PROJECT = """
[project]
name = "Acme Coffee"
slug = "acme"
timezone = "Europe/Madrid"
client = "Acme S.L."

[calendar]
platforms = ["mastodon"]
file = "calendar.csv"

[[objectives]]
kpi = "answered_share"
target = 0.9
period = "month"

[[objectives]]
kpi = "mentions_in"
target = 40
period = "month"
"""

# The CM's sheet, as Spanish Excel saves it: semicolons, day-first dates, Spanish statuses.
CALENDAR = (
    "fecha;hora;plataforma;texto;enlace;estado\r\n"
    "03/11/2026;10:00;mastodon;Nuevo tueste de otoño;https://acme.example/otono;publicado\r\n"
    "10/11/2026;10:00;mastodon;Taller de latte art;;listo\r\n"
    "17/11/2026;10:00;mastodon;Brunch de domingo;;listo\r\n"
    "24/11/2026;10:00;mastodon;Una encuesta, quizá;;idea\r\n"
    "02/12/2026;10:00;mastodon;Navidad en Acme;;listo\r\n"
)

PROTOCOL = """
[escalation.contacts.client]
name = "Marta Ruiz"
email = "marta@acme.example"
"""


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID)


def said(pid: str, when: datetime, author: str, category: str, text: str, platform: str = "mastodon", kind: str = "mention") -> Mention:
    return Mention(platform=platform, platform_id=pid, kind=kind, text=text, created_at=when, author_handle=author,
                   category=category, sla_due=when + timedelta(hours=1))


def build(root: Path, state: Path) -> None:
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text('owner = "Ana"\ntimezone = "Europe/Madrid"\n', encoding="utf-8")
    (root / "projects" / "acme.toml").write_text(PROJECT, encoding="utf-8")
    (root / "calendar.csv").write_bytes(CALENDAR.encode("utf-8"))
    use_protocol(root, PROTOCOL)
    store = Store(state)
    mentions = [
        said("p1", at(2, 10), "@lucia", "praise", "Best flat white in town"),
        said("p2", at(9, 10), "@lucia", "praise", "Loved the autumn roast"),
        said("q1", at(4, 11), "@lucia", "question", "Do you have decaf?"),
        said("q2", at(5, 11), "@tomas", "question", "Open on Sundays?"),
        said("c1", at(6, 9), "@pedro", "complaint", "El café llegó frío"),
        said("c2", at(13, 9), "@sara", "complaint", "El café llegó frío"),
        said("c3", at(20, 9), "@ines", "complaint", "El café llegó frío"),
        said("p3", at(7, 9), "@pedro", "praise", "ok the croissant was good"),  # a complainer who also praised
        said("p4", at(8, 9), "anónimo", "praise", "Muy rico todo"),
        said("p5", at(8, 12), "El Diario", "praise", "Acme, entre las mejores cafeterías", platform="rss", kind="alert"),
        said("x1", at(12, 11), "@madre", "crisis", "Mi hijo tuvo una reacción alérgica"),
        said("p6", at(11, 9), "@madre", "praise", "Great staff"),
    ]
    store.save_batch("acme", "masto", "mastodon", mentions, None, at(25, 9))
    ids = {m.platform_id: m.id for m in store.mentions("acme", states=None)}
    for pid, minutes in (("p1", 20), ("p2", 647), ("q1", 25), ("q2", 30), ("c1", 70), ("c2", 15), ("c3", 40), ("x1", 30), ("p6", 10)):
        created = next(m.created_at for m in mentions if m.platform_id == pid)
        store.set_state(ids[pid], "answered", created + timedelta(minutes=minutes))
    for pid in ("c1", "c2", "c3"):
        created = next(m.created_at for m in mentions if m.platform_id == pid)
        store.add_escalation(ids[pid], "client", "phone", NOTE, created + timedelta(minutes=5), True, "")
    store.add_escalation(ids["x1"], "client", "phone", NOTE + " (alergia)", at(12, 11, 10), True, "")
    # the post the calendar marks `publicado`, published by cmday; its URL came from the server
    store.claim_publication("acme", "adhoc-statement-mastodon", at(12, 12))
    store.finish_publication("acme", "adhoc-statement-mastodon", "published", at(12, 12), url=HOSTILE_URL)
    store.close()


@pytest.fixture
def acme(tmp_path: Path, cmday_home: Path):
    root = tmp_path / "ws"
    build(root, cmday_home / "state.sqlite3")
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield root


def report(root: Path, *args: str) -> str:
    ran = run("report", "--workspace", str(root), "--month", MONTH, *args)
    assert ran.exit_code == 0, ran.stderr
    return ran.stdout


def section(markdown: str, heading: str) -> str:
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert found, heading
    return found[1]


# -- 1. only what the client should see -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_client_copy_has_no_internal_note_contact_key_or_channel(acme: Path, fmt: str):
    text = report(acme, "--format", fmt)
    assert NOTE not in text and "alergia)" not in text
    assert "phone" not in text
    assert not re.search(r"\bclient\b", text.replace("Client:", ""))  # the contact key, in English, in a Spanish team's report
    assert "Marta Ruiz" not in text  # no internal names unless the project says so


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_team_copy_has_everything(acme: Path, fmt: str):
    text = report(acme, "--format", fmt, "--internal")
    assert NOTE in text and "client (phone)" in text
    assert "not for the client" in text


def test_report_json_is_the_client_copy_unless_internal(acme: Path):
    import json

    client = run("report", "--workspace", str(acme), "--month", MONTH, "--json").stdout
    assert NOTE not in client and '"phone"' not in client
    data = json.loads(client)["report"]
    assert [line["count"] for line in data["escalations"]] == [3, 1] and data["internal"] is False
    team = run("report", "--workspace", str(acme), "--month", MONTH, "--json", "--internal").stdout
    assert NOTE in team and '"phone"' in team


def test_the_project_may_name_contacts_in_the_client_copy(acme: Path):
    project = acme / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + "\n[report]\nshow_contacts = true\n", encoding="utf-8")
    text = report(acme, "--format", "md")
    assert "Marta Ruiz" in section(text, "Escalations")
    assert NOTE not in text and "phone" not in text


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_people_worth_engaging_are_those_who_spoke_well_of_the_brand(acme: Path, fmt: str):
    text = report(acme, "--format", fmt)
    if fmt == "md":
        people = section(text, "People worth engaging")
        rows = [line.split("|")[1].strip() for line in people.splitlines() if line.startswith("| ")][1:]  # after the header
    else:
        rows = [a["data-person"] for t, a in parse(text).tags if t == "tr" and "data-person" in a]
    assert rows[0] == "@lucia"  # two praise and an answered question
    assert "@tomas" in rows  # an answered question
    for left_out in ("@pedro", "@sara", "@ines", "@madre", "anónimo", "El Diario"):
        assert left_out not in rows, left_out  # complainers, the crisis, anonymous, an alert source


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_identical_escalations_are_one_line_with_a_count_and_dates(acme: Path, fmt: str):
    text = report(acme, "--format", fmt)
    if fmt == "md":
        lines = [line for line in section(text, "Escalations").splitlines() if line.startswith("- ")]
        assert len(lines) == 2, lines  # the cold coffee three times, and the crisis
        assert lines[0].startswith("- 6 Nov – 20 Nov · 3 times · «El café llegó frío»")
    else:
        page = parse(text)
        counts = [a["data-count"] for t, a in page.tags if t == "li" and "data-count" in a]
        assert counts == ["3", "1"]
        assert "6 Nov – 20 Nov · 3 times · «El café llegó frío»" in page.text


def test_the_html_client_copy_fetches_nothing(acme: Path):
    no_external_resources(parse(report(acme)))


# -- 2. nothing in the Markdown can act as markup ------------------------------------------------------------


def test_a_post_url_from_the_server_never_becomes_markup_in_markdown(acme: Path):
    text = report(acme, "--format", "md")
    assert "<script>" not in text and "<img" not in text and "onerror=alert(1)>" not in text
    assert "<https://x.example/%3Cscript%3Ealert%281%29%3C/script%3E%3Cimg%20src=x%20onerror=alert%281%29%3E>" in section(text, "Best posts")


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://acme.example/a?b=1&c=2#d", "<https://acme.example/a?b=1&c=2#d>"),
        ("HTTP://acme.example/x y", "<HTTP://acme.example/x%20y>"),
        ("javascript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("https://", ""),
        ("https://a.example/\x1b[31m>", "<https://a.example/%3E>"),
    ],
)
def test_markdown_links_are_only_http_and_cannot_be_closed_early(url: str, link: str):
    from cmday.report import md_link

    assert md_link(url) == link


# -- 3. right numbers, labelled right -------------------------------------------------------------------------


def test_posts_planned_in_the_calendar_sheet_are_counted_by_kpi_and_the_report(acme: Path):
    import json

    figures = json.loads(run("kpi", "--workspace", str(acme), "--month", MONTH, "--json").stdout)
    values = {i["key"]: i["value"] for i in figures["indicators"]}
    assert values["posts_planned"] == 3  # four rows in November, one of them an idea
    assert values["posts_published"] == 2  # the row marked `publicado`, and the statement cmday published
    text = report(acme, "--format", "md")
    assert "- 2 posts published, 3 planned in the calendar." in text
    assert "Nuevo tueste de otoño" in section(text, "Best posts")
    html_page = parse(report(acme))
    assert html_page.figures["posts_planned"] == "3" and html_page.figures["posts_published"] == "2"
    calendar = json.loads(run("calendar", "--workspace", str(acme), "--json").stdout)["projects"][0]
    assert [p["text"] for d in calendar["agenda"] for p in d["posts"]] == ["Navidad en Acme"]  # the same sheet, one loader


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_month_in_progress_is_labelled_and_its_objectives_are_on_track_or_behind(acme: Path, fmt: str):
    ran = run("report", "--workspace", str(acme), "--month", "2026-12", "--format", fmt)
    assert ran.exit_code == 0, ran.stderr
    assert "1–1 December, month in progress" in ran.stdout
    assert "not met" not in ran.stdout and "met" not in re.sub(r"<[^>]+>", " ", ran.stdout).split("Objectives")[1].split("Indicators")[0]
    assert "behind" in ran.stdout or "on track" in ran.stdout


def test_a_whole_month_says_met_or_not_met(acme: Path):
    text = report(acme, "--format", "md")
    assert "Period: November 1, 2026 to November 30, 2026" in text
    objectives = section(text, "Objectives")
    assert "| Mentions in | 40 | 12 | ✘ not met |" in objectives
    assert "| Answered | 90% | 75% | ✘ not met |" in objectives  # 9 of 12: November is over, so not "behind"
    assert "in progress" not in text


def test_kpi_marks_a_week_in_progress(acme: Path):
    ran = run("kpi", "--workspace", str(acme))
    assert ran.exit_code == 0, ran.stderr
    assert "In progress: 30 Nov – 1 Dec, week in progress (2 of 7 days); compared with the whole 2026-W48." in " ".join(ran.stdout.split())
    assert "W49*" in ran.stdout
    data = __import__("json").loads(run("kpi", "--workspace", str(acme), "--json").stdout)
    assert (data["in_progress"], data["days_counted"], data["days"]) == (True, 2, 7)
    whole = __import__("json").loads(run("kpi", "--workspace", str(acme), "--week", "2026-W47", "--json").stdout)
    assert (whole["in_progress"], whole["days_counted"]) == (False, 7)


def test_durations_read_as_a_person_says_them(acme: Path):
    text = report(acme, "--format", "md")
    assert "answered in 10 h 47 min" in text  # 647 minutes
    assert "647" not in text and "min" not in re.sub(r"\d+ h \d+ min|\d+ min|\d+ h", "", text)
    assert "answered in 20 min" in text


def test_counts_agree_in_number_in_both_languages(acme: Path):
    english = report(acme, "--format", "md")
    assert "1 mention; 1 answered, 1 escalated." in english  # the crisis
    spanish = report(acme, "--format", "md", "--lang", "es")
    project = acme / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace('slug = "acme"', 'slug = "acme"\nlanguage = "es"'), encoding="utf-8")
    spanish = report(acme, "--format", "md")
    assert "1 mención; 1 respondida, 1 escalada." in spanish
    assert "Han entrado 12 menciones" in spanish
    assert "3 veces" in spanish
    assert "1–1 de diciembre, mes en curso" in run("report", "--workspace", str(acme), "--month", "2026-12", "--format", "md").stdout


def test_missing_recommendations_are_a_warning_on_the_terminal_not_in_the_client_copy(acme: Path):
    ran = run("report", "--workspace", str(acme), "--month", MONTH, "--format", "html")
    assert "warning: No recommendations were written for this month" in ran.stderr
    assert "No recommendations were written" not in ran.stdout and 'class="missing"' not in ran.stdout


# -- 4. recommendations drafted from the figures ------------------------------------------------------------


def drafts_of(text: str) -> list[str]:
    part = section(text, "Recommendations").split("### From this month’s figures")[1]
    return [line[2:] for line in part.splitlines() if line.startswith("- ")]


def test_recommendations_are_drafted_from_the_month_with_their_numbers(acme: Path):
    drafts = drafts_of(report(acme, "--format", "md"))
    assert "Mentions in: 12 against a target of 40; make it the first goal of next month's plan." in drafts
    assert "Answered: 75% against a target of 90%; make it the first goal of next month's plan." in drafts
    assert "4 of the 5 late answers came in between 09:00 and 12:00: add a check at that time." in drafts
    assert any(d.startswith("No post went out on Monday, Wednesday, Friday, Saturday, and Sunday this month, of 2 published") for d in drafts)
    page = parse(report(acme))
    topics = [a["data-topic"] for t, a in page.tags if t == "li" and "data-topic" in a]
    assert topics[:2] == ["objective:answered_share", "objective:mentions_in"] and "late-hours" in topics


def test_the_cms_own_recommendations_come_first_and_win_on_the_same_topic(acme: Path):
    project = acme / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + '\n[report]\nrecommendations = "reports/acme-{month}.md"\n', encoding="utf-8")
    (acme / "reports").mkdir()
    (acme / "reports" / "acme-2026-11.md").write_text("**Mornings.** Late answers pile up before noon: Tomás checks at 10:00.\n", encoding="utf-8")
    ran = run("report", "--workspace", str(acme), "--month", MONTH, "--format", "md")
    assert "No recommendations were written" not in ran.stderr
    recommendations = section(ran.stdout, "Recommendations")
    assert recommendations.index("**Mornings.**") < recommendations.index("### From this month’s figures")
    drafts = drafts_of(ran.stdout)
    assert not any("late answers came in" in d for d in drafts)  # the CM spoke of late answers: their words win
    assert any(d.startswith("Mentions in: 12") for d in drafts)


def test_drafts_in_spanish_and_switched_off(acme: Path):
    project = acme / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace('slug = "acme"', 'slug = "acme"\nlanguage = "es"'), encoding="utf-8")
    text = report(acme, "--format", "md")
    assert "### A partir de las cifras del mes" in text
    assert "- 4 de las 5 respuestas fuera de plazo entraron entre las 09:00 y las 12:00: conviene añadir una revisión a esa hora." in text
    assert "Menciones recibidas: 12 frente a una meta de 40" in text
    project.write_text(project.read_text(encoding="utf-8") + "\n[report]\ndrafts = false\n", encoding="utf-8")
    assert "A partir de las cifras" not in report(acme, "--format", "md")
