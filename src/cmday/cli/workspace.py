"""`cmday init` and `cmday where`: creating a workspace and finding everything cmday uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.i18n import _, ngettext


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
    asked = not no_input and sys.stdin.isatty() and not options.json
    if asked:
        answers = _questionnaire(answers)
    results = create_workspace(root, answers)
    if asked:
        _progress_file().unlink(missing_ok=True)  # written: nothing left to resume
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
    from cmday.workspace import CONFIG_FILE, parse_file

    language = resolve_language(flag, parse_file(root / CONFIG_FILE, "WorkspaceConfig", root).language)
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
    """The brand questionnaire from the practice texts, one question at a time; Enter keeps the default.

    Each answer is kept as it is given: after Ctrl-C (or a closed terminal) the next `cmday init`
    offers to resume where it stopped.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from cmday.cli.prompts import confirm

    progress = _progress_file()
    given: dict = {}
    if progress.is_file():
        try:
            saved = json.loads(progress.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        if saved and confirm(
            ngettext("Resume the questionnaire where you left it ({count} answer kept)?",
                     "Resume the questionnaire where you left it ({count} answers kept)?", len(saved)).format(count=len(saved)),
            default=True,
        ):
            given = saved

    def keep(name: str, value) -> None:
        given[name] = value
        progress.parent.mkdir(parents=True, exist_ok=True)
        progress.write_text(json.dumps(given, ensure_ascii=False), encoding="utf-8")

    def ask(name: str, question: str, default: str = "") -> str:
        if name not in given:
            keep(name, typer.prompt(question, default=default, show_default=bool(default)).strip())
        return given[name]

    def ask_list(name: str, question: str) -> list[str]:
        return [part.strip() for part in ask(name, question + " " + _("(comma-separated)"), "").split(",") if part.strip()]

    answers.owner = ask("owner", _("Your name (the CM)"), answers.owner)
    answers.name = ask("name", _("Brand or project name"), answers.name)
    answers.client = ask("client", _("Client (company)"), answers.name)
    while "timezone" not in given:
        zone = typer.prompt(_("Time zone (IANA name)"), default=answers.timezone).strip()
        try:
            ZoneInfo(zone)
            keep("timezone", zone)
        except (ZoneInfoNotFoundError, ValueError):
            typer.echo(_("unknown time zone {zone!r}; for example Europe/Madrid or America/Bogota").format(zone=zone), err=True)
    answers.timezone = given["timezone"]
    answers.services = ask_list("services", _("What services or products does the brand offer?"))
    answers.audience = ask("audience", _("Who is the target audience?"), "")
    answers.competitors = ask_list("competitors", _("Who are the competitors?"))
    answers.push_topics = ask_list("push_topics", _("What does the brand want to push?"))
    answers.taboo_topics = ask_list("taboo_topics", _("What topics must never be published or discussed?"))
    answers.what_people_say = ask("what_people_say", _("What do people say about the brand?"), "")
    kpi = ask("kpi", _("Main objective's KPI (e.g. followers.instagram; empty to skip)"), "")
    if kpi:
        if "target" not in given:
            keep("target", _ask_number(_("Target for {kpi}").format(kpi=kpi)))
        answers.objectives = [(kpi, given["target"])]
    return answers


def _progress_file() -> Path:
    """Where the questionnaire's answers wait between an interrupted `cmday init` and the next one."""
    from cmday.session import state_home

    return state_home() / "init-answers.json"


def _ask_number(question: str) -> float:
    """A number as the CM writes it in the session's language (`3.000` is three thousand in Spanish), asked again until it reads one way."""
    from cmday.errors import UsageError
    from cmday.typed import read_number

    while True:
        typed = typer.prompt(question)
        try:
            return float(read_number(typed))
        except UsageError as error:
            typer.echo(error.message + (f" ({error.hint})" if error.hint else ""), err=True)


def where(options: Options) -> None:
    from cmday.cli import output
    from cmday.errors import ConfigError
    from cmday.secrets import secrets_dir
    from cmday.session import Session, state_home
    from cmday.store import is_database_url
    from cmday.store.postgres import without_password

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
            "state": without_password(str(session.state_target)),
            "backend": "postgresql" if is_database_url(session.state_target) else "sqlite",
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
            "backend": _("back end"),
            "secrets": _("secrets"),
            "demo": _("demo"),
            "language": _("language"),
        }
        for key, label in labels.items():
            value = info[key] if info[key] is not None else _("none found ({reason})").format(reason=problem)
            output.out.print(f"{label:<10} {value}", soft_wrap=True)
    finally:
        session.close()
