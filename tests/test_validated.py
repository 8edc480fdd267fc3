"""Settings files remembered between runs: a changed file is always read again, a doubtful cache never trusted."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmday import validated
from cmday.workspace import load_workspace
from tests.test_settings import PROJECT

HOUR_AGO = time.time() - 3600


def settled(path: Path, text: str) -> Path:
    """The file with `text`, last changed an hour ago (as most project files are when a check reads them)."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def make_workspace(root: Path, name: str) -> Path:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    settled(root / "cmday.toml", 'timezone = "Europe/Madrid"\n')
    return settled(root / "projects" / "acme.toml", f'[project]\nname = "{name}"\nslug = "acme"\n')


def check(root: Path, routine: str = "check") -> str:
    """`cmday check --offline` as the user runs it: a process of its own, so nothing is left in memory between runs."""
    ran = subprocess.run(
        [sys.executable, "-m", "cmday", routine, "--offline", "--workspace", str(root)],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"}, timeout=60,
    )
    assert ran.returncode in (0, 10), ran.stderr
    return ran.stdout


def test_an_edited_project_file_is_read_again_even_with_the_same_size_and_mtime(tmp_path: Path, cmday_home: Path):
    project = make_workspace(tmp_path / "ws", "Acme")
    assert "Acme  ·  check" in check(tmp_path / "ws")
    assert validated.recall(project, "Project", validated.file_key(project)) is not None  # the check kept it

    settled(project, '[project]\nname = "Acmf"\nslug = "acme"\n')
    assert project.stat().st_mtime == HOUR_AGO  # only the content (and so the ctime) says it changed

    assert "Acmf  ·  check" in check(tmp_path / "ws")


def test_an_unchanged_file_gives_the_model_it_gave_before(tmp_path: Path):
    project = make_workspace(tmp_path / "ws", "Acme")
    load_workspace(tmp_path / "ws")
    remembered = validated.recall(project, "Project", validated.file_key(project))
    assert remembered is not None and remembered.name == "Acme"
    assert load_workspace(tmp_path / "ws").projects["acme"].name == "Acme"


def test_a_file_changed_just_now_is_not_remembered(tmp_path: Path):
    """Within one tick of the clock a second edit of the same size keeps the mtime: such a file waits to settle."""
    project = make_workspace(tmp_path / "ws", "Acme")
    project.write_text('[project]\nname = "Acmf"\nslug = "acme"\n', encoding="utf-8")
    load_workspace(tmp_path / "ws")
    assert validated.recall(project, "Project", validated.file_key(project)) is None


def test_a_cache_others_can_write_is_never_unpickled(tmp_path: Path, cmday_home: Path):
    project = make_workspace(tmp_path / "ws", "Acme")
    load_workspace(tmp_path / "ws")
    cache = cmday_home / "cache" / validated.CACHE_FILE
    assert cache.stat().st_mode & 0o777 == 0o600
    cache.chmod(0o666)
    validated._entries_from = None  # as a new run would: read the file again

    assert validated.recall(project, "Project", validated.file_key(project)) is None
    assert load_workspace(tmp_path / "ws").projects["acme"].name == "Acme"


def test_a_damaged_cache_is_passed_over(tmp_path: Path, cmday_home: Path):
    make_workspace(tmp_path / "ws", "Acme")
    cache = cmday_home / "cache" / validated.CACHE_FILE
    cache.parent.mkdir(parents=True)
    for damage in (b"not a pickle", pickle.dumps(("some other stamp", {}))[:-3]):
        cache.write_bytes(damage)
        cache.chmod(0o600)
        validated._entries_from = None
        assert load_workspace(tmp_path / "ws").projects["acme"].name == "Acme"


def test_a_broken_file_is_never_remembered(tmp_path: Path):
    project = make_workspace(tmp_path / "ws", "Acme")
    settled(project, '[project]\nname = "Acme"\nslug = "acme"\ncolour = "red"\n')
    assert "acme" in load_workspace(tmp_path / "ws").broken
    assert validated.recall(project, "Project", validated.file_key(project)) is None


def test_a_platforms_edited_source_model_starts_the_cache_afresh(tmp_path: Path, cmday_home: Path):
    # The models a project file gives are partly defined in the platforms' packages (sources/<platform>/settings.py):
    # a field added there must not meet a model pickled before it, which would lack it.
    import cmday.sources.mastodon.settings as mastodon_settings

    project = make_workspace(tmp_path / "ws", "Acme")
    load_workspace(tmp_path / "ws")
    assert validated.recall(project, "Project", validated.file_key(project)) is not None

    module = Path(mastodon_settings.__file__)
    before = module.stat()
    try:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        validated._code_stamp.cache_clear()
        validated._entries_from = None  # as a new process would: read the cache file again
        assert validated.recall(project, "Project", validated.file_key(project)) is None
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
        validated._code_stamp.cache_clear()
        validated._entries_from = None


@pytest.mark.parametrize("routine", ["check", "morning"])
def test_unchanged_files_show_the_same_and_load_no_settings_model(tmp_path: Path, cmday_home: Path, routine: str):
    """Unchanged files give records (cmday.settings): neither pydantic nor a model class is loaded, about half
    of what a check took to start; and the dashboard from them is the one the validated models gave."""
    make_workspace(tmp_path / "ws", "Acme")
    settled(tmp_path / "ws" / "projects" / "acme.toml", PROJECT)  # sources of two platforms, a post
    check(tmp_path / "ws", routine)  # validates the files and keeps their records
    watched = ("pydantic", "pydantic_core", "pydantic.main", "cmday.models", "cmday.modelbase")
    script = (
        "import sys, traceback\n"  # where cmday.models is imported from, if it is, goes to stderr: the failure shows it
        "class ShowWhoImports:\n    def find_spec(self, name, path=None, target=None):\n"
        "        name == 'cmday.models' and traceback.print_stack(limit=14)\n"
        "sys.meta_path.insert(0, ShowWhoImports())\n"
        "from cmday.cli.app import main\n"
        f"sys.argv = ['cmday', {routine!r}, '--offline', '--workspace', {str(tmp_path / 'ws')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('loaded:', sorted(m for m in sys.modules if m in {watched!r} or m.startswith('cmday.sources.') and m.endswith('.settings')))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "COLUMNS": "100"})
    shown, _, loaded = ran.stdout.rpartition("loaded: ")
    assert loaded.strip() == "[]", ran.stderr
    (cmday_home / "cache" / validated.CACHE_FILE).unlink()
    validated_again = check(tmp_path / "ws", routine)
    clock_times = re.compile(r"\b\d\d:\d\d\b")  # "new since 09:55": the previous check's, a few seconds apart
    assert clock_times.sub("hh:mm", shown) == clock_times.sub("hh:mm", validated_again)
    assert {"check": "Acme  ·  check", "morning": "Acme  ·  start of day"}[routine] in shown

