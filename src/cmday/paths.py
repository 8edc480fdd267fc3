"""Where cmday keeps its own files: under CMDAY_HOME when it is set (tests always set it), else the platform's user folders."""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "CMDAY_HOME"


def cmday_home() -> Path | None:
    """The one reading of CMDAY_HOME: state, secrets and the catalogue cache all live under it when set."""
    home = os.environ.get(HOME_VARIABLE)
    return Path(home).expanduser() if home else None


def state_home() -> Path:
    """The state database, the outbox and the demo: CMDAY_HOME, else the platform's user data folder."""
    home = cmday_home()
    if home is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_data_dir("cmday", appauthor=False))


def secrets_home() -> Path:
    """The secrets folder: CMDAY_HOME/secrets, else in the platform's user config folder."""
    home = cmday_home()
    if home is not None:
        return home / "secrets"
    import platformdirs

    return Path(platformdirs.user_config_dir("cmday", appauthor=False)) / "secrets"


def cache_home() -> Path:
    """Compiled catalogues and the like, safe to delete: CMDAY_HOME/cache, else the platform's user cache folder."""
    home = cmday_home()
    if home is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("cmday", appauthor=False))
