"""`cmday demo reset`: start the demo over."""

from __future__ import annotations

import typer

from cmday.cli.common import Options, command, group_options
from cmday.i18n import _


def register(app: typer.Typer) -> None:
    demo_app = typer.Typer(help=_("The built-in demo: try every command with --demo."), no_args_is_help=True)
    group_options(demo_app)
    command(demo_app, "reset", help=_("Start the demo over (its own state only; your real state is untouched)."))(reset)
    app.add_typer(demo_app, name="demo")


def reset(options: Options) -> None:
    from cmday import demo
    from cmday.cli import output
    from cmday.session import state_home

    demo.reset(state_home())
    output.message(_("demo reset: the next --demo command starts it afresh"))
