"""An RSS or Atom feed's entry in the project file: its URL."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from cmday.modelbase import SourceBase, check_service_url


class FeedSource(SourceBase):
    platform: Literal["rss"]
    url: str

    _url = field_validator("url")(check_service_url)
