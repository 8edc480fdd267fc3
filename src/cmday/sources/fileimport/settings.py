"""An imported file's entry in the project file: its path, and the network its rows came from."""

from __future__ import annotations

from typing import Literal

from cmday.modelbase import SourceBase


class FileSource(SourceBase):
    platform: Literal["file"]
    path: str
    network: str = ""
