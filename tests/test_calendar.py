"""The calendar's core: CSV dialects and encodings, ICS round trips, every check (DST edges included), the routine's use of it."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from cmday.calendar.checks import Problem, check_plan, links_to_check, taboo_hits
from cmday.calendar.dates import local_time_problem
from cmday.calendar.exchange import EXPORT_COLUMNS, CsvFormat, csv_cells, export_csv, export_ics, read_csv_posts, read_posts_file
from cmday.calendar.plan import Plan, PlannedPost, load_plan, post_key
from cmday.errors import ConfigError
from cmday.linkcheck import verify_links
from cmday.models import Post
from cmday.sources import text_rules
from cmday.store import Store
from cmday.textsafe import clean
from cmday.workspace import load_workspace
from tests.cli_runner import run

MADRID = ZoneInfo("Europe/Madrid")
MEXICO = ZoneInfo("America/Mexico_City")

PROJECT = """
[project]
name = "Acme Coffee"
slug = "acme"
timezone = "{zone}"

[knowledge]
taboo_topics = ["política", "fútbol"]

[calendar]
platforms = {platforms}
{calendar}

[utm]
domains = ["acme.example"]
campaigns = ["black-friday", "launch"]

[[sources]]
id = "masto"
platform = "mastodon"
instance = "https://mastodon.example"
"""


def make(root: Path, posts: str = "", calendar_lines: str = "", zone: str = "Europe/Madrid", platforms: str = '["mastodon"]') -> Path:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "cmday.toml").write_text('timezone = "Europe/Madrid"\n', encoding="utf-8")
    text = PROJECT.format(zone=zone, platforms=platforms, calendar=calendar_lines) + posts
    (root / "projects" / "acme.toml").write_text(text, encoding="utf-8")
    return root


def post(at: str, text: str = "hola", status: str = "ready", platform: str = "mastodon", extra: str = "") -> str:
    return f'\n[[posts]]\nat = {at}\nplatform = "{platform}"\ntext = """{text}"""\nstatus = "{status}"\n{extra}\n'


def plan_of(root: Path, store: Store | None = None) -> Plan:
    workspace = load_workspace(root)
    return load_plan(workspace, workspace.projects["acme"], store)


def codes(problems: list[Problem], key: str | None = None) -> list[str]:
    return [p.code for p in problems if key is None or p.post_key == key]


def only(problems: list[Problem], code: str) -> list[Problem]:
    return [p for p in problems if p.code == code]


# -- CSV dialects and encodings -----------------------------------------------------------------------


SPANISH_SHEET = (
    "Fecha y hora;Plataforma;Texto;Enlace;Imagen;Campaña;Responsable;Estado;Notas\r\n"
    "25/11/2026 10:00;Mastodon;\"¡Abrimos en Chamberí!; café de avena\";https://acme.example/c;media/a.jpg|media/b.jpg;launch;Lucía;listo;interna\r\n"
    ";;;;;;;;\r\n"
    "26/11/26 9.30;bluesky;\"Dos líneas\nen una celda\";;;;;borrador;\r\n"
)


def test_a_spanish_excel_sheet_with_bom_semicolons_and_day_first_dates(tmp_path: Path):
    posts, form = read_csv_posts(b"\xef\xbb\xbf" + SPANISH_SHEET.encode("utf-8"), "calendar.csv", None)
    assert form.delimiter == ";" and form.bom and form.day_first and form.spanish and form.encoding == "utf-8"
    (first, line1), (second, line2) = posts
    assert first.at == datetime(2026, 11, 25, 10, 0) and first.platform == "mastodon"
    assert first.text == "¡Abrimos en Chamberí!; café de avena"
    assert first.media == ["media/a.jpg", "media/b.jpg"] and first.campaign == "launch" and first.owner == "Lucía"
    assert first.status == "ready" and line1 == 2
    assert second.at == datetime(2026, 11, 26, 9, 30) and second.text == "Dos líneas\nen una celda"
    assert second.status == "draft" and line2 == 4  # the empty row counted, not kept


def test_comma_iso_utf8_without_bom_and_separate_date_and_time_columns():
    sheet = "date,time,platform,text,status\n2026-11-25,10:00,mastodon,\"Hello, world\",scheduled\n2026-11-26,,bluesky,all day,idea\n"
    posts, form = read_csv_posts(sheet.encode("utf-8"), "c.csv", None)
    assert form.delimiter == "," and not form.bom and not form.day_first and form.newline == "\n"
    assert [p.at for p, _line in posts] == [datetime(2026, 11, 25, 10, 0), datetime(2026, 11, 26, 0, 0)]
    assert posts[0][0].text == "Hello, world" and posts[0][0].status == "scheduled"


def test_tab_separated_and_iso_with_offset():
    sheet = "at\tplatform\ttext\n2026-11-25T10:00:00+01:00\tmastodon\tx\n2026-11-25 12:00\tmastodon\ty\n"
    posts, form = read_csv_posts(sheet.encode("utf-8"), "c.tsv", None)
    assert form.delimiter == "\t"
    assert posts[0][0].at.utcoffset() == timedelta(hours=1)
    assert posts[1][0].at == datetime(2026, 11, 25, 12, 0)


def test_windows_1252_as_excel_saves_plain_csv():
    sheet = "fecha;red;texto\n25/11/2026 10:00;mastodon;Campaña de otoño\n".encode("cp1252")
    posts, form = read_csv_posts(sheet, "c.csv", None)
    assert form.encoding == "cp1252" and posts[0][0].text == "Campaña de otoño"


@pytest.mark.parametrize(
    "row,where",
    [
        ("31/02/2026 10:00;mastodon;x;listo", "c.csv:2: fecha: '31/02/2026 10:00' is not a date"),
        ("mañana;mastodon;x;listo", "c.csv:2: fecha: 'mañana' is not a date and time"),
        ("25/11/2026 25:00;mastodon;x;listo", "c.csv:2: fecha: '25:00' is not a time of day"),
        ("25/11/2026 10:00;mastodon;x;hecho", "c.csv:2: estado: unknown status 'hecho'"),
        ("25/11/2026 10:00;;x;listo", "c.csv:2: row: a post needs `source` (a source id) or `platform`"),
    ],
)
def test_bad_rows_name_the_file_line_and_field(row: str, where: str):
    sheet = f"fecha;plataforma;texto;estado\n{row}\n"
    with pytest.raises(ConfigError) as raised:
        read_csv_posts(sheet.encode("utf-8"), "c.csv", None)
    assert raised.value.message.startswith(where), raised.value.message
    assert "\n" not in raised.value.message


def test_a_header_without_a_date_column_is_refused_plainly():
    with pytest.raises(ConfigError, match=r"c.csv:1: the header names no date column"):
        read_csv_posts(b"platform,text\nmastodon,x\n", "c.csv", None)


def test_a_row_naming_an_unknown_source_is_refused(tmp_path: Path):
    root = make(tmp_path / "ws", calendar_lines='file = "calendar.csv"')
    (root / "calendar.csv").write_text("at,source,text\n2026-11-25T10:00,nope,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"calendar.csv:2: source: no source 'nope'.*masto"):
        plan_of(root)


def test_posts_come_from_the_project_file_and_its_csv(tmp_path: Path):
    root = make(tmp_path / "ws", post("2026-11-25T09:00:00", "from toml"), calendar_lines='file = "calendar.csv"')
    (root / "calendar.csv").write_text("at;source;text;estado\n25/11/2026 18:00;masto;from csv;listo\n", encoding="utf-8")
    plan = plan_of(root)
    assert [(p.text, p.platform, p.origin) for p in plan.posts] == [
        ("from toml", "mastodon", "projects/acme.toml posts[1]"),
        ("from csv", "mastodon", "calendar.csv:2"),
    ]
    assert plan.posts[1].at == datetime(2026, 11, 25, 18, 0, tzinfo=MADRID)


def test_a_missing_csv_is_a_config_error_naming_the_setting(tmp_path: Path):
    root = make(tmp_path / "ws", calendar_lines='file = "nope.csv"')
    with pytest.raises(ConfigError, match=r"projects/acme.toml: calendar.file: nope.csv not found"):
        plan_of(root)


def test_keys_are_stable_hashes_or_explicit_ids(tmp_path: Path):
    root = make(tmp_path / "ws", post("2026-11-25T09:00:00", "one") + post("2026-11-25T12:00:00", "two", extra='id = "bf-teaser"'))
    first = plan_of(root)
    again = plan_of(root)
    assert [p.key for p in first.posts] == [p.key for p in again.posts]
    assert len(first.posts[0].key) == 8 and first.posts[1].key == "bf-teaser"
    assert first.find(first.posts[0].key[:5]) is first.posts[0]
    assert first.find("zzzz") is None


# -- CSV and ICS round trips ------------------------------------------------------------------------


ROUND_TRIP_POSTS = (
    post("2026-11-25T09:00:00", "Black Friday: 20% en todo ☕",
         extra='link = "https://acme.example/bf?utm_source=mastodon&utm_medium=social&utm_campaign=black-friday#top"\nmedia = ["media/bf.png"]\n'
               'campaign = "black-friday"\nowner = "Lucía"')
    + post("2026-11-25T12:00:00", "two pictures", extra=(
        "media = [\"media/plain.png\", { path = \"media/cups.png\", alt = '=Two cups | one \\ saucer; \"café\"' }]"))
    + post("2026-10-25T02:30:00", "twice", status="draft")
    + post("2026-11-26T08:00:00+00:00", "with offset", status="idea", platform="bluesky", extra='id = "offset-one"')
    + post("2026-11-27T10:00:00", 'quotes "and"; semicolons, commas\nand lines', status="scheduled")
)


def test_ics_export_is_read_back_by_icalendar_one_event_per_post(tmp_path: Path):
    root = make(tmp_path / "ws", ROUND_TRIP_POSTS)
    plan = plan_of(root)
    data = export_ics(plan, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    parsed = icalendar.Calendar.from_ical(data)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 5
    assert [str(e["uid"]) for e in events] == [f"{p.key}@acme.cmday" for p in plan.posts]  # globally unique
    assert any(str(tz["tzid"]) == "Europe/Madrid" for tz in parsed.walk("VTIMEZONE"))
    black_friday = next(e for e in events if "Black Friday" in str(e["summary"]))
    start = black_friday.decoded("dtstart")
    assert start == datetime(2026, 11, 25, 9, 0, tzinfo=MADRID) and start.tzinfo.key == "Europe/Madrid"
    assert "DTSTART;TZID=Europe/Madrid:20261125T090000" in data.decode()
    description = str(black_friday["description"])
    assert "20% en todo ☕" in description and "https://acme.example/bf?" in description
    assert {str(c) for c in black_friday["categories"].cats} >= {"mastodon", "ready"}
    assert str(black_friday["x-cmday-platform"]) == "mastodon"
    offset_event = next(e for e in events if str(e["uid"]) == "offset-one@acme.cmday")
    assert offset_event.decoded("dtstart") == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_ics_round_trip_gives_back_the_same_posts_and_keys(tmp_path: Path):
    root = make(tmp_path / "ws", ROUND_TRIP_POSTS)
    plan = plan_of(root)
    path = tmp_path / "out.ics"
    path.write_bytes(export_ics(plan, datetime(2026, 11, 20, tzinfo=UTC)))
    back = read_posts_file(path, plan.project, MADRID, None, None)
    fields = ("at", "platform", "text", "link", "media", "media_alt", "campaign", "owner", "status")
    assert [{f: getattr(p, f) for f in fields} for p in back] == [{f: getattr(p.post, f) for f in fields} for p in plan.posts]
    assert {"media/cups.png": '=Two cups | one \\ saucer; "café"'} in [p.media_alt for p in back]
    assert [post_key(p, p.platform or "") for p in back] == [p.key for p in plan.posts]


def test_csv_round_trip_gives_back_the_same_posts(tmp_path: Path):
    root = make(tmp_path / "ws", ROUND_TRIP_POSTS)
    plan = plan_of(root)
    for delimiter in (",", ";"):
        text = export_csv(plan, delimiter)
        back = [p for p, _line in read_csv_posts(text.encode("utf-8"), "x.csv", plan.project)[0]]
        assert back == [p.post for p in plan.posts]
        assert any(p.media_alt for p in back)  # alt text is part of the post: the sheet keeps it


ALT_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip).filter(
    lambda alt: not alt.startswith("'")  # a leading apostrophe is Excel's text mark, read as such in every cell
)


@settings(max_examples=200, deadline=None)
@given(alts=st.lists(ALT_TEXT, min_size=1, max_size=4), delimiter=st.sampled_from([",", ";", "\t"]))
def test_alt_texts_come_back_from_a_sheet_whatever_they_hold(alts: list[str], delimiter: str):
    media = [f"media/{number}.png" for number in range(len(alts))]
    written = Post.model_validate({"at": datetime(2026, 11, 25, 9, 0), "platform": "mastodon", "text": "x",
                                   "media": [{"path": path, "alt": alt} for path, alt in zip(media, alts, strict=True)]})
    buffer = io.StringIO()
    sheet = csv.writer(buffer, delimiter=delimiter)
    sheet.writerow(EXPORT_COLUMNS)
    sheet.writerow(csv_cells(written, CsvFormat(delimiter=delimiter), MADRID))
    [(back, _line)] = read_csv_posts(buffer.getvalue().encode("utf-8"), "x.csv", None)[0]
    assert back.media == media and back.media_alt == written.media_alt


@settings(max_examples=100, deadline=None)
@given(alts=st.lists(ALT_TEXT.map(lambda alt: clean(alt).strip()), min_size=1, max_size=3))  # ICS text passes `clean`, as every exported text does
def test_alt_texts_come_back_from_an_ics_export_whatever_they_hold(alts: list[str]):
    with tempfile.TemporaryDirectory() as folder:
        back = _through_ics(Path(folder), alts)
    assert back.media == [f"media/{number}.png" for number in range(len(alts))]
    assert back.media_alt == {f"media/{number}.png": alt for number, alt in enumerate(alts) if alt}


def _through_ics(folder: Path, alts: list[str]) -> Post:
    project = load_workspace(make(folder / "ws")).projects["acme"]
    media = [f"media/{number}.png" for number in range(len(alts))]
    written = Post.model_validate({"at": datetime(2026, 11, 25, 9, 0), "platform": "mastodon", "text": "x",
                                   "media": [{"path": path, "alt": alt} for path, alt in zip(media, alts, strict=True)]})
    at = written.at.replace(tzinfo=MADRID).astimezone(UTC)
    planned = PlannedPost(post_key(written, "mastodon"), written, at, at.astimezone(MADRID), "mastodon", "x", "ready")
    plan = Plan(project=project, zone=MADRID, root=Path("."), posts=[planned], project_file="projects/acme.toml")
    path = folder / "plan.ics"
    path.write_bytes(export_ics(plan, NOW))
    [back] = read_posts_file(path, project, MADRID, None, None)
    return back


def test_more_alt_texts_than_files_is_an_error_naming_the_cell(tmp_path: Path):
    sheet = "at,platform,text,media,alt\n2026-11-25T09:00,mastodon,x,media/a.png,one|two\n"
    with pytest.raises(ConfigError, match=r"c.csv:2: alt: 2 alt texts for 1 media file: one alt text per file"):
        read_csv_posts(sheet.encode("utf-8"), "c.csv", None)


def test_events_from_another_calendar_import_with_a_default_platform(tmp_path: Path):
    foreign = icalendar.Calendar()
    event = icalendar.Event()
    event.add("uid", "abc123@google.com")
    event.add("dtstart", datetime(2026, 12, 1, 10, 0, tzinfo=MADRID))
    event.add("summary", "Navidad: horario especial")
    event.add("description", "Abrimos el 24 hasta las 14:00\n\nhttps://acme.example/navidad")
    event.add("url", "https://acme.example/navidad")
    foreign.add_component(event)
    path = tmp_path / "google.ics"
    path.write_bytes(foreign.to_ical())
    root = make(tmp_path / "ws")
    project = load_workspace(root).projects["acme"]
    with pytest.raises(Exception, match="names no platform"):
        read_posts_file(path, project, MADRID, None, None)
    [imported] = read_posts_file(path, project, MADRID, None, "mastodon")
    assert imported.at == datetime(2026, 12, 1, 10, 0) and imported.platform == "mastodon"
    assert imported.text == "Abrimos el 24 hasta las 14:00" and imported.link == "https://acme.example/navidad"
    assert imported.status == "draft" and imported.id is None  # a foreign UID is no cmday key


# -- the checks: horizon and tomorrow -------------------------------------------------------------------


NOW = datetime(2026, 11, 24, 18, 0, tzinfo=MADRID)  # a Tuesday evening


def test_horizon_lists_empty_days_per_active_platform(tmp_path: Path):
    posts = "".join(post(f"2026-11-{day}T10:00:00") for day in (25, 26, 28))
    root = make(tmp_path / "ws", posts + post("2026-11-25T11:00:00", platform="bluesky"), platforms='["mastodon", "bluesky"]',
                calendar_lines="horizon_days = 5")
    problems = check_plan(plan_of(root), NOW)
    gaps = {(p.platform, p.day) for p in only(problems, "gap")}
    assert gaps == {("mastodon", date(2026, 11, 27)), ("mastodon", date(2026, 11, 29))} | {
        ("bluesky", date(2026, 11, d)) for d in (26, 27, 28, 29)
    }
    [short] = only(problems, "horizon-short")
    assert short.severity == "info" and "planned 4 days ahead" in short.message and "28 is ideal" in short.message


def test_days_the_brand_does_not_publish_are_no_gaps(tmp_path: Path):
    root = make(tmp_path / "ws", calendar_lines='horizon_days = 7\nweekdays = ["mon", "tue", "wed", "thu", "fri"]')
    gaps = [p.day.strftime("%a") for p in only(check_plan(plan_of(root), NOW), "gap")]
    assert gaps == ["Wed", "Thu", "Fri", "Mon", "Tue"]


def test_tomorrow_needs_the_minimum_of_ready_posts_per_platform(tmp_path: Path):
    posts = post("2026-11-25T09:00:00") + post("2026-11-25T13:00:00", status="draft") + post("2026-11-25T10:00:00", platform="bluesky", status="scheduled")
    root = make(tmp_path / "ws", posts, platforms='["mastodon", "bluesky"]', calendar_lines="min_per_day = {mastodon = 2}")
    problems = check_plan(plan_of(root), NOW)
    [missing] = only(problems, "tomorrow-missing")
    assert missing.platform == "mastodon" and missing.severity == "error" and "1 of the 2 ready posts" in missing.message
    [draft] = only(problems, "not-ready")
    assert "due in 19 h and still draft" in draft.message


def test_nothing_due_within_24_hours_may_still_be_an_idea_or_a_draft(tmp_path: Path):
    posts = post("2026-11-25T17:59:00", "idea", status="idea") + post("2026-11-25T18:01:00", "later draft", status="draft")
    problems = check_plan(plan_of(make(tmp_path / "ws", posts)), NOW)
    flagged = [p.message for p in only(problems, "not-ready")]
    assert len(flagged) == 1 and "still idea" in flagged[0]


def test_media_files_must_exist_relative_to_the_workspace(tmp_path: Path):
    posts = (
        post("2026-11-25T09:00:00", "tomorrow", extra='media = ["media/ok.jpg", "media/missing.jpg"]')
        + post("2026-11-30T09:00:00", "later", extra='media = "media/later.jpg"')
    )
    root = make(tmp_path / "ws", posts)
    (root / "media").mkdir()
    (root / "media" / "ok.jpg").write_bytes(b"\xff\xd8")
    problems = only(check_plan(plan_of(root), NOW), "media-missing")
    assert [(p.severity, p.day) for p in problems] == [("error", date(2026, 11, 25)), ("warning", date(2026, 11, 30))]
    assert "media/missing.jpg" in problems[0].message


def test_alt_text_is_written_beside_its_file_and_a_missing_one_is_a_warning(tmp_path: Path):
    posts = post("2026-11-25T09:00:00", "brunch", extra=(
        'media = [{ path = "media/brunch.jpg", alt = "Turkish eggs and a flat white" }, "media/menu.jpg"]'))
    root = make(tmp_path / "ws", posts)
    (root / "media").mkdir()
    for name in ("brunch.jpg", "menu.jpg"):
        (root / "media" / name).write_bytes(b"\xff\xd8")
    plan = plan_of(root)
    [planned] = plan.posts
    assert planned.post.media == ["media/brunch.jpg", "media/menu.jpg"]
    assert planned.post.media_alt == {"media/brunch.jpg": "Turkish eggs and a flat white"}
    problems = only(check_plan(plan, NOW), "alt-missing")
    assert [(p.severity, "media/menu.jpg" in p.message) for p in problems] == [("warning", True)]


def test_links_answering_or_not(tmp_path: Path, platform_server):
    from tests.support.platform_server import Reply

    platform_server.route("HEAD", "/ok", Reply(200))
    platform_server.route("HEAD", "/gone", Reply(404))
    platform_server.route("HEAD", "/no-head", Reply(405))
    platform_server.route("GET", "/no-head", Reply(200, "hello"))
    base = platform_server.url
    posts = "".join(post(f"2026-11-25T{h}:00:00", f"{name}", extra=f'link = "{base}/{name}"') for h, name in (("09", "ok"), ("11", "gone"), ("13", "no-head")))
    plan = plan_of(make(tmp_path / "ws", posts, calendar_lines="max_per_day = 5"))
    urls = links_to_check(plan, NOW)
    answers = verify_links(urls)
    assert answers == {f"{base}/ok": None, f"{base}/gone": "it answers 404", f"{base}/no-head": None}
    broken = only(check_plan(plan, NOW, links=answers), "link-broken")
    assert len(broken) == 1 and broken[0].severity == "error" and "/gone does not answer: it answers 404" in broken[0].message
    assert [r.method for r in platform_server.requests].count("GET") == 1


def test_links_to_an_unreachable_host_say_why(tmp_path: Path):
    answers = verify_links(["http://127.0.0.1:9/nothing"], timeout=2)
    assert answers["http://127.0.0.1:9/nothing"]


# -- saturation ----------------------------------------------------------------------------------------


def test_too_many_posts_a_day_and_too_close_together(tmp_path: Path):
    posts = (
        post("2026-11-26T09:00:00", "a") + post("2026-11-26T09:30:00", "b") + post("2026-11-26T12:00:00", "c")
        + post("2026-11-26T12:05:00", "an idea", status="idea")
        + post("2026-11-26T10:00:00", "x", platform="bluesky") + post("2026-11-26T10:10:00", "y", platform="bluesky")
    )
    root = make(tmp_path / "ws", posts, calendar_lines="max_per_day = {mastodon = 2}\nmin_gap_minutes = {mastodon = 60, bluesky = 5}")
    problems = check_plan(plan_of(root), NOW)
    [many] = only(problems, "too-many")
    assert many.platform == "mastodon" and many.day == date(2026, 11, 26) and "3 posts, more than the 2" in many.message
    [close] = only(problems, "too-close")
    assert close.platform == "mastodon" and "30 min after the post at 09:00" in close.message


# -- links and UTM -----------------------------------------------------------------------------------------


def test_links_to_own_domains_need_utm_tags_that_follow_the_rules(tmp_path: Path):
    posts = (
        post("2026-11-27T09:00:00", "bare", extra='link = "https://shop.acme.example/bf"')
        + post("2026-11-27T11:00:00", "caps", extra='link = "https://acme.example/?utm_source=mastodon&utm_medium=social&utm_campaign=Black Friday"')
        + post("2026-11-27T13:00:00", "unknown campaign", extra='link = "https://acme.example/?utm_source=mastodon&utm_medium=social&utm_campaign=summer"')
        + post("2026-11-27T15:00:00", "wrong source",
               extra='link = "https://acme.example/?utm_source=bluesky&utm_medium=social&utm_campaign=launch"\ncampaign = "black-friday"')
        + post("2026-11-27T17:00:00", "other site https://elsewhere.example/x and https://acme.example/in-text")
        + post("2026-11-27T19:00:00", "fine", extra='link = "https://acme.example/?utm_source=mastodon&utm_medium=social&utm_campaign=launch"')
    )
    plan = plan_of(make(tmp_path / "ws", posts, calendar_lines="max_per_day = 9"))
    problems = check_plan(plan, NOW)
    by_text = {p.text: codes(problems, p.key) for p in plan.posts}
    assert by_text["bare"] == ["utm-missing"]
    assert sorted(by_text["caps"]) == ["utm-naming", "utm-naming", "utm-naming"]  # capitals, spaces, not allowed
    assert by_text["unknown campaign"] == ["utm-naming"]
    assert sorted(by_text["wrong source"]) == ["utm-mismatch", "utm-mismatch"]
    assert by_text["other site https://elsewhere.example/x and https://acme.example/in-text"] == ["utm-missing"]
    assert by_text["fine"] == []


# -- text ------------------------------------------------------------------------------------------------


def test_mastodon_counts_500_characters_with_links_as_23(tmp_path: Path):
    long_link = "https://acme.example/" + "x" * 200 + "?utm_source=mastodon&utm_medium=social&utm_campaign=launch"
    fits = "a" * (500 - 23 - 2)  # text, a blank line, the link
    posts = post("2026-11-27T09:00:00", fits, extra=f'link = "{long_link}"') + post("2026-11-27T11:00:00", fits + "a", extra=f'link = "{long_link}"')
    problems = check_plan(plan_of(make(tmp_path / "ws", posts)), NOW)
    [too_long] = only(problems, "too-long")
    assert too_long.day == date(2026, 11, 27) and "501 characters, over the 500 mastodon allows" in too_long.message


def test_bluesky_counts_300_graphemes_not_code_points(tmp_path: Path):
    family = "👩\u200d👩\u200d👧\u200d👦"  # 7 code points, one grapheme
    accented = "e\u0301"  # e + combining acute
    flag = "🇪🇸"
    fits = (family + accented * 2 + flag + "👍🏽" * 2) * 50  # 300 graphemes, 850 code points, 2750 of Bluesky's 3000 bytes
    posts = post("2026-11-27T09:00:00", fits, platform="bluesky") + post("2026-11-27T11:00:00", fits + "!", platform="bluesky")
    root = make(tmp_path / "ws", posts, platforms='["bluesky"]')
    problems = check_plan(plan_of(root), NOW)
    [too_long] = only(problems, "too-long")
    assert "301 graphemes, over the 300 bluesky allows" in too_long.message
    assert len(fits) == 850
    assert text_rules("bluesky").length(fits) == 300


def test_a_bluesky_post_over_3000_bytes_is_too_long_though_under_300_graphemes(tmp_path: Path):
    posts = post("2026-11-27T09:00:00", "👨‍👩‍👧" * 200, platform="bluesky")  # 200 graphemes of 18 bytes each
    [too_long] = only(check_plan(plan_of(make(tmp_path / "ws", posts, platforms='["bluesky"]')), NOW), "too-long")
    assert "3600 bytes, over the 3000 bluesky allows" in too_long.message


def test_an_instance_limit_overrides_the_default(tmp_path: Path):
    posts = post("2026-11-27T09:00:00", "a" * 600)
    assert not only(check_plan(plan_of(make(tmp_path / "a", posts, calendar_lines="text_limits = {mastodon = 1000}")), NOW), "too-long")
    assert only(check_plan(plan_of(make(tmp_path / "b", posts)), NOW), "too-long")


def test_taboo_topics_are_found_without_accents_or_case(tmp_path: Path):
    posts = post("2026-11-27T09:00:00", "Hoy hablamos de POLITICA y café") + post("2026-11-27T11:00:00", "Politécnica: charla de café")
    problems = check_plan(plan_of(make(tmp_path / "ws", posts)), NOW)
    [taboo] = only(problems, "taboo")
    assert "política" in taboo.message and taboo.severity == "error"
    project = load_workspace(tmp_path / "ws").projects["acme"]
    assert taboo_hits("el FÚTBOL de hoy", project) == ["fútbol"]
    assert taboo_hits("futbolín", project) == []


def test_a_ready_post_with_nothing_in_it_is_an_error(tmp_path: Path):
    problems = check_plan(plan_of(make(tmp_path / "ws", post("2026-11-27T09:00:00", ""))), NOW)
    assert only(problems, "empty")


# -- time --------------------------------------------------------------------------------------------------


def test_a_past_post_not_published(tmp_path: Path, cmday_home: Path):
    posts = (
        post("2026-11-24T10:00:00", "missed") + post("2026-11-20T10:00:00", "stale draft", status="draft")
        + post("2026-11-24T11:00:00", "done", status="published")
        + post("2026-11-24T12:00:00", "published by cmday")
    )
    root = make(tmp_path / "ws", posts)
    store = Store(cmday_home / "state.sqlite3")
    key = next(p.key for p in plan_of(root).posts if p.text == "published by cmday")
    store.claim_publication("acme", key, NOW)
    store.finish_publication("acme", key, "published", NOW, "1", "https://mastodon.example/@acme/1")
    plan = plan_of(root, store)
    problems = only(check_plan(plan, NOW), "past")
    assert [(p.severity, p.message.split(": ", 1)[1]) for p in problems] == [
        ("error", "was due 8 h ago and is not published (status: ready)"),
        ("warning", "was due 4 days ago and is not published (status: draft)"),
    ]
    by_text = {p.text: p for p in plan.posts}
    assert by_text["published by cmday"].status == "published"
    assert by_text["published by cmday"].url == "https://mastodon.example/@acme/1"
    store.close()


def test_madrid_spring_gap_is_said_plainly(tmp_path: Path):
    root = make(tmp_path / "ws", post("2026-03-29T02:30:00", "spring") + post("2026-03-29T03:30:00", "fine"))
    with time_machine.travel(datetime(2026, 3, 28, 18, 0, tzinfo=MADRID), tick=False):
        problems = check_plan(plan_of(root), datetime(2026, 3, 28, 18, 0, tzinfo=MADRID))
    [gap] = only(problems, "dst-gap")
    assert gap.severity == "error"
    assert "02:30 does not exist in Europe/Madrid that day" in gap.message
    assert "as written it would go out at 03:30 CEST" in gap.message
    assert local_time_problem(datetime(2026, 3, 29, 2, 30), MADRID) == "gap"
    assert local_time_problem(datetime(2026, 3, 29, 3, 30), MADRID) is None


def test_madrid_autumn_overlap_is_said_plainly(tmp_path: Path):
    root = make(tmp_path / "ws", post("2026-10-25T02:30:00", "twice") + post("2026-10-25T02:30:00+01:00", "chosen"))
    problems = check_plan(plan_of(root), datetime(2026, 10, 24, 18, 0, tzinfo=MADRID))
    [ambiguous] = only(problems, "dst-ambiguous")
    assert ambiguous.severity == "warning"
    assert "02:30 happens twice in Europe/Madrid" in ambiguous.message
    assert "takes the first one (+02:00)" in ambiguous.message and "2026-10-25T02:30:00+01:00" in ambiguous.message
    plan = plan_of(root)
    assert [p.local.utcoffset() for p in plan.posts] == [timedelta(hours=2), timedelta(hours=1)]


def test_mexico_city_has_had_no_dst_since_2022(tmp_path: Path):
    posts = post("2026-04-05T02:30:00", "old spring change") + post("2026-10-25T01:30:00", "old autumn change")
    root = make(tmp_path / "ws", posts, zone="America/Mexico_City", calendar_lines="horizon_days = 1")
    now = datetime(2026, 4, 4, 18, 0, tzinfo=MEXICO)
    problems = check_plan(plan_of(root), now, days=365)
    assert not only(problems, "dst-gap") and not only(problems, "dst-ambiguous")
    assert [p.local.utcoffset() for p in plan_of(root).posts] == [timedelta(hours=-6), timedelta(hours=-6)]
    assert [p.day for p in only(problems, "tomorrow-missing")] == []  # 02:30 on the 5th is tomorrow's post
    assert local_time_problem(datetime(2021, 4, 4, 2, 30), MEXICO) == "gap"  # as it was, before 2022


# -- the routine's dashboards use the calendar --------------------------------------------------------------


def view(root: Path, routine: str) -> dict:
    ran = run(routine, "--workspace", str(root), "--offline", "--json")
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)["projects"][0]


def test_close_shows_csv_posts_and_flags_a_ready_post_with_missing_media(tmp_path: Path):
    root = make(tmp_path / "ws", post("2026-11-25T09:00:00", "from toml", extra='media = ["media/nope.jpg"]'), calendar_lines='file = "calendar.csv"')
    (root / "calendar.csv").write_text("fecha;red;texto;estado\n25/11/2026 12:00;mastodon;desde la hoja;listo\n", encoding="utf-8-sig")
    with time_machine.travel(NOW, tick=False):
        close = view(root, "close")
    assert [(p["text"], p["problem"]) for p in close["tomorrow"]] == [("from toml", "media-missing"), ("desde la hoja", "")]
    assert close["tomorrow_missing"] == []


def test_morning_shows_posts_published_by_cmday_as_published(tmp_path: Path, cmday_home: Path):
    root = make(tmp_path / "ws", post("2026-11-24T10:00:00", "gone out"))
    key = plan_of(root).posts[0].key
    store = Store(cmday_home / "state.sqlite3")
    store.claim_publication("acme", key, NOW)
    store.finish_publication("acme", key, "published", NOW, "1", "https://m.example/1")
    store.close()
    with time_machine.travel(NOW, tick=False):
        morning = view(root, "morning")
    assert [(p["status"], p["problem"]) for p in morning["today"]] == [("published", "")]


def test_the_close_checklist_counts_min_per_day_and_gaps(tmp_path: Path):
    root = make(tmp_path / "ws", post("2026-11-25T09:00:00"), calendar_lines="min_per_day = 2\nhorizon_days = 3")
    with time_machine.travel(NOW, tick=False):
        close = view(root, "close")
    assert close["tomorrow_missing"] == ["mastodon"]
    details = [e["detail"] for e in close["checklist"] if e["status"] == "failing"]
    assert "not ready: mastodon" in details
    assert "2 of the next 3 days have nothing planned" in details


def test_links_in_text_end_before_trailing_punctuation(tmp_path: Path):
    posts = post("2026-11-27T09:00:00", "Mira https://acme.example/?utm_source=mastodon&utm_medium=social&utm_campaign=launch.")
    plan = plan_of(make(tmp_path / "ws", posts))
    assert codes(check_plan(plan, NOW), plan.posts[0].key) == []
    assert links_to_check(plan, NOW) == ["https://acme.example/?utm_source=mastodon&utm_medium=social&utm_campaign=launch"]


def test_zero_means_no_daily_limit_and_no_gap(tmp_path: Path):
    posts = "".join(post(f"2026-11-26T09:0{minute}:00", f"thread {minute}") for minute in range(5))
    problems = check_plan(plan_of(make(tmp_path / "ws", posts, calendar_lines="max_per_day = 0\nmin_gap_minutes = 0")), NOW)
    assert not only(problems, "too-many") and not only(problems, "too-close")
