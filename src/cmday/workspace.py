"""Finding the workspace and loading its files into validated models, with errors that name file, line and field."""

from __future__ import annotations

import os
import re
import typing
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cmday import files
from cmday.errors import ConfigError, UsageError
from cmday.i18n import _, ngettext

if typing.TYPE_CHECKING:  # commands get records (cmday.settings); the models load only when a file must be validated
    from pydantic import BaseModel

    from cmday.models import Project, WorkspaceConfig

CONFIG_FILE = "cmday.toml"
PROJECTS_DIR = "projects"


@dataclass
class BrokenProject:
    """A project file that could not be loaded: the routine shows its error in place of its dashboard."""

    slug: str  # the file's name: the slug the project most likely has
    file: str
    error: ConfigError


# The broken project files one command went past while working on the others; its error boundary names them.
_passed_over: ContextVar[dict[str, BrokenProject] | None] = ContextVar("passed_over", default=None)


def watch_passed_over() -> dict[str, BrokenProject]:
    """From now on in this command, every broken project file `Workspace.select` leaves out is kept here."""
    passed_over: dict[str, BrokenProject] = {}
    _passed_over.set(passed_over)
    return passed_over


@dataclass
class Workspace:
    root: Path
    config: WorkspaceConfig
    projects: dict[str, Project] = field(default_factory=dict)
    project_files: dict[str, Path] = field(default_factory=dict)
    broken: dict[str, BrokenProject] = field(default_factory=dict)
    zones: dict[str, ZoneInfo] = field(default_factory=dict)  # each project's, resolved on first use and passed on typed

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's own zone, for what belongs to no one project (the models checked the name at load)."""
        return self.project_zone(None)

    def project_zone(self, project: Project | None) -> ZoneInfo:
        """The project's zone, else the workspace's: the one value adapters, the routine and the calendar use."""
        name = (project.project.timezone if project is not None else None) or self.config.timezone
        zone = self.zones.get(name)
        if zone is None:
            zone = self.zones[name] = ZoneInfo(name)
        return zone

    def select(self, slug: str | None) -> list[Project]:
        """The projects a command works on: the one asked for, or all those that load.

        A broken project file asked for by name stops the command with its error; otherwise it
        is left out, never hiding the others, and the command's boundary names it and exits 3
        once the others are done (the routine views and the inbox also show it in its place).
        """
        if slug in self.broken:
            raise self.broken[slug].error
        if slug is None:
            passed_over = _passed_over.get()
            if passed_over is not None:
                passed_over.update(self.broken)
            return list(self.projects.values())
        if slug not in self.projects:
            known = ", ".join(self.projects) or _("none")
            raise UsageError(
                _("unknown project {slug!r}; known projects: {known}").format(slug=slug, known=known),
                hint=_("pass one of them with --project"),
            )
        return [self.projects[slug]]

    def default_project(self, slug: str | None) -> Project:
        """One project: the one asked for, the workspace default, or the only one there is."""
        chosen = slug or self.config.default_project
        if chosen:
            return self.select(chosen)[0]
        if len(self.projects) == 1 and not self.broken:
            return next(iter(self.projects.values()))
        if not self.projects and self.broken:
            raise next(iter(self.broken.values())).error
        raise UsageError(
            _("this command works on one project and the workspace has {count}").format(count=len(self.projects) + len(self.broken)),
            hint=_("pass --project with one of: {known}").format(known=", ".join(self.projects)),
        )


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("cmday", appauthor=False))


def find_workspace(explicit: Path | None, cwd: Path | None = None) -> Path:
    """--workspace, else CMDAY_WORKSPACE, else the nearest parent with cmday.toml, else the user config dir."""
    if explicit is not None:
        return _must_be_workspace(explicit, "--workspace")
    from_env = os.environ.get("CMDAY_WORKSPACE")
    if from_env:
        return _must_be_workspace(Path(from_env), "CMDAY_WORKSPACE")
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    fallback = user_config_dir()
    if (fallback / CONFIG_FILE).is_file():
        return fallback
    raise ConfigError(
        _("no cmday workspace here: no cmday.toml in this folder or its parents, nor in {fallback}").format(
            fallback=fallback
        ),
        hint=_("create one with `cmday init`, or try cmday with `--demo`"),
    )


def _must_be_workspace(path: Path, named_by: str) -> Path:
    path = path.expanduser()
    if not (path / CONFIG_FILE).is_file():
        raise ConfigError(
            _("{path} (from {named_by}) is not a cmday workspace: it has no cmday.toml").format(
                path=path, named_by=named_by
            ),
            hint=_("create one with `cmday init {path}`").format(path=path),
        )
    return path.resolve()


def load_workspace(root: Path, config: WorkspaceConfig | None = None) -> Workspace:
    """cmday.toml (unless given, read already) and every project file; a project file that fails is kept in
    `broken`, never hiding the others."""
    config = config or parse_file(root / CONFIG_FILE, "WorkspaceConfig", root)
    workspace = Workspace(root=root, config=config)
    folder = root / PROJECTS_DIR
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            project = _load_project(path, root, workspace)
        except ConfigError as error:
            workspace.broken[path.stem.lower()] = BrokenProject(path.stem.lower(), files.shown_path(path, root), error)
            continue
        workspace.projects[project.slug] = project
        workspace.project_files[project.slug] = path
    known = {*workspace.projects, *workspace.broken}
    if config.default_project and config.default_project not in known:
        raise ConfigError(
            _("{file}: default_project {slug!r} has no file in projects/").format(
                file=CONFIG_FILE, slug=config.default_project
            ),
            hint=_("create projects/{slug}.toml or change default_project").format(slug=config.default_project),
        )
    return workspace


