"""`cmday calendar` and its subcommands, `cmday publish`, through the CLI as a community manager types them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine

from cmday.errors import ExitCode, SourceError
from cmday.sources import PLATFORMS
from cmday.sources.base import Sent
from cmday.store import Store
from tests.cli_runner import run

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=MADRID)  # Tuesday evening

HAND_WRITTEN = """\
# Acme Coffee — kept by Lucía. Don't reorder the posts: the client reads this file.

[project]
name = "Acme Coffee"   # the brand as people write it
slug = "acme"
timezone = "Europe/Madrid"

[calendar]
platforms = ["mastodon"]
horizon_days = 3

[knowledge]
taboo_topics = ["política"]  # never, whatever the news

# --- November ---------------------------------------------------------------

[[posts]]
at = 2026-11-25T09:00:00   # first thing
platform = "mastodon"
text = "Buenos días: café de avena en todas las tiendas."
status = "ready"

[[sources]]
id = "masto"
platform = "mastodon"
instance = "https://mastodon.example"   # the brand's account
token_env = "ACME_MASTODON_TOKEN"

# [utm] comes last on purpose
[utm]
domains = ["acme.example"]
"""


def hand_written_workspace(tmp_path: Path) -> Path:
    """A workspace with one project written by hand (HAND_WRITTEN), in tmp_path/ws."""
    root = tmp_path / "ws"
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text('owner = "Lucía"\ntimezone = "Europe/Madrid"\n', encoding="utf-8")
    (root / "projects" / "acme.toml").write_text(HAND_WRITTEN, encoding="utf-8")
    return root


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return hand_written_workspace(tmp_path)


def cmday(root: Path, *args: str, input: str | None = None, at: datetime = NOW):
    with time_machine.travel(at, tick=False):
        return run(*args, "--workspace", str(root), input=input)


def as_json(root: Path, *args: str, at: datetime = NOW) -> dict:
    ran = cmday(root, *args, "--json", at=at)
    assert ran.exit_code in (0, 10), ran.stderr
    return json.loads(ran.stdout)


def add_post(root: Path, *args: str) -> str:
    ran = cmday(root, "calendar", "add", *args, "--json")
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)["added"]["key"]


# -- the agenda ------------------------------------------------------------------------------------------


def test_the_agenda_as_json_has_days_posts_gaps_and_problems(ws: Path):
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "draft for thursday")
    view = as_json(ws, "calendar")["projects"][0]
    assert view["project"] == "acme" and view["days"] == 3 and view["today"] == "2026-11-24"
    days = {d["day"]: d for d in view["agenda"]}
    assert list(days) == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert [p["text"] for p in days["2026-11-25"]["posts"]] == ["Buenos días: café de avena en todas las tiendas."]
    assert days["2026-11-25"]["posts"][0]["at"] == "2026-11-25T09:00:00+01:00"
    assert days["2026-11-26"]["posts"][0]["status"] == "draft"
    assert days["2026-11-27"]["gaps"] == ["mastodon"]
    assert {p["code"] for p in view["problems"]} >= {"gap", "horizon-short"}


def test_the_agenda_fits_80_columns_and_shows_untrusted_text_literally(ws: Path):
    add_post(ws, "--at", "2026-11-25T12:00", "--platform", "mastodon", "--text", "[bold red]hi[/] \x1b[31mred\x1b[0m " + "x" * 200)
    ran = cmday(ws, "calendar", "--days", "2")
    assert ran.exit_code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert "[bold red]hi[/]" in ran.stdout and "\x1b[31m" not in ran.stdout
    assert "tomorrow" in ran.stdout and "nothing planned on: mastodon" in ran.stdout
    assert "09:00  mastodon  ready" in ran.stdout


def test_a_broken_csv_is_one_line_naming_file_line_and_column(ws: Path):
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("horizon_days = 3", 'horizon_days = 3\nfile = "plan.csv"'), encoding="utf-8")
    (ws / "plan.csv").write_text("fecha;red;texto\n25/11/2026 10:00;mastodon;ok\n32/11/2026 10:00;mastodon;bad\n", encoding="utf-8")
    ran = cmday(ws, "calendar")
    assert ran.exit_code == 3
    assert "plan.csv:3: fecha: '32/11/2026 10:00' is not a date" in ran.stderr
    assert "Traceback" not in ran.stderr and len(ran.stderr.strip().splitlines()) <= 2


# -- add --------------------------------------------------------------------------------------------------


def test_add_writes_the_post_back_keeping_every_comment_and_line(ws: Path):
    key = add_post(ws, "--at", "26/11/2026 13:30", "--platform", "mastodon", "--text", "Black Friday: 20%",
                   "--link", "https://acme.example/bf", "--campaign", "Black Friday", "--utm", "--status", "ready",
                   "--media", "media/bf.png", "--owner", "Lucía")
    written = (ws / "projects" / "acme.toml").read_text(encoding="utf-8")
    original_lines = HAND_WRITTEN.splitlines()
    new_lines = written.splitlines()
    remaining = iter(new_lines)
    assert all(line in remaining for line in original_lines), written  # every original line, in order, untouched
    added = [line for line in new_lines if line not in original_lines]
    assert written.count("[[posts]]") == 2 and 'text = "Black Friday: 20%"' in added
    assert "at = 2026-11-26T13:30:00" in added
    assert 'link = "https://acme.example/bf?utm_source=mastodon&utm_medium=social&utm_campaign=black-friday"' in added
    assert written.index("Black Friday") < written.index("[[sources]]")  # with the other posts, before the sources
    view = as_json(ws, "calendar")["projects"][0]
    post = next(p for d in view["agenda"] for p in d["posts"] if p["key"] == key)
    assert post["campaign"] == "Black Friday" and post["media"] == ["media/bf.png"] and post["owner"] == "Lucía"


def test_add_says_the_new_post_s_problems(ws: Path):
    ran = cmday(ws, "calendar", "add", "--at", "2026-11-25T10:00", "--platform", "mastodon", "--text", "hablemos de política")
    assert ran.exit_code == 0, ran.stderr
    assert "added " in ran.stderr and "to projects/acme.toml" in ran.stderr
    assert "due in 16 h and still draft" in ran.stderr and "taboo topic: política" in ran.stderr


def test_add_appends_to_the_project_csv_in_its_own_dialect(ws: Path):
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("horizon_days = 3", 'horizon_days = 3\nfile = "plan.csv"'), encoding="utf-8")
    sheet = "\ufeffFecha;Red;Texto;Estado;Notas\r\n25/11/2026 12:00;mastodon;Desde Excel;listo;ok\r\n"
    (ws / "plan.csv").write_bytes(sheet.encode("utf-8"))
    key = add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "Nueva; con punto y coma", "--status", "ready")
    raw = (ws / "plan.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert raw.decode("utf-8-sig") == sheet[1:] + '26/11/2026 10:00;mastodon;"Nueva; con punto y coma";listo;\r\n'
    assert HAND_WRITTEN == project.read_text(encoding="utf-8").replace('horizon_days = 3\nfile = "plan.csv"', "horizon_days = 3")
    view = as_json(ws, "calendar")["projects"][0]
    assert key in [p["key"] for d in view["agenda"] for p in d["posts"]]


def test_add_starts_the_csv_when_the_project_names_one_that_does_not_exist_yet(ws: Path):
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("horizon_days = 3", 'horizon_days = 3\nfile = "plan.csv"'), encoding="utf-8")
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "first")
    assert (ws / "plan.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "id,at,platform,source,text,link,media,alt,campaign,owner,status",
        ",2026-11-26T10:00,mastodon,,first,,,,,,draft",
    ]


def test_add_asks_on_a_terminal(ws: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("cmday.cli.calendar._interactive", lambda: True)
    answers = "mañana\n27/11/2026 11:15\n\nPregunta del viernes\nhttps://acme.example/q\nready\n"
    ran = cmday(ws, "calendar", "add", input=answers)
    assert ran.exit_code == 0, ran.stderr
    assert "When 'mañana' is not a date or time (say the time too" in ran.stdout  # asked again
    written = (ws / "projects" / "acme.toml").read_text(encoding="utf-8")
    assert "at = 2026-11-27T11:15:00" in written and 'text = "Pregunta del viernes"' in written
    assert 'platform = "mastodon"' in written.split("Pregunta del viernes")[0].rsplit("[[posts]]", 1)[1]


@pytest.mark.parametrize(
    "args,said",
    [
        (("--text", "no time"), "--at is required (there is no terminal to ask on)"),
        (("--at", "2026-11-26T10:00", "--platform", "mastodon", "--status", "done"), "unknown status 'done'"),
        (("--at", "2026-11-26T10:00", "--source", "nope"), "no source 'nope' in acme; sources: masto"),
        (("--at", "2026-11-26T10:00"), "a post needs `source` (a source id) or `platform`"),
        (("--at", "2026-11-25T09:00", "--platform", "mastodon", "--text", "Buenos días: café de avena en todas las tiendas."),
         "that post is already in the calendar"),
    ],
)
def test_add_refuses_plainly(ws: Path, args: tuple, said: str):
    before = (ws / "projects" / "acme.toml").read_text(encoding="utf-8")
    ran = cmday(ws, "calendar", "add", *args)
    assert ran.exit_code == 2 and said in ran.stderr, ran.stderr
    assert (ws / "projects" / "acme.toml").read_text(encoding="utf-8") == before


def test_options_before_the_subcommand_count(ws: Path):
    ran = cmday(ws, "calendar", "--project", "nope", "check")
    assert ran.exit_code == 2 and "unknown project 'nope'" in ran.stderr


# -- import and export ----------------------------------------------------------------------------------------


def _second_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "other"
    (root / "projects").mkdir(parents=True)
    (root / "cmday.toml").write_text('timezone = "Europe/Madrid"\n', encoding="utf-8")
    (root / "projects" / "acme.toml").write_text(
        '[project]\nname = "Acme"\nslug = "acme"\n\n[[sources]]\nid = "masto"\nplatform = "mastodon"\ninstance = "https://mastodon.example"\n',
        encoding="utf-8",
    )
    return root


@pytest.mark.parametrize("fmt", ["csv", "ics"])
def test_export_then_import_round_trips(ws: Path, tmp_path: Path, fmt: str):
    add_post(ws, "--at", "2026-10-25T02:30", "--source", "masto", "--text", 'twice; "quoted",\nnew line', "--status", "idea")
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "bluesky", "--text", "🇪🇸 bluesky", "--link", "https://acme.example/?a=1#b",
             "--media", "m/one.png", "--media", "m/two.png", "--alt", "A cup; \\ a | saucer", "--campaign", "launch", "--owner", "Ana",
             "--id", "bsky-launch")
    out = tmp_path / f"plan.{fmt}"
    ran = cmday(ws, "calendar", "export", "--format", fmt, "--out", str(out))
    assert ran.exit_code == 0 and "3 posts written" in ran.stderr, ran.stderr
    other = _second_workspace(tmp_path)
    imported = cmday(other, "calendar", "import", str(out))
    assert imported.exit_code == 0 and "3 posts added to projects/acme.toml (0 already there)" in imported.stderr, imported.stderr
    again = cmday(other, "calendar", "import", str(out))
    assert "0 posts added" in again.stderr and "(3 already there)" in again.stderr
    fields = ("key", "at", "platform", "source", "text", "link", "media", "alt", "campaign", "owner", "status")

    def posts(root: Path) -> list[dict]:
        view = as_json(root, "calendar", "--days", "365", at=datetime(2026, 10, 1, tzinfo=MADRID))["projects"][0]
        return [{f: p[f] for f in fields} for d in view["agenda"] for p in d["posts"]]

    assert posts(other) == posts(ws)
    assert len(posts(ws)) == 3
    assert [p["alt"] for p in posts(other) if p["key"] == "bsky-launch"] == [["A cup; \\ a | saucer", ""]]  # the second file has none


def test_export_ics_to_stdout_opens_in_calendar_apps(ws: Path):
    ran = cmday(ws, "calendar", "export", "--format", "ics")
    assert ran.exit_code == 0
    parsed = icalendar.Calendar.from_ical(ran.stdout.encode("utf-8"))
    [event] = list(parsed.walk("VEVENT"))
    assert event.decoded("dtstart") == datetime(2026, 11, 25, 9, 0, tzinfo=MADRID)
    assert str(event["summary"]).startswith("mastodon · ready · Buenos días")
    assert str(parsed["x-wr-timezone"]) == "Europe/Madrid" and list(parsed.walk("VTIMEZONE"))


def test_import_dry_run_writes_nothing(ws: Path, tmp_path: Path):
    sheet = tmp_path / "nuevo.csv"
    sheet.write_text("fecha;plataforma;texto\n26/11/2026 10:00;mastodon;nuevo\n", encoding="utf-8")
    before = (ws / "projects" / "acme.toml").read_text(encoding="utf-8")
    ran = cmday(ws, "calendar", "import", str(sheet), "--dry-run")
    assert ran.exit_code == 0 and "dry run: 1 post would be added" in ran.stderr
    assert (ws / "projects" / "acme.toml").read_text(encoding="utf-8") == before


# -- check and due -----------------------------------------------------------------------------------------


def test_check_exits_10_on_errors_and_0_when_in_order(ws: Path):
    ran = cmday(ws, "calendar", "check")
    assert ran.exit_code == 0, ran.stdout  # tomorrow is ready; only warnings (gaps) and notes
    assert "mastodon: nothing planned on 2 days: Thu 26 Nov, Fri 27 Nov" in ran.stdout
    add_post(ws, "--at", "2026-11-25T10:00", "--platform", "mastodon", "--text", "still a draft")
    ran = cmday(ws, "calendar", "check", "--json")
    assert ran.exit_code == 10
    problems = json.loads(ran.stdout)["projects"][0]["problems"]
    assert problems[0]["code"] == "not-ready" and problems[0]["severity"] == "error" and problems[0]["day"] == "2026-11-25"
    assert {"severity", "code", "message", "post_key", "day", "platform"} == set(problems[0])


def test_check_links_only_when_asked_and_online(ws: Path, platform_server):
    from tests.support.platform_server import Reply

    platform_server.route("HEAD", "/gone", Reply(404))
    add_post(ws, "--at", "2026-11-25T12:00", "--platform", "mastodon", "--text", "x", "--status", "ready", "--link", f"{platform_server.url}/gone")
    quiet = as_json(ws, "calendar", "check")
    assert "link-broken" not in [p["code"] for p in quiet["projects"][0]["problems"]] and not platform_server.requests
    offline = as_json(ws, "calendar", "check", "--links", "--offline")
    assert "links-not-checked" in [p["code"] for p in offline["projects"][0]["problems"]] and not platform_server.requests
    checked = as_json(ws, "calendar", "check", "--links")
    assert "link-broken" in [p["code"] for p in checked["projects"][0]["problems"]]
    assert [r.method for r in platform_server.requests] == ["HEAD"]


def test_due_lists_ready_posts_whose_time_has_come(ws: Path):
    add_post(ws, "--at", "2026-11-25T08:00", "--platform", "mastodon", "--text", "draft at eight")
    at_nine = datetime(2026, 11, 25, 9, 0, 30, tzinfo=MADRID)
    before = as_json(ws, "calendar", "due", at=datetime(2026, 11, 25, 8, 59, tzinfo=MADRID))
    assert before == {"due": []}
    [due] = as_json(ws, "calendar", "due", at=at_nine)["due"]
    assert due["text"].startswith("Buenos días") and due["status"] == "ready" and due["publication"] is None
    ran = cmday(ws, "calendar", "due", at=at_nine)
    assert due["key"] in ran.stdout and "cmday publish KEY" in ran.stderr


# -- publish -------------------------------------------------------------------------------------------------


class RecordingSender:
    """A stand-in adapter registered in cmday.sources.PLATFORMS for these tests: records what it is asked to send."""

    uses_network = False
    sent: list[tuple] = []
    failures: list[Exception] = []
    on_the_account: list[Sent] = []  # what find_post answers: a post an earlier, interrupted run did publish
    looked: list[str] = []

    def __init__(self, source, context) -> None:
        self.source, self.context = source, context

    async def find_post(self, text: str, link: str | None, idempotency_key: str, since: datetime) -> Sent | None:
        RecordingSender.looked.append(idempotency_key)
        return RecordingSender.on_the_account[0] if RecordingSender.on_the_account else None

    async def publish(self, text: str, link: str | None, media: list[Path], idempotency_key: str, alts: list[str] | None = None) -> Sent:
        RecordingSender.sent.append((self.source.id, text, link, media, idempotency_key, self.context.project_slug))
        if RecordingSender.failures:
            raise RecordingSender.failures.pop(0)
        return Sent(remote_id="109", url="https://mastodon.example/@acme/109")


class ReadOnlyAdapter:
    uses_network = False

    def __init__(self, source, context) -> None:
        pass


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> type[RecordingSender]:
    monkeypatch.setitem(PLATFORMS, "mastodon", PLATFORMS["mastodon"]._replace(adapter=f"{__name__}:RecordingSender"))
    RecordingSender.sent, RecordingSender.failures, RecordingSender.on_the_account, RecordingSender.looked = [], [], [], []
    return RecordingSender


AT_NINE = datetime(2026, 11, 25, 9, 0, 30, tzinfo=MADRID)


def the_key(ws: Path) -> str:
    return as_json(ws, "calendar", "due", at=AT_NINE)["due"][0]["key"]


def test_publish_dry_run_sends_nothing(ws: Path, sender):
    key = the_key(ws)
    ran = cmday(ws, "publish", key, "--dry-run", at=AT_NINE)
    assert ran.exit_code == 0, ran.stderr
    assert "Buenos días" in ran.stdout and "dry run: nothing was sent" in ran.stderr
    assert sender.sent == []


def test_publish_without_a_terminal_and_without_yes_sends_nothing(ws: Path, sender):
    ran = cmday(ws, "publish", the_key(ws), at=AT_NINE)
    assert ran.exit_code == 2 and "nothing sent: confirm with --yes" in ran.stderr
    assert sender.sent == []


def test_publish_asks_on_a_terminal(ws: Path, sender, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("cmday.cli.calendar._interactive", lambda: True)
    key = the_key(ws)
    declined = cmday(ws, "publish", key, input="n\n", at=AT_NINE)
    assert declined.exit_code == 0 and "nothing sent" in declined.stderr and sender.sent == []
    accepted = cmday(ws, "publish", key[:5], input="y\n", at=AT_NINE)
    assert accepted.exit_code == 0, accepted.stderr
    assert len(sender.sent) == 1


def test_publish_sends_once_marks_published_and_never_twice(ws: Path, sender, cmday_home: Path):
    key = the_key(ws)
    ran = cmday(ws, "publish", key, "--yes", at=AT_NINE)
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.strip() == "https://mastodon.example/@acme/109"
    assert sender.sent == [("masto", "Buenos días: café de avena en todas las tiendas.", None, [], key, "acme")]
    again = cmday(ws, "publish", key, "--yes", at=AT_NINE)
    assert again.exit_code == 2 and "already published: https://mastodon.example/@acme/109" in again.stderr
    assert len(sender.sent) == 1
    view = as_json(ws, "calendar", at=AT_NINE)["projects"][0]
    [post] = [p for d in view["agenda"] for p in d["posts"] if p["key"] == key]
    assert post["status"] == "published" and post["url"] == "https://mastodon.example/@acme/109"
    assert as_json(ws, "calendar", "due", at=AT_NINE) == {"due": []}
    close = as_json(ws, "close", "--offline", at=datetime(2026, 11, 24, 18, 0, tzinfo=MADRID))
    assert close["projects"][0]["tomorrow"][0]["status"] == "published"
    record = Store(cmday_home / "state.sqlite3").publication("acme", key)
    assert record.status == "published" and record.remote_id == "109"


def test_a_failed_publication_is_recorded_and_can_be_tried_again(ws: Path, sender):
    sender.failures.append(SourceError("https://mastodon.example answered 503"))
    key = the_key(ws)
    failed = cmday(ws, "publish", key, "--yes", at=AT_NINE)
    assert failed.exit_code == ExitCode.NOT_SENT and "answered 503" in failed.stderr
    [due] = as_json(ws, "calendar", "due", at=AT_NINE)["due"]
    assert due["publication"] == "failed" and "503" in due["error"]
    assert sender.looked == []  # a first attempt has nothing to look for
    assert cmday(ws, "publish", key, "--yes", at=AT_NINE).exit_code == 0
    assert sender.looked == [key]  # the account was asked before the second attempt
    assert len(sender.sent) == 2


def test_an_unfinished_publication_is_checked_on_the_account_before_anything_is_sent(ws: Path, sender, cmday_home: Path):
    key = the_key(ws)
    store = Store(cmday_home / "state.sqlite3")
    assert store.claim_publication("acme", key, AT_NINE)  # a run that died while sending, after the post was stored
    store.close()
    sender.on_the_account.append(Sent(remote_id="108", url="https://mastodon.example/@acme/108"))
    found = cmday(ws, "publish", key, "--yes", at=AT_NINE + timedelta(minutes=2))
    assert found.exit_code == 0, found.stderr
    assert sender.sent == [] and sender.looked == [key]
    assert Store(cmday_home / "state.sqlite3").publication("acme", key).url == "https://mastodon.example/@acme/108"


def test_an_unfinished_publication_the_account_does_not_hold_is_sent_once(ws: Path, sender, cmday_home: Path):
    key = the_key(ws)
    store = Store(cmday_home / "state.sqlite3")
    assert store.claim_publication("acme", key, AT_NINE)  # a run that died before the platform stored anything
    store.close()
    retried = cmday(ws, "publish", key, "--yes", at=AT_NINE + timedelta(minutes=2))
    assert retried.exit_code == 0, retried.stderr
    assert sender.looked == [key] and len(sender.sent) == 1


def test_only_ready_posts_without_faults_are_published(ws: Path, sender):
    draft = add_post(ws, "--at", "2026-11-25T12:00", "--platform", "mastodon", "--text", "a draft")
    ran = cmday(ws, "publish", draft, "--yes", at=AT_NINE)
    assert ran.exit_code == 2 and "is draft; only ready or scheduled posts are published" in ran.stderr
    faulty = add_post(ws, "--at", "2026-11-25T13:00", "--platform", "mastodon", "--text", "x" * 501, "--status", "ready")
    ran = cmday(ws, "publish", faulty, "--yes", at=AT_NINE)
    assert ran.exit_code == 2 and "cannot go out: 501 characters, over the 500 mastodon allows" in ran.stderr
    no_media = add_post(ws, "--at", "2026-11-25T14:00", "--platform", "mastodon", "--text", "pic", "--media", "nope.png", "--status", "ready")
    ran = cmday(ws, "publish", no_media, "--yes", at=AT_NINE)
    assert ran.exit_code == 2 and "media file nope.png not found" in ran.stderr
    assert sender.sent == []
    assert cmday(ws, "publish", "nope-nope", "--yes").exit_code == 2


ALT_REQUIRED = """
[[conduct]]
id = "alt-required"
check = "alt_text"
applies_to = "post"
severity = "error"
message = "{file}: the agency publishes no image without alt text."
"""


def with_protocol(ws: Path, text: str) -> None:
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace('slug = "acme"', 'slug = "acme"\nprotocol = "protocols/acme.toml"'), encoding="utf-8")
    (ws / "protocols").mkdir(exist_ok=True)
    (ws / "protocols" / "acme.toml").write_text(text, encoding="utf-8")


def test_a_missing_alt_text_is_a_warning_unless_the_protocol_makes_it_an_error(ws: Path, sender):
    (ws / "m").mkdir()
    (ws / "m" / "cups.png").write_bytes(b"\x89PNG")
    key = add_post(ws, "--at", "2026-11-25T12:00", "--platform", "mastodon", "--text", "pic", "--media", "m/cups.png", "--status", "ready")
    problems = as_json(ws, "calendar", "check")["projects"][0]["problems"]
    assert [(p["severity"], p["post_key"]) for p in problems if p["code"] == "alt-missing"] == [("warning", key)]
    assert cmday(ws, "lint", "Two cups", "--media", "m/cups.png").exit_code == 0
    assert cmday(ws, "publish", key, "--dry-run", at=AT_NINE).exit_code == 0

    with_protocol(ws, ALT_REQUIRED)
    ran = cmday(ws, "calendar", "check", "--json")
    assert ran.exit_code == ExitCode.ATTENTION
    problems = json.loads(ran.stdout)["projects"][0]["problems"]
    assert [(p["severity"], p["post_key"]) for p in problems if p["code"] == "alt-missing"] == [("error", key)]
    ran = cmday(ws, "publish", key, "--yes", at=AT_NINE)
    assert ran.exit_code == 2 and "cannot go out: m/cups.png has no alt text" in ran.stderr, ran.stderr
    assert sender.sent == []
    linted = cmday(ws, "lint", "Two cups", "--media", "m/cups.png", "--json")
    assert linted.exit_code == ExitCode.ATTENTION
    assert json.loads(linted.stdout)["findings"] == [
        {"rule": "alt-required", "severity": "error", "message": "m/cups.png: the agency publishes no image without alt text."}
    ]
    assert cmday(ws, "lint", "Two cups", "--media", "m/cups.png", "--alt", "Two cups on the bar").exit_code == 0


def test_add_writes_alt_text_beside_its_file_and_refuses_more_alts_than_files(ws: Path):
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "pic", "--media", "m/a.png", "--media", "m/b.png",
             "--alt", "A flat white")
    add_post(ws, "--at", "2026-11-26T11:00", "--platform", "mastodon", "--text", "one", "--media", "m/c.png", "--alt", "A cortado")
    written = (ws / "projects" / "acme.toml").read_text(encoding="utf-8")
    assert 'media = [{path = "m/a.png", alt = "A flat white"}, "m/b.png"]' in written
    assert 'media = [{path = "m/c.png", alt = "A cortado"}]' in written and "[[posts.media]]" not in written  # as a person writes it
    ran = cmday(ws, "calendar", "add", "--at", "2026-11-27T10:00", "--platform", "mastodon", "--alt", "orphan")
    assert ran.exit_code == 2 and "1 alt text for 0 media files: one alt text per file" in ran.stderr, ran.stderr


def test_a_sheet_without_an_alt_column_refuses_a_post_with_alt_text(ws: Path):
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("horizon_days = 3", 'horizon_days = 3\nfile = "plan.csv"'), encoding="utf-8")
    (ws / "plan.csv").write_text("at,platform,text,media\n", encoding="utf-8")
    ran = cmday(ws, "calendar", "add", "--at", "2026-11-26T10:00", "--platform", "mastodon", "--media", "m/a.png", "--alt", "A cup")
    assert ran.exit_code == 2 and "plan.csv has no column for: alt" in ran.stderr, ran.stderr
    assert (ws / "plan.csv").read_text(encoding="utf-8") == "at,platform,text,media\n"  # nothing half-written


def test_a_platform_whose_adapter_cannot_publish_says_so(ws: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(PLATFORMS, "mastodon", PLATFORMS["mastodon"]._replace(adapter=f"{__name__}:ReadOnlyAdapter"))
    ran = cmday(ws, "publish", the_key(ws), "--yes", at=AT_NINE)
    assert ran.exit_code == 2
    assert "mastodon cannot publish from cmday yet" in ran.stderr and "publish it by hand" in ran.stderr


def test_a_platform_without_a_source_cannot_publish(ws: Path, sender):
    key = add_post(ws, "--at", "2026-11-25T12:00", "--platform", "bluesky", "--text", "no account", "--status", "ready")
    ran = cmday(ws, "publish", key, "--yes", at=AT_NINE)
    assert ran.exit_code == 2 and "no enabled bluesky source to publish with" in ran.stderr


def test_add_keeps_a_windows_1252_sheet_in_its_encoding(ws: Path):
    project = ws / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("horizon_days = 3", 'horizon_days = 3\nfile = "plan.csv"'), encoding="utf-8")
    (ws / "plan.csv").write_bytes("fecha;red;texto\n25/11/2026 12:00;mastodon;Campaña\n".encode("cp1252"))
    add_post(ws, "--at", "2026-11-26T10:00", "--platform", "mastodon", "--text", "Otoño")
    assert (ws / "plan.csv").read_bytes().decode("cp1252").splitlines() == [
        "fecha;red;texto", "25/11/2026 12:00;mastodon;Campaña", "26/11/2026 10:00;mastodon;Otoño",
    ]
    ran = cmday(ws, "calendar", "add", "--at", "2026-11-27T10:00", "--platform", "mastodon", "--text", "café ☕")
    assert ran.exit_code == 2 and "plan.csv is saved as cp1252, which cannot hold '☕'" in ran.stderr


# -- publishing through the real adapters, against the local test server ----------------------------------------


def _with_sources(ws: Path, server_url: str) -> None:
    project = ws / "projects" / "acme.toml"
    text = project.read_text(encoding="utf-8").replace('instance = "https://mastodon.example"', f'instance = "{server_url}"')
    text = text.replace("[calendar]\nplatforms = [\"mastodon\"]", '[calendar]\nplatforms = ["mastodon", "bluesky"]')
    text += f'\n[[sources]]\nid = "bsky"\nplatform = "bluesky"\nservice = "{server_url}"\nhandle = "acme.bsky.social"\npassword_env = "ACME_BSKY_PASSWORD"\n'
    project.write_text(text, encoding="utf-8")


def test_publishing_to_mastodon_sends_one_status_with_the_idempotency_key(ws: Path, platform_server, monkeypatch: pytest.MonkeyPatch):
    from tests.support.platform_server import Reply

    monkeypatch.setenv("ACME_MASTODON_TOKEN", "token-123")
    _with_sources(ws, platform_server.url)
    platform_server.route("POST", "/api/v1/statuses", Reply(200, {
        "id": "110", "uri": f"{platform_server.url}/users/acme/statuses/110", "url": f"{platform_server.url}/@acme/110",
    }))
    key = add_post(ws, "--at", "2026-11-25T09:30", "--source", "masto", "--text", "Black Friday ☕", "--status", "ready",
                   "--link", "https://acme.example/bf?utm_source=mastodon&utm_medium=social&utm_campaign=launch")
    ran = cmday(ws, "publish", key, "--yes", at=AT_NINE)
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.strip() == f"{platform_server.url}/@acme/110"
    [sent] = [r for r in platform_server.requests if r.path == "/api/v1/statuses"]
    assert sent.json() == {"status": "Black Friday ☕\n\nhttps://acme.example/bf?utm_source=mastodon&utm_medium=social&utm_campaign=launch"}
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert headers["idempotency-key"] == key and headers["authorization"] == "Bearer token-123"
    again = cmday(ws, "publish", key, "--yes", at=AT_NINE)
    assert again.exit_code == 2 and "already published" in again.stderr
    assert len([r for r in platform_server.requests if r.path == "/api/v1/statuses"]) == 1
    [post] = [p for d in as_json(ws, "calendar", at=AT_NINE)["projects"][0]["agenda"] for p in d["posts"] if p["key"] == key]
    assert post["status"] == "published" and post["url"] == f"{platform_server.url}/@acme/110"


def test_publishing_to_bluesky_posts_a_record_with_a_link_card(ws: Path, platform_server, monkeypatch: pytest.MonkeyPatch):
    from tests.support.platform_server import Reply

    monkeypatch.setenv("ACME_BSKY_PASSWORD", "app-password")
    _with_sources(ws, platform_server.url)
    platform_server.route("POST", "/xrpc/com.atproto.server.createSession", Reply(200, {
        "accessJwt": "access-1", "refreshJwt": "refresh-1", "did": "did:plc:acme", "handle": "acme.bsky.social",
    }))
    platform_server.route("POST", "/xrpc/com.atproto.repo.createRecord",
                          lambda request: Reply(200, {"uri": f"at://did:plc:acme/app.bsky.feed.post/{request.json()['rkey']}", "cid": "bafy"}))
    key = add_post(ws, "--at", "2026-11-25T10:00", "--source", "bsky", "--text", "Taller de latte art 🇪🇸", "--status", "scheduled",
                   "--link", "https://acme.example/taller")
    ran = cmday(ws, "publish", key, "--yes", "--json", at=AT_NINE)
    assert ran.exit_code == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["sent"]["url"].startswith("https://bsky.app/profile/acme.bsky.social/post/")
    [created] = [r for r in platform_server.requests if r.path.endswith("createRecord")]
    record = created.json()["record"]
    assert record["text"] == "Taller de latte art 🇪🇸\n\nhttps://acme.example/taller"
    assert record["embed"]["external"]["uri"] == "https://acme.example/taller"
    assert any(f["features"][0]["uri"] == "https://acme.example/taller" for f in record["facets"])
    assert cmday(ws, "publish", key, "--yes", at=AT_NINE).exit_code == 2
    assert len([r for r in platform_server.requests if r.path.endswith("createRecord")]) == 1


def test_a_refused_token_is_recorded_as_a_failed_publication(ws: Path, platform_server, monkeypatch: pytest.MonkeyPatch):
    from tests.support.platform_server import Reply

    monkeypatch.setenv("ACME_MASTODON_TOKEN", "expired")
    _with_sources(ws, platform_server.url)
    platform_server.route("POST", "/api/v1/statuses", Reply(401, {"error": "The access token is invalid"}))
    ran = cmday(ws, "publish", the_key(ws), "--yes", at=AT_NINE)
    assert ran.exit_code == ExitCode.NOT_SENT and "refused the credentials" in ran.stderr and "expired" not in ran.stderr
    assert as_json(ws, "calendar", "due", at=AT_NINE)["due"][0]["publication"] == "failed"
