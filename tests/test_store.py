"""The state file: migrations, refusing to touch what it cannot read, dedupe, cursors, two processes at once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmday.errors import ExitCode, StateError
from cmday.mention import Mention
from cmday.store import MIGRATIONS, Store
from tests.cli_runner import run

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def mention(platform_id: str, minutes_ago: int = 10, url: str = "") -> Mention:
    return Mention("mastodon", platform_id, "mention", f"hello {platform_id}", NOW - timedelta(minutes=minutes_ago), url=url)


def test_blank_database_gets_every_migration(tmp_path: Path):
    store = Store(tmp_path / "s.sqlite3")
    names = [row[0] for row in sqlite3.connect(tmp_path / "s.sqlite3").execute("SELECT name FROM migrations")]
    assert names == [name for name, _sql in MIGRATIONS]
    assert sqlite3.connect(tmp_path / "s.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_reopening_applies_nothing_twice(tmp_path: Path):
    Store(tmp_path / "s.sqlite3").close()
    Store(tmp_path / "s.sqlite3").close()
    count = sqlite3.connect(tmp_path / "s.sqlite3").execute("SELECT COUNT(*) FROM migrations").fetchone()[0]
    assert count == len(MIGRATIONS)


def test_corrupt_state_is_reported_and_left_untouched(tmp_path: Path, workspace: Path, cmday_home: Path):
    cmday_home.mkdir(parents=True)
    state = cmday_home / "state.sqlite3"
    garbage = b"this is not sqlite at all" * 100
    state.write_bytes(garbage)
    ran = run("morning", "--workspace", str(workspace), "--offline")
    assert ran.exit_code == ExitCode.STATE
    assert "damaged" in ran.stderr and "Traceback" not in ran.stderr
    assert state.read_bytes() == garbage


def test_newer_schema_is_refused_not_reset(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO migrations (name, applied_at) VALUES ('m999_future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer cmday"):
        Store(path)
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM migrations").fetchone()[0] == len(MIGRATIONS) + 1


def _schema(path: Path) -> dict[str, list[tuple]]:
    """Each table's columns (name, type, default, not-null) and each index's SQL: what a migration leaves behind."""
    db = sqlite3.connect(path)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    shape = {table: sorted((c[1], c[2], c[4], c[3]) for c in db.execute(f"PRAGMA table_info({table})")) for table in tables}
    shape["indexes"] = sorted(row for row in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    db.close()
    return shape


def test_a_state_from_the_first_migration_upgrades_to_the_blank_schema_keeping_its_rows(tmp_path: Path):
    first = tmp_path / "first.sqlite3"
    db = sqlite3.connect(first)
    db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    name, sql = MIGRATIONS[0]
    db.executescript(sql)
    db.execute("INSERT INTO migrations VALUES (?, 'then')", (name,))
    db.execute("INSERT INTO mentions (project, source_id, platform, platform_id, kind, text, created_at, fetched_at)"
               " VALUES ('acme', 'm', 'mastodon', '1', 'mention', 'kept', '2026-11-22T08:00:00Z', '2026-11-22T08:00:00Z')")
    db.execute("INSERT INTO sources (project, source_id, platform, cursor) VALUES ('acme', 'm', 'mastodon', 'c7')")
    db.commit()
    db.close()

    upgraded = Store(first)
    assert [m.text for m in upgraded.mentions("acme")] == ["kept"] and upgraded.mentions("acme")[0].flags == ()
    assert upgraded.cursor("acme", "m") == "c7"
    upgraded.close()
    Store(tmp_path / "blank.sqlite3").close()
    assert _schema(first) == _schema(tmp_path / "blank.sqlite3")


def test_a_mention_is_stored_once_and_the_cursor_moves_with_it(state):
    store = Store(state)
    assert store.save_batch("acme", "m", "mastodon", [mention("1"), mention("2")], "c1", NOW) == 2
    assert store.save_batch("acme", "m", "mastodon", [mention("2"), mention("3")], "c2", NOW) == 1
    assert len(store.mentions("acme", states=None)) == 3
    assert store.cursor("acme", "m") == "c2"


def test_a_failed_batch_stores_nothing_and_keeps_the_old_cursor(state):
    store = Store(state)
    store.save_batch("acme", "m", "mastodon", [mention("1")], "c1", NOW)
    broken = mention("2")
    broken.created_at = None  # type: ignore[assignment]  # fails halfway through the batch
    with pytest.raises(AttributeError):  # what the missing date raises, on SQLite and on PostgreSQL
        store.save_batch("acme", "m", "mastodon", [mention("3"), broken], "c2", NOW)
    assert [m.platform_id for m in store.mentions("acme", states=None)] == ["1"]
    assert store.cursor("acme", "m") == "c1"


def test_same_post_from_another_source_is_linked_not_duplicated(state):
    store = Store(state)
    store.save_batch("acme", "notifications", "mastodon", [mention("1", url="https://m.example/@a/1")], None, NOW)
    store.save_batch("acme", "search", "mastodon", [mention("1", url="https://m.example/@a/1")], None, NOW)
    assert len(store.mentions("acme", states=("open",))) == 1
    assert len(store.mentions("acme", states=("linked",))) == 1


def test_a_story_links_to_an_unlinked_copy_from_another_source_in_a_batch_of_any_size(state):
    store = Store(state)
    u, v = "https://news.example/u", "https://news.example/v"
    # the same story twice in one feed stays two open mentions: a source never links to itself
    store.save_batch("acme", "feed-a", "rss", [mention("a1", url=u), mention("a2", url=u), mention("a3", url=v)], None, NOW)
    many = [mention(f"c{n}", url=f"https://news.example/{n}") for n in range(1200)]  # more URLs than one query asks for
    store.save_batch("acme", "feed-c", "rss", many, None, NOW)
    store.save_batch("acme", "feed-b", "rss", [mention("b1", url=u), mention("b2", url=v), mention("b3", url="https://news.example/w"),
                                               mention("b4", url=u), *[mention(f"b-{n}", url=f"https://news.example/{n}") for n in range(0, 1200, 2)]],
                     None, NOW)
    store.save_batch("acme", "feed-a", "rss", [mention("a4", url=u)], None, NOW)  # b1 and b4 are linked: only a1 and a2 are not
    state_of = {m.platform_id: m.state for m in store.mentions("acme", states=None)}
    assert [state_of[k] for k in ("a1", "a2", "a3", "a4", "b3")] == ["open"] * 5
    assert [state_of[k] for k in ("b1", "b2", "b4")] == ["linked"] * 3
    assert [n for n in range(1200) if state_of[f"c{n}"] != "open"] == []
    assert [n for n in range(0, 1200, 2) if state_of[f"b-{n}"] != "linked"] == []
    store.close()


def test_a_batch_counts_only_the_mentions_it_added(state):
    store = Store(state)
    assert store.save_batch("acme", "m", "mastodon", [mention("1")], None, NOW) == 1
    # already stored, twice in this feed, then 100 new: what `fetch` says as "101 new"
    feed = [mention("1"), mention("2"), mention("2")] + [mention(f"n{index}") for index in range(100)]
    assert store.save_batch("acme", "m", "mastodon", feed, None, NOW) == 101
    assert sorted(m.platform_id for m in store.mentions("acme", states=None)) == sorted(["1", "2"] + [f"n{index}" for index in range(100)])
    store.close()


def test_answering_records_the_response_time(state):
    store = Store(state)
    store.save_batch("acme", "m", "mastodon", [mention("1", minutes_ago=30)], None, NOW)
    stored = store.mentions("acme")[0]
    store.set_state(stored.id, "answered", NOW)
    assert store.response_minutes("acme", NOW - timedelta(hours=1), NOW + timedelta(hours=1)) == [pytest.approx(30)]


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from cmday.mention import Mention
    from cmday.store import Store
    target = sys.argv[1]
    store = Store(target if "://" in target else __import__("pathlib").Path(target))
    tag = sys.argv[2]
    for batch in range(40):
        mentions = [Mention("rss", f"{tag}-{batch}-{i}", "alert", "x", datetime.now(UTC)) for i in range(25)]
        store.save_batch("acme", tag, "rss", mentions, f"{tag}-{batch}", datetime.now(UTC))
        store.record_run("acme", "check", datetime.now(UTC))
    """
)


