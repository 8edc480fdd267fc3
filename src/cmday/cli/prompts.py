"""Questions asked on a terminal: yes/no in the session's language, the reply editor with its comment lines."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import typer

from cmday.errors import CmdayError
from cmday.i18n import _

# Lines of the editor's file that start with this are removed before sending, as `git commit` does.
COMMENT = "# "


def confirm(question: str, default: bool) -> bool:
    """Ask yes or no: `[Y/n]` / `[S/n]` with the default in capitals; y/yes/n/no and s/sí in Spanish.

    Enter takes the default; anything else is asked again. Ctrl-C ends cmday with 130 (the boundary).
    """
    choices = _("[Y/n]") if default else _("[y/N]")
    # the session's words and the English ones: "s", "sí", "si" as well as "y" in Spanish
    yes_words = {"y", "yes", _("y"), _("yes"), _unaccented(_("yes"))}
    no_words = {"n", "no", _("n"), _("no")}
    while True:
        answer = typer.prompt(f"{question} {choices}", default="", show_default=False, prompt_suffix=" ")
        folded = answer.strip().lower()
        if not folded:
            return default
        if folded in yes_words:
            return True
        if folded in no_words:
            return False
        typer.echo(_("please answer {yes} or {no}").format(yes=_("y"), no=_("n")), err=True)


def _unaccented(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


class EditorAborted(CmdayError):
    """The editor exited with an error (vim's `:cq`): the CM meant to abort."""


def edit_reply(draft: str, about: list[str]) -> str:
    """Open $VISUAL or $EDITOR on the draft followed by `about` as comment lines; the text comes back without them.

    An editor that exits non-zero aborts (nothing is sent), as `git commit` does.
    """
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    comments = "".join(f"{COMMENT}{line}\n".replace(f"{COMMENT}\n", "#\n") for line in about)
    with tempfile.NamedTemporaryFile("w+", suffix=".txt", encoding="utf-8", delete=False) as handle:
        handle.write(f"{draft}\n\n{comments}")
        path = handle.name
    try:
        finished = subprocess.run([*editor.split(), path], check=False)
        if finished.returncode != 0:
            raise EditorAborted(
                _("the editor exited with status {status}: reply aborted, nothing sent").format(status=finished.returncode),
                hint=_("save and quit normally to send (:wq in vim)"),
            )
        return strip_comments(Path(path).read_text(encoding="utf-8"))
    finally:
        os.unlink(path)


def strip_comments(text: str) -> str:
    """The reply without the comment lines (`# ...` and a lone `#`), without surrounding blank space."""
    kept = [line for line in text.splitlines() if not (line.startswith(COMMENT) or line.rstrip() == "#")]
    return "\n".join(kept).strip()
