"""States, statuses, routine names and contacts are shown in the session's language; --json keeps the keys."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from cmday.i18n import set_language
from cmday.labels import contact_label, routine_label, state_label
from tests.cli_runner import run


def demo_mentions() -> list[dict]:
    """The demo's open mentions, after the morning sweep that brings them in."""
    run("morning", "--demo")
    return json.loads(run("inbox", "--demo", "--json").stdout)["mentions"]


# The demo's agenda follows the hour it is run at: mid-morning it holds a post already out and the next ones ready.
MID_MORNING = datetime(2026, 12, 2, 11, 0, tzinfo=ZoneInfo("Europe/Madrid"))


@time_machine.travel(MID_MORNING, tick=False)
def test_calendar_statuses_are_spanish_on_screen_and_keys_in_json() -> None:
    shown = run("calendar", "--demo", "--lang", "es")
    assert shown.exit_code == 0, shown.stderr
    assert "  lista  " in shown.stdout and "  publicada  " in shown.stdout
    for english in (" ready ", " published ", " draft "):
        assert english not in shown.stdout
    data = json.loads(run("calendar", "--demo", "--lang", "es", "--json").stdout)
    assert {post["status"] for day in data["projects"][0]["agenda"] for post in day["posts"]} >= {"ready", "published"}


@time_machine.travel(MID_MORNING.replace(hour=18), tick=False)
def test_close_shows_tomorrows_posts_as_ready_in_spanish() -> None:
    shown = run("close", "--demo", "--lang", "es")
    assert "  lista  " in shown.stdout
    assert " ready " not in shown.stdout


def test_inbox_heading_and_mark_speak_spanish_but_json_keeps_the_state_key() -> None:
    number = str(demo_mentions()[0]["id"])
    assert "Café Aroma · abiertas (" in run("inbox", "--demo", "--lang", "es").stdout
    assert json.loads(run("inbox", "--demo", "--lang", "es", "--json").stdout)["mentions"][0]["state"] == "open"
    marked = run("mark", number, "answered", "--demo", "--lang", "es")
    assert f"#{number}: respondida" in marked.stderr
    assert "estado: respondida" in run("show", number, "--demo", "--lang", "es", "--offline").stdout


def test_checklist_titles_name_the_moment_in_spanish() -> None:
    assert "Checklist de inicio del día" in run("checklist", "morning", "--demo", "--lang", "es").stdout
    assert "Checklist de cierre" in run("checklist", "close", "--demo", "--lang", "es").stdout
    assert "close checklist" in run("checklist", "close", "--demo").stdout


def test_labels_fall_back_to_the_key_a_workspace_chose() -> None:
    set_language("es")
    assert routine_label("weekly") == "weekly"
    assert state_label("open") == "abierta"
    assert contact_label("client") == "el cliente"
    assert contact_label("legal") == "legal"
    assert contact_label("client", "Marta Ruiz") == "Marta Ruiz"


def test_an_escalation_subject_names_the_contact_and_the_category_in_spanish() -> None:
    crisis = next(m for m in demo_mentions() if m["category"] == "crisis")
    sent = json.loads(run("escalate", str(crisis["id"]), "--to", "client", "--demo", "--lang", "es", "--json").stdout)
    assert sent["subject"].startswith("[Café Aroma] Para Marta Ruiz (Café Aroma): crisis de ")
    assert sent["to"] == "client"


def test_where_reports_the_workspace_language(workspace: Path) -> None:
    (workspace / "cmday.toml").write_text('owner = "Ana"\nlanguage = "es"\n', encoding="utf-8")
    info = json.loads(run("where", "--workspace", str(workspace), "--json").stdout)
    assert info["language"] == "es"
    assert "idioma     es" in run("where", "--workspace", str(workspace)).stdout
    assert json.loads(run("where", "--workspace", str(workspace), "--json", "--lang", "en").stdout)["language"] == "en"


def test_a_spanish_init_names_the_brand_in_spanish(tmp_path: Path) -> None:
    run("init", str(tmp_path / "ws"), "--no-input", "--lang", "es")
    project = tomllib.loads((tmp_path / "ws" / "projects" / "mi-marca.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "Mi marca"


def test_a_broken_project_file_is_told_in_the_workspaces_language(workspace: Path) -> None:
    """The workspace's language is chosen before its project files are read, so their errors are in it too."""
    (workspace / "cmday.toml").write_text('language = "es"\n', encoding="utf-8")
    (workspace / "projects" / "beta.toml").write_text('[project]\nname = "Beta"\ncolour = "red"\n', encoding="utf-8")
    ran = run("check", "--offline", "--workspace", str(workspace))
    assert ran.exit_code == 3
    assert "projects/beta.toml: project.colour: clave desconocida 'colour'" in ran.stderr
    assert "corrige ese valor y vuelve a ejecutar el comando" in ran.stderr
    assert "Revisión" in ran.stdout or "revisión" in ran.stdout  # acme's dashboard, in Spanish, is still shown
