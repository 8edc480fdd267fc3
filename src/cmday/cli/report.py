"""`cmday report`: the monthly report for the client, as HTML or Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.i18n import _

FORMATS = ("html", "md")


def register(app: typer.Typer) -> None:
    command(app, "report", help=_("Write the monthly report for the client: results, evolution, crises, recommendations."))(report)


def report(
    options: Options,
    month: Annotated[
        str | None, typer.Option("--month", help=_("The month, such as 2026-11 (default: last month)."), show_default=False)
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help=_("html or md (default: from --out's extension, else html)."), show_default=False)
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=_("Write to this file instead of standard output."), show_default=False)] = None,
    internal: Annotated[
        bool, typer.Option("--internal", help=_("The team's copy: escalation notes, contacts and channels included (not for the client)."))
    ] = False,
) -> None:
    import sys

    from cmday import report as reports
    from cmday.calendar.plan import load_plan
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.indicators import parse_period, period_of
    from cmday.session import Session

    chosen = (format or (out.suffix.lstrip(".").lower() if out is not None else "") or "html").lower()
    chosen = {"htm": "html", "markdown": "md"}.get(chosen, chosen)
    if chosen not in FORMATS:
        raise UsageError(_("unknown format {format!r}; use html or md").format(format=format or chosen))
    session = Session(options.workspace, options.demo, options.lang)
    try:
        project = session.workspace.default_project(options.project)
        zone = session.workspace.project_zone(project)
        today = session.now.astimezone(zone).date()
        period = parse_period(month, "month") if month else period_of("month", today).previous
        language = project.project.language or session.language
        with reports.speaking(language):
            built = reports.build(
                load_plan(session.workspace, project), session.store, period, session.now, language,
                owner=session.workspace.config.owner, internal=internal, contacts=_contact_names(session, project),
                team={member.handle: member.name for member in session.workspace.config.team},
            )
            if options.json:
                output.print_json(
                    {
                        "report": {
                            **built.indicators.as_json(details=True),
                            "details": reports.client_details(built),
                            "escalations": built.escalations,
                            "internal": built.internal,
                            "by_member": built.by_member,
                            "language": built.language,
                            "objectives": built.objectives,
                            "recommendations": built.recommendations,
                        }
                    }
                )
                return
            text = reports.render_html(built) if chosen == "html" else reports.render_markdown(built)
        missing = reports.missing_recommendations(built)  # the CM's language, on the terminal, not the client's copy
        if missing:
            output.message(_("warning: {what}").format(what=missing), style="yellow")
        if out is None:
            sys.stdout.write(text)
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(_("cannot write {path}: {reason}").format(path=out, reason=error.strerror)) from None
        output.message(_("report for {month} written to {path}").format(month=period.label, path=out))
    finally:
        session.close()


def _contact_names(session, project) -> dict[str, str]:
    """Escalation contacts by key, with the name the protocol gives them (for `[report] show_contacts`)."""
    if not project.report.show_contacts:
        return {}
    contacts = session.protocol(project).escalation.contacts
    return {key: contact.name for key, contact in contacts.items() if contact.name}
