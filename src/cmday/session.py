"""One command's view of the world: which workspace, which state file, which language, what time."""

from __future__ import annotations

import os
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from cmday import clock
from cmday.errors import ConfigError
from cmday.i18n import resolve_language, set_language
from cmday.paths import state_home
from cmday.protocol import Protocol, load_protocol
from cmday.routine import Day, FileProblem
from cmday.store import Store
from cmday.workspace import CONFIG_FILE, Workspace, find_workspace, load_workspace, parse_file

if TYPE_CHECKING:
    from cmday.models import Project

STATE_FILE = "state.sqlite3"
STATE_URL_ENV = "CMDAY_STATE_URL"
OUTBOX_FOLDER = "outbox"


class Session:
    def __init__(self, workspace: Path | None = None, demo: bool = False, lang: str | None = None) -> None:
        self.demo = demo
        self.lang_flag = lang
        self._workspace_flag = workspace
        self.now: datetime = clock.now()
        self._protocols: dict[str, Protocol] = {}

    @cached_property
    def _demo_paths(self) -> tuple[Path, Path]:
        from cmday import demo

        return demo.prepare(state_home())

    @cached_property
    def workspace_root(self) -> Path:
        if self.demo:
            return self._demo_paths[0]
        return find_workspace(self._workspace_flag)

    @cached_property
    def state_path(self) -> Path:
        if self.demo:
            return self._demo_paths[1]
        return state_home() / STATE_FILE

    @property
    def outbox(self) -> Path:
        """Where escalation emails are written: the demo's go in its own folder, never beside the real state."""
        if self.demo:
            return self._demo_paths[1].parent / OUTBOX_FOLDER
        return state_home() / OUTBOX_FOLDER

    @cached_property
    def workspace(self) -> Workspace:
        # the workspace's language before its project files are read: their errors are worded as they are found
        config = parse_file(self.workspace_root / CONFIG_FILE, "WorkspaceConfig", self.workspace_root)
        self.language = resolve_language(self.lang_flag, config.language)
        set_language(self.language)
        return load_workspace(self.workspace_root, config)

    @cached_property
    def language(self) -> str:
        return resolve_language(self.lang_flag, None)

    @cached_property
    def state_target(self) -> Path | str:
        """The state this command uses: CMDAY_STATE_URL, else the workspace's `state`, else the local file."""
        if self.demo:
            return self.state_path
        url = os.environ.get(STATE_URL_ENV, "").strip()
        if not url:
            try:
                url = self.workspace.config.state or ""
            except ConfigError:
                url = ""  # no workspace (or a broken one): the command says so itself; the state is the local file
        return url or self.state_path

    @cached_property
    def user(self) -> str:
        """Who runs this command, as the team knows them (CMDAY_USER or the workspace's owner)."""
        from cmday.team import current_user

        return current_user(self.workspace.config)

    @cached_property
    def store(self) -> Store:
        return Store(self.state_target)

    def protocol(self, project: Project) -> Protocol:
        if project.slug not in self._protocols:
            own = self.workspace.root / project.project.protocol if project.project.protocol else None
            self._protocols[project.slug] = load_protocol(own, self.workspace.root)
        return self._protocols[project.slug]

    def day(self, project: Project, keep_going: bool = False) -> Day:
        """One project's day; with `keep_going` a protocol file that fails to load gives way to the
        default protocol (crisis banner and urgent list still work) and the view says why."""
        if not keep_going:
            return Day(self.workspace, project, self.store, self.protocol(project), self.now, self.language, user=self.user)
        problems: list[FileProblem] = []
        try:
            protocol = self.protocol(project)
        except ConfigError as error:
            problems.append(FileProblem.of("protocol", error))
            protocol = self._protocols[project.slug] = load_protocol(None, self.workspace.root)
        return Day(self.workspace, project, self.store, protocol, self.now, self.language, problems, user=self.user)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
