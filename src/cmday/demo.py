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
from cmday.private import create_private_file, private_folder
from cmday.shipped import demo_workspace_dir
from cmday.sources.demo.adapter import ANCHOR_KEY
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
    private_folder(state_home)
    private_folder(home)
    with _exclusive(create_private_file(home / ".lock")):  # two first demo commands at once must not seed twice
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
    shutil.copytree(source / "media", staging / "media")  # the images the demo's posts carry
    if (source / "reports").is_dir():  # the CM's recommendations for the monthly report
        shutil.copytree(source / "reports", staging / "reports")
    local_now = now.astimezone(ZONE).replace(second=0, microsecond=0, tzinfo=None)
    local_now -= timedelta(minutes=local_now.minute % 5)
    today = local_now.date()
    template = (source / "projects" / "cafe-aroma.toml.template").read_text(encoding="utf-8")
    published, upcoming = _post_slots(local_now)
    morning = next(slot for slot in upcoming if slot.time() == POST_SLOTS[0])
    upcoming.remove(morning)
    text = template.format(
        published=published.isoformat(),
        ready_1=upcoming[0].isoformat(),
        ready_2=upcoming[1].isoformat(),
        morning=morning.isoformat(),
        draft=upcoming[2].isoformat(),
        day3=(today + timedelta(days=3)).isoformat(),
        day5=(today + timedelta(days=5)).isoformat(),
        placeholders="{placeholders}",
    )
    text += _past_posts_toml(today)
    (staging / "projects" / f"{PROJECT}.toml").write_text(text, encoding="utf-8")
    if workspace.exists():
        shutil.rmtree(workspace)
    staging.rename(workspace)


# The demo brand posts at these local times, as a CM plans a working day.
POST_SLOTS = (time(9, 30), time(13, 0), time(17, 30))


def _post_slots(local_now: datetime) -> tuple[datetime, list[datetime]]:
    """The working-hours slot the last post went out at, and the next slots in the coming week, whatever the hour now."""
    today = local_now.date()
    slots = [datetime.combine(today + timedelta(days=offset), at) for offset in range(-1, 7) for at in POST_SLOTS]
    published = max(slot for slot in slots if slot <= local_now - timedelta(minutes=30))
    upcoming = [slot for slot in slots if slot >= local_now + timedelta(minutes=30)]
    return published, upcoming


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
    seed_indicators(store, now)
    store.record_fetch(PROJECT, "demo", "demo", datetime.combine(today - timedelta(days=1), time(18, 25), tzinfo=ZONE))
    store.set_meta(ANCHOR_KEY, clock.to_utc_text(now))


# -- months of history for indicators and the monthly report ------------------------------------------

OLDER_HISTORY_DAYS = 165  # before the 28 days above: monthly trends reach back six months
_POST_TEXTS = [
    "New single origin this week: Huila, Colombia. Notes of panela and red apple.",
    "Brunch de domingo: huevos turcos, pan de masa madre y flat white.",
    "Latte art workshop on Thursday: six places, bring a friend.",
    "¿Café con leche de avena? En todos nuestros locales, sin coste extra.",
    "Behind the bar: how we dial in our espresso every morning.",
    "Suscripción de café: recibe 250 g recién tostado cada dos semanas.",
]
_CRISIS_LINES = [
    ("instagram", "import", "Tres personas con intoxicación después del sándwich de pollo de Café Aroma. ¿Qué ha pasado?"),
    ("bluesky", "mention", "Food poisoning after lunch at Café Aroma Chamberí, anyone else?"),
    ("mastodon", "mention", "@cafearoma my whole team got sick after your catering today. We need answers."),
    ("bluesky", "reply", "Yo también me puse malo tras comer en Café Aroma. Vergüenza."),
    ("instagram", "import", "¿Vais a decir algo sobre la intoxicación o seguimos esperando?"),
]


