"""A Mastodon source's entry in the project file: the instance, the token's variable, and what to listen to."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from cmday.modelbase import SourceBase, check_env_name, check_service_url


class MastodonSource(SourceBase):
    platform: Literal["mastodon"]
    instance: str
    token_env: str | None = None
    hashtags: list[str] = []
    search: list[str] = []

    _instance = field_validator("instance")(check_service_url)
    _token_env = field_validator("token_env")(check_env_name)
