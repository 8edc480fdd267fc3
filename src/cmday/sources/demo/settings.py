"""The demo source's entry in the project file: nothing but the fields every source has."""

from __future__ import annotations

from typing import Literal

from cmday.modelbase import SourceBase


class DemoSource(SourceBase):
    platform: Literal["demo"]