def _load_project(path: Path, root: Path, workspace: Workspace) -> Project:
    project = parse_file(path, "Project", root)
    if project.project.slug is None:
        project.project.slug = path.stem.lower()
    if project.slug in workspace.projects:
        raise ConfigError(
            _("{file}: project slug {slug!r} is also used by {other}").format(
                file=files.shown_path(path, root), slug=project.slug, other=files.shown_path(workspace.project_files[project.slug], root)
            ),
            hint=_("give each project its own [project] slug"),
        )
    return project


def parse_file(path: Path, model: str, root: Path | None = None) -> typing.Any:
    """Read one TOML file and validate it with `model` (a class of cmday.models, by name); every failure becomes
    one ConfigError naming the place. What it gives is the model's record (cmday.settings).

    A file unchanged since a run that validated it gives that run's record (cmday.validated), and the models
    are not loaded at all.
    """
    from cmday import validated
    from cmday.settings import freeze

    key = validated.file_key(path)
    known = validated.recall(path, model, key)
    if known is not None:
        return known
    shown = files.shown_path(path, root)
    try:
        text = files.read_text(path, files.SETTINGS, shown)
    except FileNotFoundError:
        raise ConfigError(_("{file}: file not found").format(file=shown)) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            _("{file}: not UTF-8 text (byte {position})").format(file=shown, position=error.start),
            hint=_("save the file as UTF-8"),
        ) from None
    except OSError as error:
        raise ConfigError(_("{file}: cannot be read ({reason})").format(file=shown, reason=error.strerror)) from None
    parsed = freeze(parse_text(text, model, shown))
    validated.remember(path, model, key, parsed)
    return parsed


def parse_text(text: str, model: type[BaseModel] | str, shown: str) -> typing.Any:
    """`text` validated by `model` (a class, or the name of one in cmday.models): the pydantic model itself."""
    import tomllib

    from pydantic import ValidationError

    if isinstance(model, str):
        from cmday.settings import file_model

        model = file_model(model)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(_toml_error_line(shown, str(error)), hint=_("fix the TOML syntax there")) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise ConfigError(
            _("{file}: {where}: {what}").format(
                file=shown, where=field_path(first["loc"], data), what=_describe(first, model, data)
            ),
            hint=_("fix that value and run the command again")
            if error.error_count() == 1
            else ngettext("{count} more problem in this file", "{count} more problems in this file", error.error_count() - 1).format(
                count=error.error_count() - 1),
        ) from None


def _toml_error_line(shown: str, message: str) -> str:
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
    if found:
        return _("{file}:{line}:{column}: invalid TOML: {reason}").format(
            file=shown, line=found[1], column=found[2], reason=reason
        )
    return _("{file}: invalid TOML: {reason}").format(file=shown, reason=reason)


def field_path(loc: tuple[Any, ...], data: Any) -> str:
    """`sources[2].instance`: list positions counted from 1, as they appear in the file.

    The discriminator tag pydantic adds for tagged unions (`mastodon`) is skipped:
    it is not a key the user wrote.
    """
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step + 1}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
        elif isinstance(node, dict) and step in node:
            parts.append(("." if parts else "") + str(step))
            node = node[step]
        elif isinstance(node, dict) and node.get("platform") == step:
            continue
        else:
            parts.append(("." if parts else "") + str(step))
            node = None
    return "".join(parts) or _("(top level)")


def _describe(error: Any, model: type[BaseModel], data: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        allowed = _allowed_keys(model, error["loc"][:-1], data)
        import difflib

        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            return _("unknown key {key!r}; did you mean {suggestion!r}?").format(key=key, suggestion=close[0])
        return _("unknown key {key!r}; allowed here: {allowed}").format(key=key, allowed=", ".join(sorted(allowed)))
    if kind == "missing":
        return _("required key is missing")
    if kind == "union_tag_invalid":
        return _("unknown platform {tag!r}; use one of {expected}").format(
            tag=error["ctx"]["tag"], expected=error["ctx"]["expected_tags"]
        )
    if kind == "union_tag_not_found":
        return _("the key `platform` is missing")
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[str]:
    """The keys valid at `loc`, found by walking the model's annotations the way pydantic walked the data."""
    target: Any = model
    node = data
    for step in loc:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
            continue
        target = _unwrap(target)
        if typing.get_origin(target) is dict:  # a table of named entries: [categories.complaint]
            target = typing.get_args(target)[1]
            node = node.get(step) if isinstance(node, dict) else None
            continue
        if isinstance(node, dict) and node.get("platform") == step and not _has_field(target, step):
            target = _union_member(target, step)
            continue
        if not _has_field(target, step):
            return []
        target = target.model_fields[step].annotation
        node = node.get(step) if isinstance(node, dict) else None
    target = _unwrap(target)
    return list(target.model_fields) if _is_model(target) else []


def _unwrap(annotation: Any) -> Any:
    """list[X] -> X, Annotated[Union[...]] -> Union[...], Optional[X] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is list:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, __import__("types").UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
            else:
                return annotation
        else:
            return annotation


def _union_member(annotation: Any, tag: str) -> Any:
    for member in typing.get_args(annotation):
        platform = getattr(member, "model_fields", {}).get("platform")
        if platform is not None and tag in typing.get_args(platform.annotation):
            return member
    return annotation


def _is_model(annotation: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _has_field(annotation: Any, name: Any) -> bool:
    return _is_model(annotation) and name in annotation.model_fields
