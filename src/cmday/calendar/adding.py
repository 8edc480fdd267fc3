"""Adding to the calendar: one post from what a person typed, or the new posts of a sheet or calendar file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from cmday.calendar.agenda import AgendaPost, agenda_post
from cmday.calendar.checks import Problem, check_plan
from cmday.calendar.exchange import media_with_alts, parse_status, read_posts_file
from cmday.calendar.plan import Plan, load_plan, post_key
from cmday.calendar.writing import add_posts
from cmday.errors import UsageError
from cmday.files import shown_path
from cmday.i18n import _
from cmday.models import Post
from cmday.utm import build_utm

if TYPE_CHECKING:
    from cmday.models import Project
    from cmday.protocol import Protocol
    from cmday.store import Store
    from cmday.workspace import Workspace


@dataclass
class NewPost:
    """A post as `cmday calendar add` was given it: words as typed, checked when it is added."""

    at: datetime  # naive: the project's local time, as the CM writes posts; with an offset: that instant
    text: str = ""
    platform: str | None = None
    source: str | None = None
    link: str | None = None
    media: list[str] = field(default_factory=list)
    alts: list[str] = field(default_factory=list)  # alt text of each file, in the order of `media`
    campaign: str = ""
    owner: str = ""
    status: str = "draft"  # in either language: `listo` is `ready`
    id: str | None = None
    tag_link: bool = False  # UTM-tag the link: source = the platform, campaign = the post's


@dataclass
class Added:
    """What `calendar add` wrote, read back from the file, with the checks' problems for that post."""

    post: AgendaPost  # its `at` is local time
    file: str  # where it was written, as messages name it
    problems: list[Problem]


def add_post(
    workspace: Workspace, project: Project, store: Store | None, new: NewPost, now: datetime,
    protocol: Protocol | None = None, language: str | None = None,
) -> Added:
    """Check the post, write it where the project keeps its calendar, and read it back as the calendar will see it
    (with the checks' problems for it, weighed by the `protocol` as `load_plan` does)."""
    post = _post(project, new)
    plan = load_plan(workspace, project, store, missing_csv_ok=True)
    key = post_key(post, project.post_platform(post))
    if any(p.key == key for p in plan.posts):
        raise UsageError(_("that post is already in the calendar (key {key})").format(key=key))
    shown = shown_path(add_posts(workspace, project, [post]), workspace.root)
    fresh = load_plan(workspace, _reloaded(workspace, project.slug), store, protocol=protocol, language=language)
    planned = next((p for p in fresh.posts if p.key == key), None)
    if planned is None:  # written, yet read back differently: say where, never pretend
        raise UsageError(_("the post was written to {file} but reads back differently; check the new row").format(file=shown))
    ahead = (planned.local.date() - now.astimezone(fresh.zone).date()).days
    problems = [p for p in check_plan(fresh, now, max(ahead, 1)) if p.post_key == key]
    return Added(agenda_post(planned, problems), shown, problems)


def _post(project: Project, new: NewPost) -> Post:
    from cmday.typed import choose_platform

    try:
        status = parse_status(new.status)
    except ValueError as error:
        raise UsageError(str(error)) from None
    platform = choose_platform(new.platform, [project], "--platform") if new.platform else None
    if new.source and project.source(new.source) is None:
        known = ", ".join(s.id for s in project.sources) or _("none")
        raise UsageError(_("no source {source!r} in {project}; sources: {known}").format(
            source=new.source, project=project.slug, known=known))
    try:
        media = media_with_alts(new.media, new.alts)
    except ValueError as error:
        raise UsageError(str(error), hint=_("give one --alt per --media, in the same order")) from None
    data = {"at": new.at, "id": new.id, "source": new.source, "platform": platform, "text": new.text, "link": new.link,
            "media": media, "campaign": new.campaign, "owner": new.owner, "status": status}
    try:
        post = Post.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(s) for s in first["loc"]) or "post"
        raise UsageError(_("{field}: {what}").format(field=name, what=str(first["msg"]).removeprefix("Value error, "))) from None
    if new.tag_link and post.link:
        if not post.campaign:
            raise UsageError(_("--utm needs --campaign"))
        tagged = build_utm(post.link, project.post_platform(post), post.campaign, rules=project.utm)
        post = post.model_copy(update={"link": tagged.url})
    return post


def _reloaded(workspace: Workspace, slug: str) -> Project:
    """The project as its file now reads, with the post just written."""
    from cmday.workspace import load_workspace

    return load_workspace(workspace.root).projects[slug]


@dataclass
class Imported:
    """What `calendar import` added (or would add, on a dry run), and how many posts the calendar already had."""

    added: list[tuple[str, Post]]  # (key, post)
    already_there: int
    file: str  # where they went, or would go
    written: bool


def import_posts(
    workspace: Workspace, plan: Plan, path: Path, fmt: str | None, platform: str | None, dry_run: bool
) -> Imported:
    """The posts of a CSV, Excel or iCalendar file that the calendar lacks, added where it keeps its posts."""
    project = plan.project
    posts = read_posts_file(path, project, plan.zone, fmt, platform.lower() if platform else None)
    known = {p.key for p in plan.posts}
    new = []
    for post in posts:
        key = post_key(post, project.post_platform(post))
        if key not in known:
            known.add(key)
            new.append((key, post))
    target = project.calendar.file or plan.project_file
    written = bool(new) and not dry_run
    if written:
        target = shown_path(add_posts(workspace, project, [p for _key, p in new]), workspace.root)
    return Imported(new, len(posts) - len(new), target, written)
