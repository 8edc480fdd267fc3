"""The demo: a workspace shipped with cmday and a state of its own, seeded with weeks of history."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cmday import clock
from cmday.mention import Mention
from cmday.shipped import demo_workspace_dir
from cmday.sources.demo import ANCHOR_KEY
from cmday.store import Store

PROJECT = "cafe-aroma"
ZONE = ZoneInfo("Europe/Madrid")
HISTORY_DAYS = 28

_HISTORY_LINES = [
    ("mastodon", "mention", "question", 3, 120, "@cafearoma do you have decaf today?"),
    ("mastodon", "mention", "praise", 4, 240, "Great flat white at @cafearoma, thanks!"),
    ("bluesky", "mention", "praise", 4, 240, "Me encanta el nuevo local de Café Aroma, gracias"),
    ("bluesky", "reply", "question", 3, 120, "¿A qué hora abrís los domingos?"),
    ("instagram", "import", "complaint", 2, 60, "El café llegó frío otra vez"),
    ("instagram", "import", "praise", 4, 240, "Riquísimo el bizcocho de zanahoria"),
    ("google-alerts", "alert", "mention", 5, 480, "Café Aroma, entre las cafeterías de especialidad del barrio"),
    ("bluesky", "mention", "spam", 9, 10080, "Free followers, click here"),
]


def demo_home(state_home: Path) -> Path:
    return state_home / "demo"


def reset(state_home: Path) -> None:
    """Start the demo over: its own folder only; the user's real state is elsewhere and untouched."""
    home = demo_home(state_home)
    if home.exists():
        shutil.rmtree(home)


def prepare(state_home: Path) -> tuple[Path, Path]:
    """The demo's workspace and state file, created and seeded on first use; (workspace, state path)."""
    home = demo_home(state_home)
    workspace = home / "workspace"
    state_path = home / "state.sqlite3"
    if (workspace / "cmday.toml").is_file() and state_path.is_file():
        return workspace, state_path
    home.mkdir(parents=True, exist_ok=True)
    with _exclusive(home / ".lock"):  # two first demo commands at once must not seed twice
        if not (workspace / "cmday.toml").is_file():
            _write_workspace(workspace, clock.now())
        store = Store(state_path)
        try:
            if store.meta(ANCHOR_KEY) is None:
                seed_history(store, clock.now())
        finally:
            store.close()
    return workspace, state_path


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: the demo is rarely started twice at once there
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_workspace(workspace: Path, now: datetime) -> None:
    source = demo_workspace_dir()
    staging = workspace.with_name("workspace.partial")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "projects").mkdir(parents=True)
    shutil.copy(source / "cmday.toml", staging / "cmday.toml")
    shutil.copytree(source / "protocols", staging / "protocols")
    local_now = now.astimezone(ZONE).replace(second=0, microsecond=0, tzinfo=None)
    local_now -= timedelta(minutes=local_now.minute % 5)
    today = local_now.date()
    template = (source / "projects" / "cafe-aroma.toml.template").read_text(encoding="utf-8")
    text = template.format(
        two_hours_ago=(local_now - timedelta(hours=2)).isoformat(),
        in_two_hours=(local_now + timedelta(hours=2)).isoformat(),
        in_six_hours=(local_now + timedelta(hours=6)).isoformat(),
        tomorrow=(today + timedelta(days=1)).isoformat(),
        day3=(today + timedelta(days=3)).isoformat(),
        day5=(today + timedelta(days=5)).isoformat(),
        placeholders="{placeholders}",
    )
    (staging / "projects" / f"{PROJECT}.toml").write_text(text, encoding="utf-8")
    if workspace.exists():
        shutil.rmtree(workspace)
    staging.rename(workspace)


def seed_history(store: Store, now: datetime) -> None:
    """Weeks of past days, the same every time for a given start: mentions answered, closes recorded."""
    rng = random.Random(20261122)
    today = clock.local_day(now, ZONE)
    for days_back in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_back)
        opened = datetime.combine(day, time(8, 45), tzinfo=ZONE)
        mentions: list[Mention] = []
        answers: list[tuple[str, datetime, str]] = []
        for index in range(rng.randint(6, 14)):
            platform, kind, category, priority, sla, text = rng.choice(_HISTORY_LINES)
            created = opened + timedelta(minutes=rng.randint(0, 600))
            platform_id = f"hist-{day.isoformat()}-{index:02d}"
            mentions.append(
                Mention(
                    platform=platform,
                    platform_id=platform_id,
                    kind=kind,
                    text=text,
                    created_at=created,
                    author_handle=f"user{rng.randint(1, 60)}",
                    category=category,
                    priority=priority,
                    urgent=category == "complaint",
                    sla_due=created + timedelta(minutes=sla),
                    raw={"demo": "history"},
                )
            )
            state = "ignored" if category == "spam" else "answered"
            answers.append((platform_id, created + timedelta(minutes=rng.choice([4, 9, 15, 25, 40, 70, 130])), state))
        store.save_batch(PROJECT, "demo", "demo", mentions, None, opened)
        ids = {m.platform_id: m.id for m in store.mentions(PROJECT, states=None, since=opened - timedelta(hours=1), until=opened + timedelta(hours=12))}
        for platform_id, answered_at, state in answers:
            store.set_state(ids[platform_id], state, answered_at, reason="spam" if state == "ignored" else "")
        for routine, hour in (("morning", time(8, 40)), ("check", time(12, 0)), ("check", time(15, 30)), ("close", time(18, 30))):
            store.record_run(PROJECT, routine, datetime.combine(day, hour, tzinfo=ZONE))
    store.record_fetch(PROJECT, "demo", "demo", datetime.combine(today - timedelta(days=1), time(18, 25), tzinfo=ZONE))
    store.set_meta(ANCHOR_KEY, clock.to_utc_text(now))
