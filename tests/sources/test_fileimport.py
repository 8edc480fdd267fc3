"""The file import adapter: Excel CSV dialects and encodings, JSON Lines, bad rows, cursors, re-imports."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmday.errors import SourceError
from cmday.models import Project, ProjectInfo, WorkspaceConfig
from cmday.protocol import load_protocol
from cmday.sources.base import Batch, FetchContext
from cmday.sources.fileimport.adapter import FileAdapter, parse_date, parse_import
from cmday.sources.fileimport.settings import FileSource
from cmday.store import Store
from cmday.sync import fetch_project
from cmday.workspace import Workspace

NOW = datetime(2024, 5, 6, 8, 30, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")

# As Excel in a Spanish locale saves "CSV UTF-8": BOM, semicolons, day-first dates, quoted newlines.
SPANISH_EXCEL = (
    "\ufeffFecha;Usuario;Nombre;Comentario;Red social;Tipo;Enlace\r\n"
    "03/05/2024 21:15;marta_runs;Marta;Pedí un café para llevar y llegó frío;Instagram;comentario;https://instagram.com/p/1\r\n"
    '04/05/2024 09:02;ana.g.mad;Ana G.;"¿Tenéis opciones sin gluten; y sin lactosa?\r\nGracias";Instagram;mensaje;\r\n'
    "05/05/2024;jon;;Respondo a vuestra historia;Facebook;respuesta;\r\n"
).encode("utf-8")

COMMA_CSV = (
    "id,date,author,author_name,text,url,kind,network,language\n"
    "c-1,2024-05-03T19:15:00Z,@lucia,Lucía,Best flat white in town!,https://example.com/c/1,comment,,en\n"
    "c-2,2024-05-04T09:00:00+02:00,@sam,Sam,Do you have oat milk?,,dm,mastodon,\n"
    "c-3,2024-05-04 10:30,@dani,Dani,The card machine is broken again,,reply,,\n"
).encode()


def run_adapter(workspace: Path, path: str, cursor: str | None = None, network: str = "") -> list[Batch]:
    async def collect() -> list[Batch]:
        context = FetchContext(
            http=None, secret=lambda name: None, workspace_root=workspace, now=NOW, project_slug="acme", state={}
        )
        source = FileSource(id="comments", platform="file", path=path, network=network)
        return [batch async for batch in FileAdapter(source, context).fetch(cursor)]

    return asyncio.run(collect())


def test_semicolon_csv_with_bom_and_spanish_headers(tmp_path):
    result = parse_import(SPANISH_EXCEL, "export.csv", tz=MADRID, now=NOW)

    assert result.skipped_lines == [] and not result.encoding_fallback
    first, second, third = result.mentions
    assert (first.platform, first.kind) == ("instagram", "import")
    assert (first.author_handle, first.author_name) == ("marta_runs", "Marta")
    assert first.text == "Pedí un café para llevar y llegó frío"
    assert first.created_at == datetime(2024, 5, 3, 19, 15, tzinfo=UTC)  # 21:15 in Madrid, summer time
    assert first.url == "https://instagram.com/p/1"
    assert first.raw == {
        "Fecha": "03/05/2024 21:15", "Usuario": "marta_runs", "Nombre": "Marta",
        "Comentario": "Pedí un café para llevar y llegó frío", "Red social": "Instagram",
        "Tipo": "comentario", "Enlace": "https://instagram.com/p/1",
    }  # fmt: skip
    assert second.kind == "dm"
    assert second.text == "¿Tenéis opciones sin gluten; y sin lactosa?\r\nGracias"
    assert (third.platform, third.kind, third.author_name) == ("facebook", "reply", "jon")
    assert third.created_at == datetime(2024, 5, 4, 22, 0, tzinfo=UTC)  # a date alone is local midnight


def test_comma_csv_with_ids_iso_dates_and_the_source_network(tmp_path):
    (tmp_path / "comments.csv").write_bytes(COMMA_CSV)

    [batch] = run_adapter(tmp_path, "comments.csv", network="Instagram")

    lucia, sam, dani = batch.mentions
    assert [m.platform_id for m in batch.mentions] == ["instagram:c-1", "mastodon:c-2", "instagram:c-3"]
    assert [m.kind for m in batch.mentions] == ["import", "dm", "reply"]
    assert lucia.created_at == datetime(2024, 5, 3, 19, 15, tzinfo=UTC)
    assert sam.created_at == datetime(2024, 5, 4, 7, 0, tzinfo=UTC)
    assert dani.created_at == datetime(2024, 5, 4, 10, 30, tzinfo=UTC)  # naive, and no zone given: UTC
    assert lucia.language == "en" and sam.language is None
    assert batch.counts == {}
    assert set(json.loads(batch.cursor)) == {"size", "mtime_ns", "sha256"}


def test_the_project_zone_in_the_fetch_context_applies_to_naive_times(tmp_path):
    (tmp_path / "comments.csv").write_bytes(COMMA_CSV)

    async def collect() -> list[Batch]:
        context = FetchContext(None, lambda n: None, tmp_path, NOW, "acme", zone=MADRID)
        source = FileSource(id="comments", platform="file", path="comments.csv")
        return [b async for b in FileAdapter(source, context).fetch(None)]

    [batch] = asyncio.run(collect())
    assert batch.mentions[2].created_at == datetime(2024, 5, 4, 8, 30, tzinfo=UTC)


def test_excel_sep_line_tabs_and_a_one_column_file():
    hinted = parse_import(b'sep=,\r\n"a;b;c",texto,fecha\r\n"1;2;3",hola,01/02/2024\r\n', "a.csv")
    assert [(m.text, m.created_at.month, m.raw["a;b;c"]) for m in hinted.mentions] == [("hola", 2, "1;2;3")]
    tabbed = parse_import("Texto\tAutor\nqué tal\t@pepe\n".encode("utf-16"), "Unicode text.txt")
    assert [(m.text, m.author_handle) for m in tabbed.mentions] == [("qué tal", "@pepe")]
    single = parse_import(b"text\nonly a comment\n", "a.csv", network="tiktok", now=NOW)
    assert [(m.text, m.platform, m.created_at) for m in single.mentions] == [("only a comment", "tiktok", NOW)]


def test_windows_1252_is_read_with_a_warning():
    data = "fecha;autor;texto\n01/05/2024 10:00;pepa;¡Qué café más rico! “Perfecto” – gracias\n".encode("cp1252")

    result = parse_import(data, "viejo.csv")

    assert result.encoding_fallback
    assert result.counts() == {"encoding_fallback": 1}
    assert result.mentions[0].text == "¡Qué café más rico! “Perfecto” – gracias"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-03T19:15:00Z", datetime(2024, 5, 3, 19, 15, tzinfo=UTC)),
        ("2024-05-03T21:15:00+02:00", datetime(2024, 5, 3, 19, 15, tzinfo=UTC)),
        ("2024-05-03 21:15", datetime(2024, 5, 3, 19, 15, tzinfo=UTC)),
        ("2024-05-03", datetime(2024, 5, 2, 22, 0, tzinfo=UTC)),
        ("03/05/2024 21:15", datetime(2024, 5, 3, 19, 15, tzinfo=UTC)),
        ("3/5/2024 21:15:30", datetime(2024, 5, 3, 19, 15, 30, tzinfo=UTC)),
        ("03-05-2024", datetime(2024, 5, 2, 22, 0, tzinfo=UTC)),
        ("25/12/2023 08:00", datetime(2023, 12, 25, 7, 0, tzinfo=UTC)),  # winter time
        (1714763700, datetime(2024, 5, 3, 19, 15, tzinfo=UTC)),
        (1714763700000, datetime(2024, 5, 3, 19, 15, tzinfo=UTC)),
        ("31/02/2024", None),
        ("13/13/2024", None),
        ("ayer", None),
        ("0001-01-01T00:00:00+01:00", None),
        ("1850-01-01", None),
        (10**30, None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value, MADRID) == expected


def test_rows_without_text_or_with_an_unreadable_date_are_skipped_and_counted(tmp_path):
    data = (
        "fecha;autor;texto\n"
        "01/05/2024 10:00;ana;bien\n"
        "\n"
        "01/05/2024 11:00;luis;\n"
        "ayer por la tarde;eva;no sé la fecha\n"
        ";;\n"
        "02/05/2024 12:00;rosa;también bien\n"
    ).encode()
    (tmp_path / "c.csv").write_bytes(data)

    [batch] = run_adapter(tmp_path, "c.csv")

    assert [m.text for m in batch.mentions] == ["bien", "también bien"]
    assert batch.counts == {"rows_skipped": 2}
    assert batch.notes == ["2 rows of c.csv skipped: line 4: no text; line 5: date not readable ('ayer por la tarde')"]


def test_skipped_lines_are_numbered_as_in_the_file():
    data = b'texto;fecha\n"dos\nlineas";01/01/2024\n;01/01/2024\nmal;32/01/2024\n'
    assert parse_import(data, "c.csv").skipped_lines == [4, 5]


def test_an_unclosed_quote_keeps_the_rows_before_it():
    result = parse_import(b'text,author\nfirst,a\n"never closed,b\nthird,c\n', "c.csv")

    assert [m.text for m in result.mentions] == ["first"]
    assert result.skipped_lines == [3]
    quoted_last = parse_import(b'text,author\nfirst,a\n"two\nlines",b\n', "c.csv")
    assert [m.text for m in quoted_last.mentions] == ["first", "two\nlines"]


def test_a_csv_without_a_text_column_says_which_columns_it_has():
    with pytest.raises(SourceError) as caught:
        parse_import(b"Date;Who;Likes\n01/05/2024;ana;3\n", "stats.csv")

    assert "stats.csv has no text column (its columns: Date, Who, Likes)" == caught.value.message
    assert "texto" in caught.value.hint


def test_json_lines_with_a_broken_line(tmp_path):
    lines = [
        json.dumps({"id": 1, "created_at": "2024-05-03T19:15:00Z", "user": "lucia", "message": "Hola\u2028mundo"}),
        '{"id": 2, "text": "cut off',
        "",
        json.dumps(["not", "an", "object"]),
        json.dumps({"Fecha": 1714763700, "Autor": "sam", "Texto": "¿Abrís el domingo?", "Tipo": "DM", "Red": "Bluesky"}),
        json.dumps({"texto": "", "autor": "nadie"}),
    ]
    (tmp_path / "export.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    [batch] = run_adapter(tmp_path, "export.jsonl", network="mastodon")

    lucia, sam = batch.mentions
    assert (lucia.platform_id, lucia.text, lucia.author_handle) == ("mastodon:1", "Hola\u2028mundo", "lucia")
    assert (sam.platform, sam.kind, sam.created_at) == ("bluesky", "dm", datetime(2024, 5, 3, 19, 15, tzinfo=UTC))
    assert sam.raw["Texto"] == "¿Abrís el domingo?"
    assert batch.counts == {"rows_skipped": 3}
    assert parse_import((tmp_path / "export.jsonl").read_bytes(), "export.jsonl").skipped_lines == [2, 4, 6]


def test_a_missing_file_names_the_path_and_what_to_do(tmp_path):
    with pytest.raises(SourceError) as caught:
        run_adapter(tmp_path, "exports/instagram.csv")

    assert caught.value.message == f"import file {tmp_path / 'exports/instagram.csv'} does not exist"
    assert "comments" in caught.value.hint and "path" in caught.value.hint


def test_a_directory_is_not_an_import_file(tmp_path):
    (tmp_path / "exports").mkdir()
    with pytest.raises(SourceError, match="exports is not a file"):
        run_adapter(tmp_path, "exports")


def test_an_absolute_path_is_used_as_it_is(tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes(COMMA_CSV)
    [batch] = run_adapter(tmp_path / "workspace", str(elsewhere))
    assert len(batch.mentions) == 3


def test_an_unchanged_file_is_not_read_again(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_bytes(COMMA_CSV)
    [first] = run_adapter(tmp_path, "comments.csv")

    assert run_adapter(tmp_path, "comments.csv", first.cursor) == []

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    [touched] = run_adapter(tmp_path, "comments.csv", first.cursor)
    assert touched.mentions == [] and touched.cursor != first.cursor
    assert json.loads(touched.cursor)["sha256"] == json.loads(first.cursor)["sha256"]

    path.write_bytes(COMMA_CSV + b"c-4,2024-05-05T10:00:00Z,@eva,Eva,New one,,,,\n")
    [changed] = run_adapter(tmp_path, "comments.csv", touched.cursor)
    assert len(changed.mentions) == 4  # the store drops the three it already has


def test_ids_without_an_id_column_are_stable_and_distinct():
    first = parse_import(SPANISH_EXCEL, "a.csv", tz=MADRID, now=NOW)
    again = parse_import(SPANISH_EXCEL, "b.csv", tz=MADRID, now=datetime(2025, 1, 1, tzinfo=UTC))

    ids = [m.platform_id for m in first.mentions]
    assert ids == [m.platform_id for m in again.mentions]
    assert len(set(ids)) == 3 and all(i.startswith("h:") for i in ids)


def test_large_files_come_in_batches_with_the_cursor_on_the_last(tmp_path):
    rows = "".join(f"{n},2024-05-01T10:00:00Z,user{n},comment number {n}\n" for n in range(1203))
    (tmp_path / "big.csv").write_text("id,date,author,text\n" + rows, encoding="utf-8")

    batches = run_adapter(tmp_path, "big.csv")

    assert [len(b.mentions) for b in batches] == [500, 500, 203]
    assert [b.cursor is None for b in batches] == [True, True, False]


def test_importing_the_same_file_twice_adds_nothing_twice(tmp_path):
    workspace_root = tmp_path / "workspace"
    workspace_root.mkdir()
    export = workspace_root / "instagram.csv"
    export.write_bytes(SPANISH_EXCEL)
    project = Project(
        project=ProjectInfo(name="Café Aroma", slug="acme"),
        sources=[FileSource(id="instagram-export", platform="file", path="instagram.csv", network="instagram")],
    )
    workspace = Workspace(root=workspace_root, config=WorkspaceConfig(), projects={"acme": project})
    store = Store(tmp_path / "s.sqlite3")
    protocol = load_protocol()

    first = fetch_project(store, workspace, project, protocol)
    assert first.errors == [] and first.new == 3

    assert fetch_project(store, workspace, project, protocol).new == 0  # unchanged: not even read
    os.utime(export, ns=(export.stat().st_atime_ns, export.stat().st_mtime_ns + 5_000_000_000))
    export.write_bytes(SPANISH_EXCEL)  # saved again by Excel: same bytes, new mtime
    assert fetch_project(store, workspace, project, protocol).new == 0
    export.write_bytes(SPANISH_EXCEL.replace(b"\r\n05/05/2024;", b"\r\n06/05/2024;"))  # one row's date edited
    edited = fetch_project(store, workspace, project, protocol)
    assert edited.new == 1

    stored = store.mentions("acme", states=None)
    assert len(stored) == 4
    assert {m.source_id for m in stored} == {"instagram-export"}
    assert json.loads(store.raw_payload(stored[0].id))["Usuario"]
    store.close()


def test_a_missing_file_fails_that_source_only(tmp_path):
    project = Project(
        project=ProjectInfo(name="Acme", slug="acme"),
        sources=[FileSource(id="lost", platform="file", path="nowhere.csv")],
    )
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig(), projects={"acme": project})
    store = Store(tmp_path / "s.sqlite3")

    report = fetch_project(store, workspace, project, load_protocol())

    assert report.new == 0
    assert "nowhere.csv does not exist" in report.errors[0].error
    store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["x.csv", "x.jsonl", "x.ndjson", "x.txt", "x"]),
    header=st.sampled_from(["", "text;date;author\n", "texto,fecha,kind,network,id\n", "sep=;\n", '{"text": ']),
    body=st.text(max_size=800),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_text_gives_mentions_or_a_source_error(name, header, body, encoding):
    data = (header + body).encode(encoding, errors="replace")
    try:
        result = parse_import(data, name, tz=MADRID, now=NOW)
    except SourceError:
        return
    for mention in result.mentions:
        assert mention.text and mention.platform_id
        assert mention.created_at.tzinfo is not None
        json.dumps(mention.raw)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=600))
def test_any_bytes_give_mentions_or_a_source_error(data):
    try:
        parse_import(data, "x.csv")
    except SourceError:
        pass


def test_a_cell_over_128_kb_keeps_the_rows_after_it(tmp_path):
    long_message = "¡Qué pasa con mi pedido! " * 8000  # about 200 KB in one cell
    data = f'text,author\nfirst,a\n"{long_message}",b\nthird,c\n'.encode()

    result = parse_import(data, "c.csv")

    assert [m.text[:5] for m in result.mentions] == ["first", "¡Qué ", "third"]
    assert result.skipped == []


def test_skipped_rows_are_said_by_every_fetch_until_the_file_changes(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"fecha;texto\n01/05/2024 10:00;bien\n31/02/2024;mal\n01/05/2024 11:00;\n")

    first = run_adapter(tmp_path, "c.csv")
    expected = "2 rows of c.csv skipped: line 3: date not readable ('31/02/2024'); line 4: no text"
    assert first[-1].notes == [expected]
    again = run_adapter(tmp_path, "c.csv", first[-1].cursor)  # unchanged: not read again, still said
    assert again == [Batch([], None, {}, [expected])]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    touched = run_adapter(tmp_path, "c.csv", first[-1].cursor)  # saved again, same bytes: still said
    assert touched[-1].notes == [expected] and json.loads(touched[-1].cursor)["skipped_count"] == 2

    path.write_bytes(b"fecha;texto\n01/05/2024 10:00;bien\n01/05/2024 11:00;fixed\n")
    fixed = run_adapter(tmp_path, "c.csv", touched[-1].cursor)
    assert fixed[-1].notes == [] and len(fixed[-1].mentions) == 2
    assert run_adapter(tmp_path, "c.csv", fixed[-1].cursor) == []


def test_many_skipped_rows_name_the_first_three_and_count_all(tmp_path):
    rows = "".join(f";{n}\n" for n in range(30))
    (tmp_path / "c.csv").write_text("texto;id\n" + rows, encoding="utf-8")

    [batch] = run_adapter(tmp_path, "c.csv")

    assert batch.notes == ["30 rows of c.csv skipped: line 2: no text; line 3: no text; line 4: no text; …"]
    assert json.loads(batch.cursor)["skipped_count"] == 30 and len(json.loads(batch.cursor)["skipped"]) == 20
