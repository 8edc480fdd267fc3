"""cmday: the community manager's daily routine in the terminal."""

__version__ = "0.1.0"
