"""Prompts that protect the CM, on a real terminal: yes/no in the session's language, the reply editor, Ctrl-C, completion."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmday.errors import ExitCode
from tests.cli_runner import run
from tests.test_init_and_help import answer_in_a_terminal

CMDAY = str(Path(sys.executable).parent / "cmday")


def demo_mention(handle: str) -> int:
    run("morning", "--demo")
    mentions = json.loads(run("inbox", "--demo", "--json", "--state", "all").stdout)["mentions"]
    return next(m["id"] for m in mentions if handle in m["author"]["handle"])


def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """$EDITOR as a small shell script: it keeps a copy of what it was given in `seen.txt`, then runs `body`."""
    script = tmp_path / "editor.sh"
    script.write_text(f'#!/bin/sh\ncp "$1" {tmp_path}/seen.txt\n{body}\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)
    return tmp_path / "seen.txt"


@pytest.mark.parametrize(("lang", "choices", "no_word", "kept"), [("en", "[y/N]", "n", "not sent"), ("es", "[s/N]", "n", "no se ha enviado")])
def test_sending_a_reply_asks_with_no_as_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, choices: str, no_word: str, kept: str):
    mention = demo_mention("oatlover")
    editor(tmp_path, monkeypatch, 'printf "Yes we do, oat and soy!\\n" > "$1"')
    code, screen = answer_in_a_terminal(["reply", str(mention), "--demo", "--lang", lang], "\n")
    assert code == 0, screen
    assert choices in screen
    assert "sent: " not in screen.replace("not sent", "").replace("no se ha enviado", "")
    assert json.loads(run("show", str(mention), "--demo", "--json", "--offline").stdout)["mentions"][0]["state"] == "open"


def test_spanish_prompts_take_s_for_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    mention = demo_mention("oatlover")
    editor(tmp_path, monkeypatch, 'printf "¡Sí, tenemos bebida de avena!\\n" > "$1"')
    code, screen = answer_in_a_terminal(["reply", str(mention), "--demo", "--lang", "es"], "s\n")
    assert code == 0, screen
    assert "[s/N]" in screen
    assert json.loads(run("show", str(mention), "--demo", "--json", "--offline").stdout)["mentions"][0]["state"] == "answered"


@pytest.mark.parametrize(("lang", "said"), [("en", "the editor exited with status 1: reply aborted"), ("es", "el editor terminó con el estado 1")])
def test_an_editor_that_exits_with_an_error_aborts_the_reply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, said: str):
    mention = demo_mention("oatlover")
    editor(tmp_path, monkeypatch, 'printf "half written" > "$1"\nexit 1')
    code, screen = answer_in_a_terminal(["reply", str(mention), "--demo", "--lang", lang], "y\ns\n")
    assert code != 0
    assert said in screen
    assert json.loads(run("show", str(mention), "--demo", "--json", "--offline").stdout)["mentions"][0]["state"] == "open"


@pytest.mark.parametrize(("lang", "asked"), [("en", "unchanged. Send it as it is? [y/N]"), ("es", "sin cambios. ¿Enviarla tal cual? [s/N]")])
def test_an_unchanged_template_is_sent_only_after_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, asked: str):
    mention = demo_mention("oatlover")
    editor(tmp_path, monkeypatch, "true")  # saved as it was
    code, screen = answer_in_a_terminal(["reply", str(mention), "--demo", "--lang", lang], "\n")
    assert asked in " ".join(screen.split())
    assert code == ExitCode.USAGE
    assert json.loads(run("show", str(mention), "--demo", "--json", "--offline").stdout)["mentions"][0]["state"] == "open"


def test_the_editor_shows_the_mention_author_limit_and_placeholders_as_comments_never_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    mention = demo_mention("oatlover")
    seen = editor(tmp_path, monkeypatch, 'printf "Hi @oatlover, yes!\\n# a note to myself\\n" > "$1"')
    code, screen = answer_in_a_terminal(["reply", str(mention), "--demo", "--lang", "en"], "n\n")
    assert code == 0, screen
    given = seen.read_text(encoding="utf-8")
    comments = [line for line in given.splitlines() if line.startswith("#")]
    assert any("Replying to #" in line and "oatlover" in line for line in comments)
    assert any("oat milk" in line for line in comments)  # the mention itself, quoted
    assert any("Limit: 500 characters on mastodon" in line for line in comments)
    assert any("{author} = @oatlover" in line for line in comments)
    reply_shown = screen.split("Reply:")[1]
    assert "Hi @oatlover, yes!" in reply_shown
    assert "a note to myself" not in reply_shown and "Replying to" not in reply_shown


@pytest.mark.parametrize("lang", ["en", "es"])
def test_reply_text_fills_placeholders_or_names_the_missing_ones(lang: str):
    mention = demo_mention("oatlover")
    filled = run("reply", str(mention), "--demo", "--dry-run", "--text", "Hi {author}, from {brand}", "--lang", lang)
    assert filled.exit_code == 0, filled.stderr
    assert "Hi @oatlover@mastodon.social, from Café Aroma" in filled.stdout
    missing = run("reply", str(mention), "--demo", "--dry-run", "--text", "Use code {discount_code}", "--lang", lang)
    assert missing.exit_code == ExitCode.USAGE
    assert "{discount_code}" in missing.stderr and "{author}" in missing.stderr


@pytest.mark.parametrize(("lang", "said"), [("en", "no value for {discount_code}"), ("es", "sin valor para {discount_code}")])
def test_lint_reports_unfilled_placeholders(lang: str, said: str):
    ran = run("lint", "Hi {author}, use {discount_code}", "--demo", "--lang", lang)
    assert ran.exit_code == ExitCode.ATTENTION
    assert said in ran.stdout
    assert "{author}" in ran.stdout  # known: a warning that it is filled when replying


def test_lint_file_does_not_count_the_final_newline(tmp_path: Path):
    draft = tmp_path / "draft.txt"
    draft.write_text("x" * 300 + "\n", encoding="utf-8")
    assert run("lint", "--file", str(draft), "--platform", "bluesky", "--demo").exit_code == 0
    draft.write_text("x" * 301 + "\n", encoding="utf-8")
    assert run("lint", "--file", str(draft), "--platform", "bluesky", "--demo").exit_code == ExitCode.ATTENTION


def interrupt_at_prompt(argv: list[str], typed: str, prompt: str, timeout: float = 30) -> tuple[int, str]:
    """Run cmday on a pseudo-terminal, type `typed`, wait for `prompt`, then press Ctrl-C, as a person does:
    once the question is on the screen. Reads never block past the deadline: a cmday that does not end is killed
    and its screen returned with the code of that kill."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:
        os.execv(CMDAY, [CMDAY, *argv])
    os.write(fd, typed.encode("utf-8"))
    output = b""
    deadline = time.monotonic() + timeout

    def read_some() -> bytes | None:
        ready, _w, _x = select.select([fd], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
        if not ready:
            return b""
        try:
            return os.read(fd, 4096) or None
        except OSError:  # the child has closed the terminal
            return None

    while prompt.encode() not in output and time.monotonic() < deadline:
        chunk = read_some()
        if chunk is None:
            break
        output += chunk
    settled = time.monotonic() + 0.5  # the question is printed a moment before the input is read
    while time.monotonic() < settled:
        chunk = read_some()
        if chunk is None:
            break
        output += chunk
    os.write(fd, b"\x03")  # the terminal turns it into SIGINT, as Ctrl-C does
    while time.monotonic() < deadline:
        chunk = read_some()
        if chunk is None:
            break
        output += chunk
    while True:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            break
        if time.monotonic() >= deadline:  # it did not end on Ctrl-C: say so with the screen, never hang the suite
            os.kill(pid, signal.SIGKILL)
            _pid, status = os.waitpid(pid, 0)
            break
        time.sleep(0.05)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


@pytest.mark.parametrize(("lang", "said", "resume", "third"), [("en", "interrupted; what was already stored is kept", "Resume the questionnaire", "Client"),
                                                                ("es", "interrumpido", "¿Retomar el cuestionario", "Cliente")])
def test_ctrl_c_in_the_questionnaire_exits_130_and_the_next_init_resumes(tmp_path: Path, lang: str, said: str, resume: str, third: str):
    from cmday.workspace import load_workspace

    folder = str(tmp_path / "ws")
    code, screen = interrupt_at_prompt(["init", folder, "--lang", lang], "Lucía\nPanadería Sol\n", third)
    assert code == 130, screen
    assert said in screen
    assert not (tmp_path / "ws" / "cmday.toml").exists()
    rest = "\n".join(["", "Sol S.L.", "Europe/Madrid", "", "", "", "", "", "", ""]) + "\n"
    code, screen = answer_in_a_terminal(["init", folder, "--lang", lang], rest)
    assert code == 0, screen
    assert resume in screen
    workspace = load_workspace(tmp_path / "ws")
    assert workspace.config.owner == "Lucía"
    assert workspace.projects["panaderia-sol"].project.client == "Sol S.L."


def test_ctrl_c_at_a_yes_no_prompt_exits_130_not_aborted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    mention = demo_mention("oatlover")
    editor(tmp_path, monkeypatch, 'printf "Yes!\\n" > "$1"')
    code, screen = interrupt_at_prompt(["reply", str(mention), "--demo", "--lang", "es"], "", "[s/N]")
    assert code == 130, screen
    assert "interrumpido" in screen and "Aborted" not in screen


def test_shell_completion_completes_commands_and_options():
    shown = run("--show-completion", "bash")
    assert "_CMDAY_COMPLETE" in shown.stdout
    env = {**os.environ, "_CMDAY_COMPLETE": "complete_bash", "COMP_WORDS": "cmday inbox --sta", "COMP_CWORD": "2"}
    completed = subprocess.run([CMDAY], env=env, capture_output=True, text=True, timeout=60)
    assert completed.stdout.split() == ["--state"]
    env.update(COMP_WORDS="cmday mor", COMP_CWORD="1")
    assert subprocess.run([CMDAY], env=env, capture_output=True, text=True, timeout=60).stdout.split() == ["morning"]
