"""Lets `python -m cmday` run the CLI."""

from cmday.cli.app import main

main()
