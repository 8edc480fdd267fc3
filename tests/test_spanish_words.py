"""The Spanish a CM in Madrid or Bogotá reads: tú or impersonal forms, and one word for each moment of the day."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.cli_runner import run

REPO = Path(__file__).resolve().parents[1]
SPANISH_PO = REPO / "src" / "cmday" / "locale" / "es" / "LC_MESSAGES" / "cmday.po"
SHIPPED_SPANISH = sorted(
    [*REPO.glob("protocols/*.es.toml"), *REPO.glob("checklists/*.es.toml"), *REPO.glob("src/cmday/templates/*.es.toml")]
)

# vosotros is Spain's alone: "acordad", "podéis", "vuestro", "os" read as foreign in Bogotá
VOSOTROS = re.compile(r"\b(vosotr[oa]s|vuestr[oa]s?|os|\w+[áé]is)\b", re.IGNORECASE)
IMPERATIVE = re.compile(r"\b\w+(?:ad|ed|id)\b", re.IGNORECASE)  # acordad, tened, decid
NOT_IMPERATIVES = {"madrid", "red", "pared", "usted", "sed", "salud", "verdad", "id", "uid", "nsid", "feed", "wed"}
NOUN_ENDINGS = ("idad", "edad", "udad", "itad", "ltad", "ntad")  # comunidad, antigüedad, mitad, dificultad


def vosotros_forms(text: str, english: str = "") -> list[str]:
    found = [m.group(0) for m in VOSOTROS.finditer(text)]
    for match in IMPERATIVE.finditer(text):
        word = match.group(0)
        lower = word.lower()
        if lower in NOT_IMPERATIVES or lower.endswith(NOUN_ENDINGS) or word in english:
            continue  # nouns (comunidad, mitad) and keys shown as they are (`answered`)
        found.append(word)
    return found


def test_the_check_finds_vosotros() -> None:
    assert vosotros_forms("avisa al equipo y acordad la respuesta") == ["acordad"]
    assert vosotros_forms("¿Podéis escribirnos? Os llamamos") == ["Podéis", "Os"]
    assert vosotros_forms("la comunidad, la mitad, en Madrid; estado `answered`", "state `answered`") == []


def test_the_catalogue_speaks_tu_or_impersonal() -> None:
    with SPANISH_PO.open("rb") as po_file:
        catalog = read_po(po_file, locale="es", domain="cmday")
    found = []
    for entry in catalog:
        if not entry.id:
            continue
        english = " ".join(entry.id) if isinstance(entry.id, tuple) else entry.id
        for text in entry.string if isinstance(entry.string, tuple) else [entry.string]:
            if vosotros_forms(text, english):
                found.append(f"{english!r} -> {text!r}: {vosotros_forms(text, english)}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", SHIPPED_SPANISH, ids=lambda p: p.name)
def test_shipped_spanish_files_speak_tu_or_impersonal(path: Path) -> None:
    # Only what cmday writes: `words` lists are what people write to the brand, in any form;
    # keys and values the English file has too (`auto = "horizon_covered"`) are not Spanish.
    english = path.with_name(path.name.replace(".es.", ".en.")).read_text(encoding="utf-8")
    ours = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith('"')]
    found = [(number, vosotros_forms(line, english)) for number, line in enumerate(ours, 1)]
    assert not [f for f in found if f[1]], found


@pytest.mark.parametrize(
    ("routine", "title", "checklist"),
    [
        ("morning", "  ·  inicio del día  ·  ", "Checklist de inicio del día"),
        ("check", "  ·  revisión  ·  ", "Checklist de revisión"),
        ("close", "  ·  cierre  ·  ", "Checklist de cierre"),
    ],
)
def test_each_moment_has_one_name_in_titles_and_checklists(routine: str, title: str, checklist: str) -> None:
    shown = run(routine, "--demo", "--lang", "es")
    assert title in shown.stdout
    assert checklist in shown.stdout
    assert "mañana  ·" not in shown.stdout  # "mañana" is tomorrow: never the morning routine's name
    assert checklist in run("checklist", routine, "--demo", "--lang", "es").stdout


def test_help_names_the_moments_as_the_dashboards_do() -> None:
    assert "Inicio del día:" in run("morning", "--help", "--lang", "es").stdout
    assert "Revisión cada pocas horas:" in run("check", "--help", "--lang", "es").stdout
    assert "Cierre del día:" in run("close", "--help", "--lang", "es").stdout


def test_the_crisis_banner_says_to_drop_everything_else() -> None:
    shown = run("morning", "--demo", "--lang", "es")
    assert "Deja todo lo demás: míralo en una pantalla grande" in shown.stdout
    assert "Para todo lo demás" not in shown.stdout


def test_new_mentions_agree_in_the_feminine() -> None:
    run("morning", "--demo")
    assert "Nuevas desde " in run("check", "--demo", "--lang", "es").stdout
