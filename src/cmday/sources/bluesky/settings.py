"""A Bluesky source's entry in the project file: the service, the handle, the app password's variable, and searches."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from cmday.modelbase import SourceBase, check_env_name, check_service_url


class BlueskySource(SourceBase):
    platform: Literal["bluesky"]
    service: str = "https://bsky.social"
    handle: str
    password_env: str | None = None
    search: list[str] = []

    _service = field_validator("service")(check_service_url)
    _password_env = field_validator("password_env")(check_env_name)
