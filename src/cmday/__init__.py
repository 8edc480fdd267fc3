"""cmday: the community manager's daily routine in the terminal."""

import os

__version__ = "0.1.0"

# pydantic looks up plugins through package metadata on import (~15 ms); cmday uses none
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
