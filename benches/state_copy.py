"""How long `cmday state copy` takes to move a 100,000-mention SQLite state into PostgreSQL, and that it loses and doubles nothing.

Starts its own throw-away PostgreSQL (Debian's package, as the tests do) on a free loopback port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmday.mention import Mention  # noqa: E402
from cmday.store import Store  # noqa: E402
from tests.support.postgres import PASSWORD, Postgres  # noqa: E402

MENTIONS = 100_000


def build_state(path: Path) -> None:
    store = Store(path)
    now = datetime.now(UTC)
    batch = [
        Mention("mastodon", str(i), "mention", f"mention number {i} about the brand", now - timedelta(minutes=i),
                author_handle=f"@u{i % 5000}", raw={"id": str(i), "favourites_count": i % 40})
        for i in range(MENTIONS)
    ]
    for start in range(0, MENTIONS, 5_000):
        store.save_batch("acme", "m", "mastodon", batch[start : start + 5_000], str(start), now)
    store.answer_many([(m.id, m.created_at + timedelta(minutes=20)) for m in store.mentions("acme", states=None) if m.id % 20])
    for mention_id in range(1, MENTIONS, 50):
        claim = store.claim_reply(mention_id, "Thanks!", "thanks", f"key-{mention_id}", now, since=now, again=True)
        store.finish_draft(claim.draft.id, "sent", now, remote_id=str(mention_id))
    store.close()


def main() -> None:
    server = Postgres()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder)
            build_state(home / "state.sqlite3")
            (home / "ws" / "projects").mkdir(parents=True)
            (home / "ws" / "cmday.toml").write_text("", encoding="utf-8")
            (home / "ws" / "projects" / "acme.toml").write_text('[project]\nname = "Acme"\n', encoding="utf-8")
            url = server.new_database()
            env = {**os.environ, "CMDAY_HOME": str(home), "CMDAY_STATE_PASSWORD": PASSWORD}
            cmday = [str(Path(sys.executable).parent / "cmday"), "state", "copy", "--to", url, "--workspace", str(home / "ws")]
            for run in ("first copy", "second copy (nothing new)"):
                start = time.perf_counter()
                subprocess.run(cmday, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                print(f"cmday state copy, {MENTIONS:,} mentions, {run}: {time.perf_counter() - start:.1f} s")
            os.environ["CMDAY_STATE_PASSWORD"] = PASSWORD
            shared = Store(url)
            stored = shared.count_mentions("acme", states=None)
            replies = len(shared.reply_log("acme", datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)))
            shared.close()
            print(f"in the shared state: {stored:,} mentions (of {MENTIONS:,}), {replies:,} replies (of {len(range(1, MENTIONS, 50)):,})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