def test_two_processes_writing_at_once_neither_crash_nor_corrupt(state):
    Store(state).close()
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(state), tag], stderr=subprocess.PIPE, text=True)
        for tag in ("cron", "person")
    ]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    store = Store(state)
    assert len(store.mentions("acme", states=None)) == 2 * 40 * 25
    assert store.cursor("acme", "cron") == "cron-39" and store.cursor("acme", "person") == "person-39"
    if isinstance(state, Path):
        assert sqlite3.connect(state).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_lone_surrogates_from_the_network_are_stored_not_crashed_on(state):
    store = Store(state)
    broken = Mention("bluesky", "x\ud800", "mention", "hola \ud800 mundo", NOW, author_name="\udfff", raw={"text": "\ud800"})
    assert store.save_batch("acme", "b", "bluesky", [broken], None, NOW) == 1
    stored = store.mentions("acme")[0]
    assert stored.text == "hola \ufffd mundo"


def _damaged_in_the_middle(state: Path) -> bytes:
    """A state of 3,000 mentions whose middle page is overwritten with garbage, as a bad disk or a stray write leaves it."""
    store = Store(state)
    store.save_batch("acme", "m", "mastodon", [mention(str(i)) for i in range(3000)], None, NOW)
    store.close()
    data = bytearray(state.read_bytes())
    page_size = 4096
    middle = (len(data) // page_size // 2) * page_size
    data[middle : middle + page_size] = b"\xde\xad" * (page_size // 2)
    state.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize(
    "command",
    [
        ("mark", "1", "answered"),
        ("done", "news"),
        ("kpi", "set", "followers.mastodon", "120"),
        ("fetch",),
        ("morning",),
    ],
)
def test_a_state_damaged_in_the_middle_is_never_written(command, workspace: Path, cmday_home: Path):
    (workspace / "comments.csv").write_text("date,text\n2026-11-21 10:00,hello\n", encoding="utf-8")
    project_file = workspace / "projects" / "acme.toml"
    project_file.write_text(
        project_file.read_text(encoding="utf-8") + '\n[[sources]]\nid = "comments"\nplatform = "file"\npath = "comments.csv"\n',
        encoding="utf-8",
    )
    cmday_home.mkdir(parents=True)
    state = cmday_home / "state.sqlite3"
    damaged = _damaged_in_the_middle(state)

    ran = run(*command, "--workspace", str(workspace))

    assert ran.exit_code == ExitCode.STATE, ran.stdout + ran.stderr
    assert "is damaged" in ran.stderr and "has not touched it" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert state.read_bytes() == damaged
    assert not (cmday_home / "state.sqlite3-wal").exists() or (cmday_home / "state.sqlite3-wal").stat().st_size == 0


def test_an_unchanged_state_is_not_checked_again_but_a_changed_one_is(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    store.save_batch("acme", "m", "mastodon", [mention("1")], None, NOW)
    store.close()
    assert (tmp_path / "s.sqlite3.verified").is_file()  # the next command skips the full check

    data = bytearray(path.read_bytes())
    data[-4096:] = b"\xde\xad" * 2048
    path.write_bytes(bytes(data))
    store = Store(path)
    with pytest.raises(StateError, match="damaged"):
        store.set_meta("x", "y")
    with pytest.raises(StateError, match="damaged"):  # and every write after it
        store.record_run("acme", "check", NOW)
    store.close()
    assert path.read_bytes() == bytes(data)


def test_how_a_mention_came_is_kept_and_shown(workspace: Path, cmday_home: Path):
    store = Store(cmday_home / "state.sqlite3")
    held = mention("1")
    held.flags = ["filtered", "no-date"]
    store.save_batch("acme", "m", "mastodon", [held, mention("2")], None, NOW)
    assert [m.flags for m in store.mentions("acme", states=None)] == [("filtered", "no-date"), ()]
    store.close()

    shown = run("show", "1", "--workspace", str(workspace))
    assert "filtered by the server" in shown.stdout and "the time it was fetched is shown" in shown.stdout
    as_json = json.loads(run("show", "1", "--workspace", str(workspace), "--json").stdout)
    assert as_json["mentions"][0]["flags"] == ["filtered", "no-date"]
    spanish = run("show", "1", "--workspace", str(workspace), "--lang", "es")
    assert "filtrada por el servidor" in spanish.stdout


def test_a_state_left_as_cmday_closed_it_is_not_read_whole_again(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    store.save_batch("acme", "m", "mastodon", [mention(str(i)) for i in range(2000)], None, NOW)
    store.close()
    # Damage that keeps size and time as they were: only a full check would see it, and it is skipped,
    # which is what keeps each `mark` or `done` fast on a big state.
    info = path.stat()
    data = bytearray(path.read_bytes())
    data[-4096:] = b"\xde\xad" * 2048
    path.write_bytes(bytes(data))
    import os

    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))

    store = Store(path)
    store.set_meta("opened", "again")  # no full check: the stamp says the file is as cmday left it
    store.close()


def test_a_shared_database_gets_every_migration_once_and_refuses_a_newer_one(state_url: str):
    import psycopg

    from tests.support.postgres import PASSWORD

    Store(state_url).close()
    Store(state_url).close()
    with psycopg.connect(state_url, password=PASSWORD, autocommit=True) as db:
        assert [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY name")] == [name for name, _sql in MIGRATIONS]
        db.execute("INSERT INTO migrations (name, applied_at) VALUES ('m999_future', 'x')")
    with pytest.raises(StateError, match="newer cmday"):
        Store(state_url)


def test_a_shared_database_from_the_first_migration_upgrades_keeping_its_rows(state_url: str):
    import psycopg

    from cmday.store.migrations import statements
    from tests.support.postgres import PASSWORD

    with psycopg.connect(state_url, password=PASSWORD, autocommit=True) as db:
        db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        for statement in statements(MIGRATIONS[0][1], "postgresql"):
            db.execute(statement)
        db.execute("INSERT INTO migrations VALUES (%s, 'then')", (MIGRATIONS[0][0],))
        db.execute("INSERT INTO mentions (id, project, source_id, platform, platform_id, kind, text, created_at, fetched_at)"
                   " VALUES (7, 'acme', 'm', 'mastodon', '1', 'mention', 'kept', '2026-11-22T08:00:00Z', '2026-11-22T08:00:00Z')")
    store = Store(state_url)
    assert [(m.id, m.text, m.flags) for m in store.mentions("acme")] == [(7, "kept", ())]
    assert store.claim_reply(7, "hi", "", "k", NOW, since=NOW).outcome == "new"  # the tables m002-m003 added work


def test_the_password_of_a_shared_state_never_shows(state_url: str, monkeypatch):
    from cmday.store.postgres import without_password

    monkeypatch.setenv("CMDAY_STATE_PASSWORD", "wrong password entirely")
    with pytest.raises(StateError) as refused:
        Store(state_url)
    assert "wrong password entirely" not in str(refused.value) and "authentication failed" in str(refused.value)
    assert without_password("postgresql://ana:s3cret-pass@db.example:5433/cmday") == "postgresql://ana@db.example:5433/cmday"


def test_assignment_notes_and_who_is_replying_are_kept(state):
    from cmday.store import UNASSIGNED

    store = Store(state)
    store.save_batch("acme", "m", "mastodon", [mention("1"), mention("2")], None, NOW)
    first, second = (m.id for m in store.mentions("acme"))
    assert store.assign(first, "ana", NOW) and not store.assign(999, "ana", NOW)
    assert [m.id for m in store.mentions("acme", assignee="ana")] == [first]
    assert [m.id for m in store.mentions("acme", assignee=UNASSIGNED)] == [second]
    assert store.count_mentions("acme", assignee="ana") == 1 and store.mention(first).assignee == "ana"

    store.add_note(first, "ana", "called the customer", NOW)
    assert [(n.author, n.text) for n in store.notes(first)] == [("ana", "called the customer")] and store.notes(second) == []

    assert store.start_replying(first, "ana", NOW) is None
    held = store.start_replying(first, "ben", NOW + timedelta(minutes=2))  # Ben is told, and Ana keeps the mark
    assert (held.who, held.since) == ("ana", NOW)
    assert store.replying(first, NOW + timedelta(minutes=5)).who == "ana"
    assert store.replying(first, NOW + timedelta(hours=1)) is None  # a mark a killed cmday left expires
    assert store.start_replying(first, "ben", NOW + timedelta(hours=1)) is None  # and can be taken
    store.stop_replying(first, "ben")
    assert store.replying(first, NOW + timedelta(hours=1)) is None

    claim = store.claim_reply(first, "Thanks!", "thanks", "k1", NOW, since=NOW, by="ben")
    store.finish_draft(claim.draft.id, "sent", NOW + timedelta(minutes=20))
    [logged] = store.reply_log("acme", NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert (logged.sent_by, logged.template, logged.mention_id) == ("ben", "thanks", first)
    assert logged.minutes == pytest.approx(30)  # the mention came 10 minutes before NOW


SAME_BATCHES = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from cmday.mention import Mention
    from cmday.store import Store
    target = sys.argv[1]
    store = Store(target if "://" in target else __import__("pathlib").Path(target))
    for batch in range(30):
        mentions = [Mention("mastodon", f"{batch}-{i}", "mention", "x", datetime.now(UTC)) for i in range(20)]
        store.save_batch("acme", "m", "mastodon", mentions, f"c{batch}", datetime.now(UTC))
    """
)


def test_two_machines_fetching_the_same_mentions_store_each_once(state):
    Store(state).close()
    processes = [subprocess.Popen([sys.executable, "-c", SAME_BATCHES, str(state)], stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    store = Store(state)
    assert store.count_mentions("acme", states=None) == 30 * 20
    assert store.cursor("acme", "m") == "c29"


def test_a_fetch_that_fell_behind_another_machines_never_moves_the_cursor_back(state):
    """Two machines start from the same cursor; the cron one gets further and saves first, the laptop's slower
    fetch then saves an older mark: its mentions are stored, the cursor stays where the cron fetch left it."""
    now = datetime.now(UTC)
    first = Store(state)
    first.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "a", now)], "c1", now)
    cron, laptop = Store(state), Store(state)
    started_from = laptop.cursor("acme", "m")
    ahead = [Mention("mastodon", str(n), "mention", "b", now) for n in (2, 3, 4)]
    cron.save_batch("acme", "m", "mastodon", ahead, "c4", now, moving_from=cron.cursor("acme", "m"))
    laptop.save_batch("acme", "m", "mastodon", [Mention("mastodon", "2", "mention", "b", now)], "c2", now, moving_from=started_from)
    assert laptop.cursor("acme", "m") == "c4"  # not back to c2: the mentions after it would be read again, never lost
    assert laptop.count_mentions("acme", states=None) == 4  # the laptop's own mention stored once
    cron.save_batch("acme", "m", "mastodon", [Mention("mastodon", "5", "mention", "c", now)], "c5", now, moving_from="c4")
    assert cron.cursor("acme", "m") == "c5"  # the fetch that is ahead keeps moving it
    for store in (first, cron, laptop):
        store.close()


def test_a_shared_state_just_copied_into_is_vacuumed_so_its_index_scans_need_not_read_the_rows(state_url: str):
    """Until autovacuum passes, a table just filled has no visibility map: every index scan read the rows too,
    and a million mentions took 2.3x-2.8x ten thousand (benches/scale.py --postgres) where after it 1.0x-1.2x."""
    store = Store(state_url)
    store.save_batch("acme", "m", "mastodon", [mention(f"m{n}", minutes_ago=n) for n in range(3000)], None, NOW)
    visible = "SELECT relallvisible AS pages, reltuples AS rows FROM pg_class WHERE relname = 'mentions'"
    assert store._read(visible)[0]["pages"] == 0  # as a state copy leaves it
    # The tests' server commits asynchronously (synchronous_commit=off, for speed): VACUUM marks no page until
    # the rows' commit is on disk, which a team's server, committing synchronously, has done before answering.
    written = store._read("SELECT pg_current_wal_insert_lsn()::text AS lsn")[0]["lsn"]
    for _ in range(100):
        if store._read("SELECT pg_current_wal_flush_lsn() >= ?::pg_lsn AS flushed", (written,))[0]["flushed"]:
            break
        time.sleep(0.05)
    store.after_bulk_load()
    after = store._read(visible)[0]
    assert after["pages"] > 0 and after["rows"] == 3000
    store.close()


def test_a_shared_states_open_queue_is_read_by_its_index_even_on_a_generic_plan(state_url: str):
    """PostgreSQL plans a prepared statement generically after five runs (psycopg prepares them): with the
    states passed as parameters it could not know 'open' is a handful of rows and read the whole project."""
    store = Store(state_url)
    store.save_batch("acme", "m", "mastodon", [mention(f"m{n}", minutes_ago=n) for n in range(3000)], None, NOW)
    answered = [m for m in store.mentions("acme", states=None) if m.platform_id not in ("m1", "m2", "m3")]
    store.answer_many([(m.id, NOW) for m in answered])
    store.after_bulk_load()
    asked: list[tuple[str, tuple]] = []
    read = store._read
    store._read = lambda sql, parameters=(): asked.append((sql, tuple(parameters))) or read(sql, parameters)
    assert {m.platform_id for m in store.mentions("acme", now=NOW)} == {"m1", "m2", "m3"}
    sql, parameters = next((sql, p) for sql, p in asked if "FROM mentions" in sql)
    numbered = sql
    for number in range(1, len(parameters) + 1):
        numbered = numbered.replace("?", f"${number}", 1)
    store._db.execute("SET plan_cache_mode = force_generic_plan")
    store._db.execute(f"PREPARE open_queue AS {numbered}")
    values = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parameters)
    plan = "\n".join(row["QUERY PLAN"] for row in store._db.execute(f"EXPLAIN EXECUTE open_queue({values})").fetchall())
    store.close()
    assert "mentions_by_state" in plan, plan
