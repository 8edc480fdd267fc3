"""Editing a project's protocol file in place, keeping the CM's comments and formatting (tomlkit)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import tomlkit

from cmday import files
from cmday.errors import ConfigError, UsageError
from cmday.i18n import _
from cmday.mention import StoredMention
from cmday.settings import SLUG_PATTERN
from cmday.workspace import Workspace

if TYPE_CHECKING:
    from cmday.models import Project


def generalise(text: str, mention: StoredMention, project: Project, agent: str) -> str:
    """A reply turned into a template: literal braces escaped, the person, brand and agent as placeholders."""
    result = text.replace("{", "{{").replace("}", "}}")
    for value, placeholder in (
        (mention.author_handle, "{author}"),
        ("@" + mention.author_handle.lstrip("@") if mention.author_handle else "", "{author}"),
        (mention.author_name, "{author}"),
        (project.name, "{brand}"),
        (agent, "{agent}"),
    ):
        if value and value in result:
            result = result.replace(value, placeholder)
    return result.replace("@{author}", "{author}")


def add_template(workspace: Workspace, project: Project, mention: StoredMention, reply_text: str, name: str) -> tuple[Path, str]:
    """The reply, generalised, as a new template in the project's protocol file (created, and pointed at, when missing).

    Each file is replaced whole or not at all, its comments and layout kept.
    """
    import re

    if not re.fullmatch(SLUG_PATTERN, name):
        raise UsageError(_("template name {name!r}: use lowercase letters, digits and dashes").format(name=name))
    relative = project.project.protocol or f"protocols/{project.slug}.toml"
    path = workspace.root / relative
    if path.exists():
        try:
            document = tomlkit.parse(files.read_text(path, files.SETTINGS, relative))
        except tomlkit.exceptions.ParseError as error:
            raise ConfigError(_("{file}: invalid TOML: {reason}").format(file=relative, reason=error)) from None
    else:
        document = tomlkit.document()
        document.add(tomlkit.comment(_("{brand}'s response protocol: extends cmday's default.").format(brand=project.name)))
        document.add(tomlkit.nl())
    templates = document.get("templates")
    if templates is None:
        templates = tomlkit.table(is_super_table=True)
        document["templates"] = templates
    if name in templates:
        raise UsageError(_("{file} already has a template {name!r}").format(file=relative, name=name), hint=_("choose another --name"))
    text = generalise(reply_text, mention, project, workspace.config.owner)
    entry = tomlkit.table()
    entry["category"] = mention.category
    if mention.language in ("en", "es"):
        entry["language"] = mention.language
    entry["text"] = text
    templates[name] = entry
    _replace(path, relative, tomlkit.dumps(document))
    if not project.project.protocol:
        _point_project_at(workspace.project_files[project.slug], relative, workspace.root)
    return path, text


def _point_project_at(project_file: Path, relative: str, root: Path) -> None:
    """Add `protocol = ...` to the project's [project] table, leaving the rest of the file as written."""
    document = tomlkit.parse(files.read_text(project_file, files.SETTINGS))
    document["project"]["protocol"] = relative
    _replace(project_file, str(project_file.relative_to(root)) if project_file.is_relative_to(root) else str(project_file), tomlkit.dumps(document))


def _replace(path: Path, shown: str, text: str) -> None:
    """The file replaced whole or not at all: a full disk leaves the CM's file as it was."""
    try:
        files.write_atomically(path, text.encode("utf-8"))
    except OSError as error:
        raise ConfigError(
            _("cannot write {path}: {reason}").format(path=shown, reason=error.strerror or type(error).__name__),
            hint=_("the file was left as it was; free some space or fix the folder's permissions, then try again"),
        ) from None
