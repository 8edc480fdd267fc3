"""The errors cmday reports to the user, and the exit status each one means."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses, documented in the README: scripts and cron rely on them."""

    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    STATE = 4
    SOURCES = 5
    NOT_SENT = 6
    ATTENTION = 10
    INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT (128 + 2)


class CmdayError(Exception):
    """An error the user can act on: one line of what went wrong, and optionally what to do."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(CmdayError):
    """A workspace, project, checklist or protocol file is missing or invalid."""

    exit_code = ExitCode.CONFIG


class UsageError(CmdayError):
    """The command line asks for something that does not exist or cannot be done."""

    exit_code = ExitCode.USAGE


class StateError(CmdayError):
    """The local state file cannot be used as it is (corrupt, newer, locked, disk full)."""

    exit_code = ExitCode.STATE


class SourceError(CmdayError):
    """A platform could not be reached or answered something cmday cannot use."""

    exit_code = ExitCode.SOURCES