def _post_days(today):
    """The past days the demo brand posted on: Tuesdays and Fridays, rotating platforms."""
    for days_back in range(HISTORY_DAYS + OLDER_HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_back)
        if day.weekday() in (1, 4):
            index = day.toordinal() // 3
            yield day, ("mastodon", "bluesky", "instagram")[index % 3], _POST_TEXTS[index % len(_POST_TEXTS)]


def _past_posts_toml(today) -> str:
    lines = ["", "# Past posts: the demo's history, for `cmday kpi --demo` and `cmday report --demo`."]
    for number, (day, platform, text) in enumerate(_post_days(today)):
        lines += ["", "[[posts]]", f'id = "{_past_post_id(number)}"', f"at = {day.isoformat()}T10:30:00",
                  f'platform = "{platform}"', f'text = "{text}"', 'status = "published"']
    return "\n".join(lines) + "\n"


def _save(store: Store, mentions: list[Mention], fetched: datetime) -> dict[str, int]:
    """Store a day's mentions; their ids by platform id."""
    store.save_batch(PROJECT, "demo", "demo", mentions, None, fetched)
    since = min(m.created_at for m in mentions)
    until = max(m.created_at for m in mentions) + timedelta(seconds=1)
    wanted = {m.platform_id for m in mentions}
    return {m.platform_id: m.id for m in store.mentions(PROJECT, states=None, since=since, until=until) if m.platform_id in wanted}


def seed_indicators(store: Store, now: datetime) -> None:
    """Months of older days, escalations, two crises, published posts with their reactions, follower counts."""

    rng = random.Random(20261123)
    today = clock.local_day(now, ZONE)
    for days_back in range(HISTORY_DAYS + OLDER_HISTORY_DAYS, HISTORY_DAYS, -1):
        day = today - timedelta(days=days_back)
        age = (days_back - HISTORY_DAYS) / OLDER_HISTORY_DAYS  # 1 long ago, 0 a month ago: answers got faster
        opened = datetime.combine(day, time(8, 45), tzinfo=ZONE)
        mentions, answers = [], []
        for index in range(rng.randint(3, 8) + round((1 - age) * 4)):
            platform, kind, category, priority, sla, text = rng.choice(_HISTORY_LINES)
            created = opened + timedelta(minutes=rng.randint(0, 600))
            platform_id = f"old-{day.isoformat()}-{index:02d}"
            mentions.append(Mention(platform=platform, platform_id=platform_id, kind=kind, text=text, created_at=created,
                                    author_handle=f"user{rng.randint(1, 60)}", category=category, priority=priority,
                                    urgent=category == "complaint", sla_due=created + timedelta(minutes=sla), raw={"demo": "history"}))
            delay = rng.choice([4, 9, 15, 25, 40, 70, 130]) * (1 + 2 * age)
            answers.append((platform_id, category, created, created + timedelta(minutes=delay)))
        ids = _save(store, mentions, opened)
        for platform_id, category, created, answered_at in answers:
            if category == "spam":
                store.set_state(ids[platform_id], "ignored", answered_at, reason="spam")
                continue
            if category == "complaint" and rng.random() < 0.3:
                store.add_escalation(ids[platform_id], "manager", "email", "refund or replacement?", created + timedelta(minutes=3), True, "")
                if rng.random() < 0.5:
                    continue  # the shop manager handled it by phone: escalated, never answered here
            store.set_state(ids[platform_id], "answered", answered_at)
    for recent in store.mentions(PROJECT, states=("answered",), since=datetime.combine(today - timedelta(days=HISTORY_DAYS), time(0), tzinfo=ZONE)):
        if recent.category == "complaint" and recent.platform_id.startswith("hist-") and recent.id % 4 == 0:
            store.add_escalation(recent.id, "manager", "email", "refund or replacement?", recent.created_at + timedelta(minutes=2), True, "")
            store.set_state(recent.id, "answered", recent.answered_at or recent.created_at)
    _seed_crises(store, today)
    _seed_posts(store, today, rng)
    _seed_followers(store, today, rng)


