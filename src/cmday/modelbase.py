"""What every settings model is built on: strict models, the checks of zones, URLs and variable names, and a source's own fields.

Its own module so that each platform's source model (`cmday/sources/<platform>/settings.py`) can build on it
while `cmday.models` gathers those models into `Source`: neither imports the other's half-built module.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from cmday.settings import SLUG_PATTERN


class Strict(BaseModel):
    """Every file model: unknown keys are errors, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Madrid'") from None
    return value


def check_service_url(value: str) -> str:
    """https everywhere; plain http only for this machine (self-hosted tests, local mirrors)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"{value!r} uses plain http; use https (http is only accepted for loopback addresses)")
    return value.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_env_name(value: str | None) -> str | None:
    """The NAME of a variable; the value is never quoted back, since a pasted token would be printed."""
    from cmday.i18n import _
    from cmday.secrets import looks_like_token

    if value is None:
        return value
    if looks_like_token(value):
        raise ValueError(
            _("this looks like a token, not a variable name: put the token in an environment variable "
              "(or run `cmday auth`) and write that variable's name here, such as MASTODON_TOKEN")
        )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(
            _("this must be the name of an environment variable (letters, digits and _, such as MASTODON_TOKEN); "
              "the secret itself never goes in the file")
        )
    return value


class SourceBase(Strict):
    """The fields every `[[sources]]` entry has; each platform's model adds `platform` (its registry name) and its own."""

    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    label: str = ""
    enabled: bool = True
