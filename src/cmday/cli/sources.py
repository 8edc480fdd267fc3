"""`cmday sources` and `cmday auth`: each source's health, and storing a source's secret."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cmday.cli.common import Options, command
from cmday.i18n import _, ngettext
from cmday.labels import state_label


def register(app: typer.Typer) -> None:
    command(app, "sources", help=_("List every source with its health: last success, last error, credentials, mentions."))(sources)
    command(app, "auth", help=_("Store a source's token or app password (mode 0600), instead of an environment variable."))(auth)


def sources(
    options: Options,
    check: Annotated[bool, typer.Option("--check", help=_("Also make a cheap authenticated call to see whether each source's credentials work."))] = False,
) -> None:
    from rich.table import Table
    from rich.text import Text

    from cmday.cli import output
    from cmday.errors import ExitCode
    from cmday.secrets import secret_origin
    from cmday.session import Session
    from cmday.textsafe import one_line

    session = Session(options.workspace, options.demo, options.lang)
    try:
        rows = []
        for project in session.workspace.select(options.project):
            health = session.store.source_health(project.slug)
            verified = {}
            if check and not options.offline:
                from cmday.sync import verify_sources

                verified = verify_sources(session.workspace, project, session.store)
            for source in project.sources:
                state = health.get(source.id)
                skipped = _skipped_rows(source, state)
                unanswered = _search_unanswered(source, state)
                rows.append(
                    {
                        "project": project.slug,
                        "source": source.id,
                        "platform": source.platform,
                        "enabled": source.enabled,
                        "credentials": secret_origin(project.slug, source),
                        "last_success": (
                            state.last_success.astimezone(session.workspace.project_zone(project)).isoformat()
                            if state and state.last_success
                            else None
                        ),
                        "last_error": state.last_error if state else None,
                        "needs_auth": bool(state and state.needs_auth),
                        "mentions": state.mentions if state else 0,
                        "credentials_work": verified[source.id][0] if source.id in verified else None,
                        "account": verified[source.id][1] if source.id in verified else None,
                        "skipped_rows": skipped,
                        "search_unanswered": unanswered,
                        "token_expiry": _token_expiry(source, state),
                    }
                )
        # Scripts and cron learn from the exit code alone that a source needs `cmday auth`.
        refused = typer.Exit(int(ExitCode.SOURCES)) if any(row["credentials_work"] is False for row in rows) else None
        if options.json:
            output.print_json({"sources": rows})
            if refused:
                raise refused
            return
        several = len({row["project"] for row in rows}) > 1
        table = Table(box=None, header_style="dim", pad_edge=False, expand=True)
        table.add_column(_("source"), no_wrap=True)
        table.add_column(_("platform"), no_wrap=True)
        table.add_column(_("secret"), no_wrap=True)
        table.add_column(_("last success"), no_wrap=True)
        table.add_column(_("mentions"), no_wrap=True, justify="right")
        table.add_column(_("state"), ratio=1, overflow="fold")
        for row in rows:
            if not row["enabled"]:
                state = Text(_("disabled"), style="dim")
            elif row["credentials_work"] is False:
                state = Text(_("credentials refused: {error}").format(error=one_line(row["account"], 120)), style="bold red")
            elif row["needs_auth"]:
                state = Text(_("set its credentials: cmday auth {source}").format(source=row["source"]), style="bold red")
            elif row["last_error"]:
                state = Text(one_line(row["last_error"], 160), style="red")
            elif row["token_expiry"]:
                state = Text(row["token_expiry"], style="yellow")
            elif row["skipped_rows"] and row["skipped_rows"]["count"]:
                state = Text(row["skipped_rows"]["note"], style="yellow")
            elif row["search_unanswered"]:
                from cmday.sources.mastodon.fetch import EMPTY_SEARCHES

                said = ngettext(
                    "search found no posts in {count} fetch: this instance may lack full-text search (hashtags still work)",
                    "search found no posts in {count} fetches: this instance may lack full-text search (hashtags still work)",
                    EMPTY_SEARCHES,
                )
                state = Text(said.format(count=EMPTY_SEARCHES), style="yellow")
            elif row["credentials_work"]:
                state = Text(_("ok, logged in as {account}").format(account=one_line(row["account"], 60)), style="green")
            elif row["last_success"]:
                state = Text(_("ok"), style="green")
            else:
                state = Text(_("never fetched"), style="yellow")
            name = f"{row['project']}/{row['source']}" if several else row["source"]
            last = row["last_success"][5:16].replace("T", " ") if row["last_success"] else "—"
            table.add_row(name, row["platform"], state_label(row["credentials"]), last, str(row["mentions"]), state)
        output.out.print(table)
        if refused:
            raise refused
    finally:
        session.close()


def _token_expiry(source, state) -> str | None:
    """Instagram and Facebook: the token's end a week before (Meta's `debug_token`, or `token_expires`), or what it lacks."""
    if source.platform not in ("instagram", "facebook"):
        return None
    from cmday import clock
    from cmday.sources.graph.token import source_token_notes

    notes = source_token_notes(source, state.cursor if state else None, clock.now())
    return "; ".join(note.removeprefix(f"{source.id}: ") for note in notes) or None  # the row names the source


def _search_unanswered(source, state) -> list[str] | None:
    """For Mastodon: the keyword searches its instance has answered empty fetch after fetch (see search_unanswered)."""
    if source.platform != "mastodon" or state is None:
        return None
    from cmday.sources.mastodon.fetch import search_unanswered

    return search_unanswered(state.cursor) or None


def _skipped_rows(source, state) -> dict | None:
    """For an import file: the rows its last import skipped, as the source's cursor keeps them until the file changes."""
    if source.platform != "file":
        return None
    from pathlib import Path

    from cmday.sources.fileimport.adapter import skipped_note, skipped_rows

    total, rows = skipped_rows(state.cursor if state else None)
    return {
        "count": total,
        "rows": [{"line": row.line, "reason": row.reason, "detail": row.detail} for row in rows],
        "note": skipped_note(Path(source.path).name, total, rows) if total else "",
    }


