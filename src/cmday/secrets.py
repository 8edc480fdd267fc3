"""Where a source's secret comes from: the environment variable the project names, or `cmday auth`'s file."""

from __future__ import annotations

import os
from pathlib import Path


def secrets_dir() -> Path:
    home = os.environ.get("CMDAY_HOME")
    if home:
        return Path(home) / "secrets"
    from cmday.workspace import user_config_dir

    return user_config_dir() / "secrets"


def secret_path(project: str, source_id: str) -> Path:
    return secrets_dir() / f"{project}.{source_id}"


def read_secret(project: str, source_id: str, env_name: str | None) -> str | None:
    """The environment variable wins; otherwise the file `cmday auth` wrote (mode 0600)."""
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    path = secret_path(project, source_id)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def store_secret(project: str, source_id: str, secret: str) -> Path:
    """Write the secret readable by its owner only; the file never exists with wider permissions."""
    path = secret_path(project, source_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


def secret_origin(project: str, source: object) -> str:
    """Where a source's secret would come from, for `cmday sources`; never the secret itself."""
    env_name = getattr(source, "token_env", None) or getattr(source, "password_env", None)
    if getattr(source, "platform", "") not in ("mastodon", "bluesky", "email"):
        return "-"
    if env_name and os.environ.get(env_name):
        return f"${env_name}"
    if secret_path(project, getattr(source, "id", "")).is_file():
        return "cmday auth"
    return "missing"
