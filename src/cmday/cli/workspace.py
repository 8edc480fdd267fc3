"""`cmday init` and `cmday where`: creating a workspace and finding everything cmday uses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.i18n import _


def register(app: typer.Typer) -> None:
    command(app, "init", help=_("Create a workspace: cmday.toml and a commented project file."))(init)
    command(app, "where", help=_("Show the workspace, state file and secrets folder cmday uses."))(where)


def init(
    options: Options,
    folder: Annotated[Path, typer.Argument(help=_("Where to create it (default: this folder)."))] = Path("."),
    no_input: Annotated[bool, typer.Option("--no-input", help=_("Ask nothing: write the commented template."))] = False,
) -> None:
    from cmday.cli import output
    from cmday.i18n import active_language
    from cmday.init import Answers, create_workspace

    root = options.workspace or folder
    answers = Answers(language=active_language(), timezone=_local_timezone(), name=_("My Brand"))
    if not no_input and sys.stdin.isatty() and not options.json:
        answers = _questionnaire(answers)
    results = create_workspace(root, answers)
    if options.json:
        output.print_json({"workspace": str(root.resolve()), "files": [{"path": str(p), "created": c} for p, c in results]})
        return
    for path, created in results:
        if created:
            output.message(_("created {path}").format(path=path), style="green")
        else:
            output.message(_("kept {path}: it already exists and cmday never overwrites").format(path=path), style="yellow")
    output.message(_("Next: edit the project file, then run `cmday morning` in {root}.").format(root=root))


def _workspace_language(root: Path, flag: str | None) -> str:
    """The language the workspace's commands speak (its cmday.toml read alone: a broken project file does not matter here)."""
    from cmday.i18n import resolve_language, set_language
    from cmday.models import WorkspaceConfig
    from cmday.workspace import CONFIG_FILE, parse_file

    language = resolve_language(flag, parse_file(root / CONFIG_FILE, WorkspaceConfig, root).language)
    set_language(language)  # `where` speaks it too, as every other command of the workspace does
    return language


def _local_timezone() -> str:
    import os

    zone = os.environ.get("TZ", "")
    if zone and "/" in zone:
        return zone
    try:
        link = Path("/etc/localtime").resolve()
        parts = link.parts
        if "zoneinfo" in parts:
            return "/".join(parts[parts.index("zoneinfo") + 1 :])
    except OSError:
        pass
    return "UTC"


def _questionnaire(answers):
    """The brand questionnaire from the practice texts, one question at a time; Enter keeps the default."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    def ask(question: str, default: str = "") -> str:
        return typer.prompt(question, default=default, show_default=bool(default)).strip()

    def ask_list(question: str) -> list[str]:
        return [part.strip() for part in ask(question + " " + _("(comma-separated)"), "").split(",") if part.strip()]

    answers.owner = ask(_("Your name (the CM)"), answers.owner)
    answers.name = ask(_("Brand or project name"), answers.name)
    answers.client = ask(_("Client (company)"), answers.name)
    while True:
        zone = ask(_("Time zone (IANA name)"), answers.timezone)
        try:
            ZoneInfo(zone)
            answers.timezone = zone
            break
        except (ZoneInfoNotFoundError, ValueError):
            typer.echo(_("unknown time zone {zone!r}; for example Europe/Madrid or America/Bogota").format(zone=zone), err=True)
    answers.services = ask_list(_("What services or products does the brand offer?"))
    answers.audience = ask(_("Who is the target audience?"), "")
    answers.competitors = ask_list(_("Who are the competitors?"))
    answers.push_topics = ask_list(_("What does the brand want to push?"))
    answers.taboo_topics = ask_list(_("What topics must never be published or discussed?"))
    answers.what_people_say = ask(_("What do people say about the brand?"), "")
    kpi = ask(_("Main objective's KPI (e.g. followers.instagram; empty to skip)"), "")
    if kpi:
        target = typer.prompt(_("Target for {kpi}").format(kpi=kpi), type=float)
        answers.objectives = [(kpi, target)]
    return answers


def where(options: Options) -> None:
    from cmday.cli import output
    from cmday.errors import ConfigError
    from cmday.secrets import secrets_dir
    from cmday.session import Session, state_home

    session = Session(options.workspace, options.demo, options.lang)
    try:
        workspace: str | None
        problem = None
        language = session.language
        try:
            workspace = str(session.workspace_root)
        except ConfigError as error:
            workspace, problem = None, error.message
        if workspace is not None:
            try:
                language = _workspace_language(session.workspace_root, options.lang)
            except ConfigError as error:
                problem = error.message
        info = {
            "workspace": workspace,
            "workspace_problem": problem,
            "state": str(session.state_path),
            "secrets": str(secrets_dir()),
            "demo": str(state_home() / "demo"),
            "language": language,
        }
        if options.json:
            output.print_json(info)
            return
        labels = {
            "workspace": _("workspace"),
            "state": _("state"),
            "secrets": _("secrets"),
            "demo": _("demo"),
            "language": _("language"),
        }
        for key, label in labels.items():
            value = info[key] if info[key] is not None else _("none found ({reason})").format(reason=problem)
            output.out.print(f"{label:<10} {value}", soft_wrap=True)
    finally:
        session.close()
