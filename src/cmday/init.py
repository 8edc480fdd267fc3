"""Creating a workspace: cmday.toml and a commented project file, from the brand questionnaire's answers."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cmday.models import Project, WorkspaceConfig
from cmday.workspace import CONFIG_FILE, PROJECTS_DIR, parse_text

_TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Answers:
    """The questionnaire from the practice texts' knowledge management, plus who and where."""

    owner: str = ""
    name: str = "My Brand"
    client: str = ""
    timezone: str = "UTC"
    language: str = "en"
    services: list[str] = field(default_factory=list)
    audience: str = ""
    competitors: list[str] = field(default_factory=list)
    push_topics: list[str] = field(default_factory=list)
    taboo_topics: list[str] = field(default_factory=list)
    what_people_say: str = ""
    objectives: list[tuple[str, float]] = field(default_factory=list)


def slugify(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:40] or "brand"


def toml_value(value: object) -> str:
    """A TOML literal: JSON's string escapes are valid TOML basic-string escapes."""
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def config_text(answers: Answers, slug: str) -> str:
    return (
        "# cmday workspace: who works here and the defaults for every project.\n"
        f"owner = {toml_value(answers.owner)}\n"
        f"default_project = {toml_value(slug)}\n"
        f"timezone = {toml_value(answers.timezone)}\n"
        f"language = {toml_value(answers.language)}\n"
    )


def project_text(answers: Answers, slug: str) -> str:
    template = (_TEMPLATES / f"project.{answers.language}.toml").read_text(encoding="utf-8")
    if answers.objectives:
        objectives = "".join(
            f"[[objectives]]\nkpi = {toml_value(kpi)}\ntarget = {target:g}\nperiod = \"month\"\n\n"
            for kpi, target in answers.objectives
        )
    else:
        objectives = (
            "# [[objectives]]\n# kpi = \"followers.instagram\"\n# target = 12000\n# period = \"month\"   # week, month, quarter, year\n"
        )
    brand = [answers.name.lower()]
    return template.format(
        name=answers.name,
        slug=slug,
        env=slug.upper().replace("-", "_"),
        name_toml=toml_value(answers.name),
        slug_toml=toml_value(slug),
        language_toml=toml_value(answers.language),
        timezone_toml=toml_value(answers.timezone),
        client_toml=toml_value(answers.client),
        services_toml=toml_value(answers.services),
        audience_toml=toml_value(answers.audience),
        competitors_toml=toml_value(answers.competitors),
        push_toml=toml_value(answers.push_topics),
        taboo_toml=toml_value(answers.taboo_topics),
        people_say_toml=toml_value(answers.what_people_say),
        objectives=objectives,
        brand_toml=toml_value(brand),
    )


def create_workspace(root: Path, answers: Answers) -> list[tuple[Path, bool]]:
    """Write what is missing; never overwrite. Returns each file with whether it was created."""
    slug = slugify(answers.name)
    files = [
        (root / CONFIG_FILE, config_text(answers, slug), WorkspaceConfig),
        (root / PROJECTS_DIR / f"{slug}.toml", project_text(answers, slug), Project),
    ]
    results = []
    for path, text, model in files:
        parse_text(text, model, str(path))  # what we write must load: a broken template is our bug, not theirs
        if path.exists():
            results.append((path, False))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:  # "x": fails rather than overwrite a file created meanwhile
            handle.write(text)
        results.append((path, True))
    return results
