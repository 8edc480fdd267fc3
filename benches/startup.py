"""A check that starts fast: `cmday check --offline` on a 10,000-mention state against importing Typer, Rich and
pydantic, and `cmday check` on one Mastodon source against toot's `notifications` on the same local server.

Run: .venv/bin/python benches/startup.py   (prints medians and ratios; not a timed test)
toot is not a dependency of cmday: install it anywhere (`pip install toot`) and put it on PATH or in $TOOT.
The server replays 40 recorded notifications (tests/fixtures/mastodon) from a process of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
RUNS = 15
NOTIFICATIONS = ROOT / "tests/fixtures/mastodon/responses/mpy_hist_0959c06c_entity_notification_mastodon_social__00__GET_api_v1_notifications__200.json"
TOKEN = "bench-token"


def serve_mastodon() -> None:
    """A Mastodon server that has 40 notifications and nothing newer: what a check finds most runs."""
    from tests.support.platform_server import PlatformServer, Reply

    page = json.loads(NOTIFICATIONS.read_text(encoding="utf-8"))
    account = {**page[0]["account"], "id": "424242", "username": "acme", "acct": "acme"}
    server = PlatformServer().start()
    newer_or_older = ("max_id", "min_id", "since_id")
    server.route("GET", "/api/v1/notifications", lambda r: Reply(200, [] if any(k in r.query for k in newer_or_older) else page))
    server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, account))
    server.route("GET", "/api/v1/notifications/requests", Reply(200, []))
    print(server.url, flush=True)
    sys.stdin.read()
    counts: dict[str, int] = {}
    for request in server.requests:
        counts[request.path] = counts.get(request.path, 0) + 1
    print(json.dumps(counts), flush=True)
    server.stop()


def median_seconds(argv: list[str], env: dict[str, str], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_offline(home: Path, workspace: Path) -> None:
    sys.path.insert(0, str(ROOT / "benches"))
    from routine import build_state  # the routine bench's 10,000 mentions, 500 open

    build_state(home, workspace, 10_000)
    settle(workspace)


def settle(workspace: Path) -> None:
    """The workspace's files as a CM's are when a check runs: written a while ago, not a second ago
    (cmday.validated does not remember a file changed in the last 2 seconds, which may change again)."""
    earlier = time.time() - 3600
    for path in workspace.rglob("*.toml"):
        os.utime(path, (earlier, earlier))


def main() -> None:
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode kept, not recompiled every run
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env["CMDAY_HOME"] = str(folder / "home")
        build_offline(folder / "home", folder / "ws")
        # one run after another, alternating, so that a busy moment of the machine falls on both
        baseline_argv = [str(BIN / "python"), "-c", "import typer, rich.console, pydantic"]
        check_argv = [str(BIN / "cmday"), "check", "--offline", "--workspace", str(folder / "ws")]
        subprocess.run(check_argv, env=env, stdout=subprocess.DEVNULL, check=True)  # the first run writes its caches
        # `import pydantic` alone is lazy (pydantic 2 loads its model machinery on first use): what defining
        # settings models costs on top is measured beside it, so the ratio can be read for what it holds
        models_argv = [*baseline_argv[:2], "import typer, rich.console, pydantic; from pydantic import BaseModel"]
        baseline, models, check = [], [], []
        for _ in range(RUNS):
            baseline.append(median_seconds(baseline_argv, env, 1))
            models.append(median_seconds(models_argv, env, 1))
            check.append(median_seconds(check_argv, env, 1))
        base, offline = statistics.median(baseline), statistics.median(check)
        print(f"python -c 'import typer, rich.console, pydantic': median {base * 1000:.0f} ms")
        print(f"  the same and 'from pydantic import BaseModel':   median {statistics.median(models) * 1000:.0f} ms  "
              f"(ratio {statistics.median(models) / base:.2f}x)")
        print(f"cmday check --offline, 10,000 mentions (500 open): median {offline * 1000:.0f} ms  "
              f"(ratio {offline / base:.2f}x, target <= 1.5x)")

        toot = os.environ.get("TOOT") or shutil.which("toot")
        if not toot:
            print("toot not found (pip install toot; put it on PATH or in $TOOT): the Mastodon comparison is skipped")
            return
        server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            url = server.stdout.readline().strip()
            hostport = url.removeprefix("http://")
            config = folder / "xdg" / "toot"
            config.mkdir(parents=True)
            (config / "config.json").write_text(json.dumps({
                "apps": {hostport: {"instance": hostport, "base_url": url, "client_id": "bench", "client_secret": "bench"}},
                "users": {f"acme@{hostport}": {"instance": hostport, "username": "acme", "access_token": TOKEN}},
                "active_user": f"acme@{hostport}",
            }), encoding="utf-8")
            masto = folder / "masto"
            (masto / "projects").mkdir(parents=True)
            (masto / "cmday.toml").write_text('timezone = "Europe/Madrid"\n', encoding="utf-8")
            (masto / "projects" / "acme.toml").write_text(
                f'[project]\nname = "Acme"\n\n[[sources]]\nid = "masto"\nplatform = "mastodon"\ninstance = "{url}"\n'
                'token_env = "BENCH_MASTODON_TOKEN"\n', encoding="utf-8")
            settle(masto)
            online = {**env, "CMDAY_HOME": str(folder / "masto-home"), "BENCH_MASTODON_TOKEN": TOKEN,
                      "XDG_CONFIG_HOME": str(folder / "xdg")}
            toot_argv = [toot, "notifications"]
            cmday_argv = [str(BIN / "cmday"), "check", "--workspace", str(masto)]
            subprocess.run(cmday_argv, env=online, stdout=subprocess.DEVNULL, check=True)  # the first check reads the 40
            toot_times, cmday_times = [], []
            for _ in range(RUNS):
                toot_times.append(median_seconds(toot_argv, online, 1))
                cmday_times.append(median_seconds(cmday_argv, online, 1))
        finally:
            server.stdin.close()
            requests = json.loads(server.stdout.readline() or "{}")
            server.wait()
        told, checked = statistics.median(toot_times), statistics.median(cmday_times)
        print(f"toot notifications (40 notifications, local server): median {told * 1000:.0f} ms")
        print(f"cmday check, one Mastodon source (nothing new):      median {checked * 1000:.0f} ms  "
              f"(ratio {checked / told:.2f}x, target <= 1.0x)")
        print(f"requests the server saw over {RUNS + 1} checks and {RUNS} toot runs: {requests}")


if __name__ == "__main__":
    serve_mastodon() if sys.argv[1:] == ["--serve"] else main()