def _seed_crises(store: Store, today) -> None:
    """A food-safety crisis on the 12th of each of the last two months, handled with the client."""
    month_start = today.replace(day=1)
    previous = (month_start - timedelta(days=1)).replace(day=12)
    before = (previous.replace(day=1) - timedelta(days=1)).replace(day=12)
    for number, day in enumerate((before, previous)):
        start = datetime.combine(day, time(11, 5), tzinfo=ZONE)
        mentions = []
        for index, (platform, kind, text) in enumerate(_CRISIS_LINES[: 3 + number * 2]):
            created = start + timedelta(minutes=index * 47 + (index // 3) * 1200)  # some come in the next morning
            mentions.append(Mention(platform=platform, platform_id=f"crisis-{day.isoformat()}-{index}", kind=kind, text=text,
                                    created_at=created, author_handle=f"vecina{index + 1 + number * 5}", category="crisis",
                                    priority=1, urgent=True, sla_due=created + timedelta(minutes=30), raw={"demo": "crisis"}))
        ids = _save(store, mentions, start)
        first = mentions[0]
        store.add_escalation(ids[first.platform_id], "client", "phone", "food safety: agree the statement",
                             first.created_at + timedelta(minutes=12), True, "")
        statement = first.created_at + timedelta(minutes=75)
        key = f"{statement.astimezone(ZONE):%Y%m%dT%H%M}-statement-mastodon"
        if store.claim_publication(PROJECT, key, statement):
            store.finish_publication(PROJECT, key, "published", statement, remote_id=f"stmt-{number}",
                                     url=f"https://demo.cmday.invalid/mastodon/statement-{number}")
        for index, mention in enumerate(mentions):
            answered = max(mention.created_at, statement) + timedelta(minutes=6 + index * 4)
            store.set_state(ids[mention.platform_id], "answered", answered)


def _past_post_id(number: int) -> str:
    """The id the demo's past posts carry in the project file, and so their key in the state's publications."""
    return f"past-{number:03d}"


def _seed_posts(store: Store, today, rng: random.Random) -> None:
    """Published posts: Mastodon and Bluesky ones through cmday, with the reactions fetched a day later."""
    for number, (day, platform, _text) in enumerate(_post_days(today)):
        at = datetime.combine(day, time(10, 30), tzinfo=ZONE)
        key = _past_post_id(number)
        if platform == "instagram":  # published by hand; the CM notes the likes
            store.set_kpi(PROJECT, f"post.{key}.likes", (day + timedelta(days=1)).isoformat(), rng.randint(40, 260), "manual", at)
            continue
        if store.claim_publication(PROJECT, key, at):
            store.finish_publication(PROJECT, key, "published", at, remote_id=f"post-{number}",
                                     url=f"https://demo.cmday.invalid/{platform}/posts/{number}")
        seen = (day + timedelta(days=1)).isoformat()
        for metric, low, high in (("favourites", 5, 90), ("boosts", 0, 30), ("replies", 0, 12)):
            store.set_kpi(PROJECT, f"post.{key}.{metric}", seen, rng.randint(low, high), "api", at)


def _seed_followers(store: Store, today, rng: random.Random) -> None:
    """Follower counts: fetched daily from Mastodon and Bluesky, noted by hand each Monday for Instagram."""
    mastodon, bluesky, instagram = 640.0, 310.0, 11_150.0
    for days_back in range(HISTORY_DAYS + OLDER_HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_back)
        taken = datetime.combine(day, time(8, 0), tzinfo=ZONE)
        mastodon += rng.uniform(-1, 4)
        bluesky += rng.uniform(0, 5)
        instagram += rng.uniform(-10, 22)
        store.set_kpi(PROJECT, "followers.mastodon", day.isoformat(), round(mastodon), "api", taken)
        store.set_kpi(PROJECT, "followers.bluesky", day.isoformat(), round(bluesky), "api", taken)
        if day.weekday() == 0:
            store.set_kpi(PROJECT, "followers.instagram", day.isoformat(), round(instagram, -1), "manual", taken)
