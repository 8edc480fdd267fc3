"""A mailbox source's entry in the project file: the IMAP and SMTP servers, the account, the password's variable, the folders."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from cmday.modelbase import SourceBase, check_env_name


def check_mail_host(value: str | None) -> str | None:
    """A bare host name or address: the protocol and port are their own fields."""
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[?[0-9A-Fa-f:.]+\]?", value):
        raise ValueError(f"{value!r} is not a host name such as 'imap.acme.example' (no scheme, port or path)")
    return value.strip("[]")


def check_folder(value: str | None) -> str | None:
    if value is None:
        return None
    if not value or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError(f"{value!r} is not a mail folder name")
    return value


Port = Annotated[int, Field(ge=1, le=65535)]


class EmailSource(SourceBase):
    """The brand's mailbox: read over IMAP (read-only), answered over SMTP. The password comes from `password_env`."""

    platform: Literal["email"]
    host: str
    port: Port = 993
    security: Literal["tls", "starttls"] = "tls"  # starttls: port 143 upgraded before the password is sent
    username: str
    password_env: str | None = None
    folder: str = "INBOX"
    address: str | None = None  # the From of replies; default: the username when it is an address
    smtp_host: str | None = None  # default: host
    smtp_port: Port | None = None  # default: 465 with tls, 587 with starttls
    smtp_security: Literal["tls", "starttls"] = "starttls"
    smtp_username: str | None = None  # default: username; the same password
    sent_folder: str | None = None  # default: the folder the server marks as Sent, else "Sent"
    ca_file: str | None = None  # a PEM file (relative to the workspace) to trust besides the system's authorities

    _hosts = field_validator("host", "smtp_host")(check_mail_host)
    _folders = field_validator("folder", "sent_folder")(check_folder)
    _password_env = field_validator("password_env")(check_env_name)

    @field_validator("address")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s<>\",;]+@[A-Za-z0-9.-]+", value):
            raise ValueError(f"{value!r} is not an email address such as 'info@acme.example'")
        return value


def reply_address(source: EmailSource) -> str | None:
    """The From of replies: `address`, else the username when it is an address (a function, not a property:
    commands hold the source's record, cmday.settings, which has its fields and nothing of the model's own)."""
    if source.address:
        return source.address
    return source.username if re.fullmatch(r"[^@\s<>\",;]+@[A-Za-z0-9.-]+", source.username) else None
