"""The Instagram and Facebook sources' entries in the project file: the account or Page, the token's variable, the API version."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator

from cmday.modelbase import SourceBase, check_env_name, check_service_url


class GraphSource(SourceBase):
    """What the Instagram and Facebook sources share: Meta's Graph API host and version, and the token."""

    token_env: str | None = None
    token_expires: date | None = None  # when the token stops working (Meta's access token debugger says it)
    api_version: Annotated[str, Field(pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$")] = "v21.0"
    base_url: str = "https://graph.facebook.com"

    _base_url = field_validator("base_url")(check_service_url)
    _token_env = field_validator("token_env")(check_env_name)


class InstagramSource(GraphSource):
    """A professional Instagram account: comments on its media, replies to them, and the posts it is tagged in."""

    platform: Literal["instagram"]
    ig_user_id: Annotated[str, Field(pattern=r"^[0-9]{1,40}$")]


class FacebookSource(GraphSource):
    """A Facebook Page: comments on its posts and posts visitors leave on it."""

    platform: Literal["facebook"]
    page_id: Annotated[str, Field(pattern=r"^[0-9]{1,40}$")]
    ratings: bool = True  # recommendations left on the Page (they need pages_read_user_content)