def auth(
    options: Options,
    source_id: Annotated[str, typer.Argument(metavar="SOURCE", help=_("The source's id in the project file."))],
    from_stdin: Annotated[bool, typer.Option("--stdin", help=_("Read the secret from standard input (for scripts)."))] = False,
) -> None:
    from cmday.cli import output
    from cmday.errors import UsageError
    from cmday.secrets import store_secret
    from cmday.session import Session

    session = Session(options.workspace, options.demo, options.lang)
    try:
        projects = session.workspace.select(options.project)
        found = [(p, p.source(source_id)) for p in projects if p.source(source_id)]
        if not found:
            known = ", ".join(s.id for p in projects for s in p.sources) or _("none")
            raise UsageError(_("no source {source!r}; sources: {known}").format(source=source_id, known=known))
        if len(found) > 1:
            raise UsageError(_("several projects have a source {source!r}").format(source=source_id), hint=_("say which with --project"))
        project, source = found[0]
        from cmday.sources import PLATFORMS

        label = PLATFORMS[source.platform].secret_label
        if label is None:
            raise UsageError(_("source {source!r} ({platform}) needs no secret").format(source=source_id, platform=source.platform))
        if from_stdin:
            secret = sys.stdin.readline().strip()
        elif sys.stdin.isatty():
            secret = typer.prompt(_("{label} for {source}").format(label=label(), source=source_id), hide_input=True).strip()
        else:
            raise UsageError(_("no terminal to ask on"), hint=_("pipe the secret with --stdin"))
        if not secret:
            raise UsageError(_("empty secret; nothing stored"))
        path = store_secret(project.slug, source.id, secret)
        output.message(_("stored for {source} in {path} (readable by you only)").format(source=source_id, path=path))
    finally:
        session.close()
