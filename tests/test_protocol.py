"""The response protocol: parsing errors, triage in both languages, crisis spikes, conduct checks, escalation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmday.conduct import lint
from cmday.errors import ConfigError, ExitCode
from cmday.mention import Mention
from cmday.models import Project
from cmday.protocol import load_protocol
from cmday.store import Store
from cmday.triage import Triage, detect_crisis, detect_language
from tests.cli_runner import run
from tests.support.platform_server import Reply
from tests.support.workspaces import use_protocol

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def protocol():
    return load_protocol()


def project(**knowledge) -> Project:
    return Project.model_validate({"project": {"name": "Acme", "slug": "acme"}, "knowledge": knowledge, "listen": {"urgent": ["refund"]}})


@pytest.mark.parametrize(
    "text,category",
    [
        ("Me he INTOXICADO con vuestro sándwich", "crisis"),
        ("creo que estoy intoxicada, fatal", "crisis"),
        ("intoxicacion tras comer alli", "crisis"),  # written without the accent of 'intoxicación'
        ("Estamos intoxicades les tres", "crisis"),  # inclusive form
        ("Got FOOD POISONING after lunch", "crisis"),
        ("El café llegó frío, qué decepción, nunca más", "complaint"),
        ("Worst service ever, I want a refund", "complaint"),
        ("mi pedido no llega y nadie contesta", "complaint"),  # a late order, said as people say it
        ("¿Dónde está mi pedido? Lo pedí el lunes", "complaint"),  # asked, but a complaint before a question
        ("My order hasn't arrived, thanks for nothing", "complaint"),  # not praise for its 'thanks'
        ("Llámame cuando puedas, quiero encargar una tarta", "request"),  # tú as well as ustedes
        ("¿A qué hora abrís el domingo?", "question"),
        ("what time do you open on sunday", "question"),
        ("¡Me encanta vuestro flat white, gracias!", "praise"),
        ("Free followers! click here", "spam"),
        ("Estuve en Acme ayer", "mention"),
    ],
)
def test_triage_recognises_both_languages_ignoring_accents_and_case(protocol, text, category):
    mention = Triage.for_project(project(), protocol).apply(Mention("mastodon", "1", "mention", text, NOW))
    assert mention.category == category
    assert mention.sla_due == NOW + timedelta(minutes=protocol.category(category).rule.sla_minutes)


def test_urgent_words_of_the_project_make_a_mention_urgent(protocol):
    mention = Triage.for_project(project(), protocol).apply(Mention("m", "1", "mention", "Could I get a refund?", NOW))
    assert mention.urgent and mention.matched


def test_language_is_detected_or_left_unknown():
    assert detect_language("Hola, el pedido no ha llegado y no me contestan") == "es"
    assert detect_language("Hi, the order has not arrived and nobody answers") == "en"
    assert detect_language("ok 👍") is None


def stored(store: Store, texts_minutes: list[tuple[str, int]], protocol) -> None:
    triage = Triage.for_project(project(), protocol)
    mentions = [triage.apply(Mention("mastodon", str(i), "mention", text, NOW - timedelta(minutes=m))) for i, (text, m) in enumerate(texts_minutes)]
    store.save_batch("acme", "m", "mastodon", mentions, None, NOW)


def test_a_spike_of_complaints_inside_the_window_is_a_crisis(tmp_path: Path, protocol):
    store = Store(tmp_path / "s.sqlite3")
    stored(store, [("terrible service, never again", m) for m in (5, 20, 40, 60)], protocol)
    recent = store.mentions("acme", states=None)
    assert detect_crisis(protocol, recent, recent, NOW) is None
    store.save_batch(
        "acme", "m", "mastodon",
        [Triage.for_project(project(), protocol).apply(Mention("mastodon", "late", "mention", "awful, unacceptable", NOW - timedelta(minutes=90)))],
        None, NOW,
    )
    recent = store.mentions("acme", states=None)
    crisis = detect_crisis(protocol, recent, recent, NOW)
    assert crisis is not None and crisis.reason == "spike" and len(crisis.mentions) == 5
    assert detect_crisis(protocol, recent, recent, NOW + timedelta(minutes=60)) is None  # the window moved on


def test_project_protocol_errors_name_file_and_field(workspace: Path):
    use_protocol(workspace, '[categories.complaint]\nsla_minute = 30\n')
    ran = run("check", "--workspace", str(workspace), "--offline")
    assert ran.exit_code == ExitCode.CONFIG
    assert "protocols/acme.toml: categories.complaint.sla_minute: unknown key 'sla_minute'; did you mean 'sla_minutes'?" in ran.stderr


def test_bad_regular_expression_is_reported(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('[categories.crisis]\npatterns = ["(unclosed"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"categories.crisis.patterns: pattern '\(unclosed' is not a valid regular expression"):
        load_protocol(path, tmp_path)


def test_conduct_checks(protocol):
    acme = project(taboo_topics=["política"])
    findings = {f.rule for f in lint("Gracias!!! pero hablemos de POLITICA", protocol=protocol, project=acme, language="es", category="praise")}
    assert {"taboo", "calm"} <= findings
    assert "thank" not in findings
    no_thanks = {f.rule for f in lint("Nice one", protocol=protocol, project=acme, language="en", category="praise")}
    assert "thank" in no_thanks
    personal = lint("My wife loved it too", protocol=protocol, project=acme, language="en")
    assert personal[0].rule == "personal" and personal[0].severity == "error"
    too_long = lint("é" * 299 + "👩‍👩‍👧‍👦🇪🇸", protocol=protocol, project=acme, language="en", platform="bluesky")
    assert [f.rule for f in too_long] == ["length"]  # 301 graphemes, though many more code points
    fits = lint("é" * 299 + "👩‍👩‍👧‍👦", protocol=protocol, project=acme, language="en", platform="bluesky")
    assert fits == []


def test_a_bluesky_draft_over_its_3000_bytes_fails_though_it_has_300_graphemes(protocol):
    family = "👨‍👩‍👧"  # one grapheme, 18 bytes of UTF-8: Bluesky refuses a post over 3000 bytes, whatever its graphemes
    [too_big] = lint(family * 200, protocol=protocol, project=project(), language="en", platform="bluesky")
    assert too_big.rule == "length" and too_big.message == "Too long for bluesky: 3600 bytes of 3000 bytes."
    assert lint(family * 166, protocol=protocol, project=project(), language="en", platform="bluesky") == []  # 2988 bytes


def test_a_mastodon_draft_counts_each_link_as_23_characters_as_mastodon_does(protocol):
    text = "a" * 470 + " https://www.example.com/" + "long-path/" * 20  # 695 characters, 494 as Mastodon counts them
    assert lint(text, protocol=protocol, project=project(), language="en", platform="mastodon") == []
    [too_long] = lint("a" * 480 + text[470:], protocol=protocol, project=project(), language="en", platform="mastodon")
    assert too_long.message == "Too long for mastodon: 504 of 500."


def test_lint_command_exit_code_and_json(workspace: Path):
    ran = run("lint", "I personally think my vote matters", "--workspace", str(workspace), "--json")
    assert ran.exit_code == ExitCode.ATTENTION
    assert json.loads(ran.stdout)["findings"][0]["rule"] == "personal"
    assert run("lint", "A calm and useful post", "--workspace", str(workspace)).exit_code == 0


def test_triage_explain_says_which_rule_matched():
    run("morning", "--demo")
    mentions = json.loads(run("inbox", "--demo", "--json").stdout)["mentions"]
    crisis = next(m for m in mentions if m["category"] == "crisis")
    ran = run("triage", "--demo", "--explain", str(crisis["id"]), "--json")
    explanation = json.loads(ran.stdout)["explanation"]
    assert explanation["category"] == "crisis" and explanation["rule"] == "word" and explanation["matched"]


def test_retriage_after_a_protocol_edit_changes_open_mentions_only(workspace: Path, cmday_home: Path, protocol):
    store = Store(cmday_home / "state.sqlite3")
    triage = Triage.for_project(project(), protocol)
    mentions = [triage.apply(Mention("m", str(i), "mention", "the churros were soggy", NOW)) for i in range(2)]
    store.save_batch("acme", "m", "mastodon", mentions, None, NOW)
    answered = store.mentions("acme")[0]
    store.set_state(answered.id, "answered", NOW)
    store.close()
    use_protocol(workspace, '[categories.complaint]\nwords = ["soggy"]\n')
    ran = run("triage", "--workspace", str(workspace), "--json")
    assert json.loads(ran.stdout)["reclassified"] == {"acme": 1}
    store = Store(cmday_home / "state.sqlite3")
    by_state = {m.state: m.category for m in store.mentions("acme", states=None)}
    assert by_state == {"open": "complaint", "answered": "mention"}


def test_escalation_by_email_writes_a_ready_to_send_message(cmday_home: Path):
    import email
    import email.policy

    run("morning", "--demo")
    crisis = next(m for m in json.loads(run("inbox", "--demo", "--json").stdout)["mentions"] if m["category"] == "crisis")
    ran = run("escalate", str(crisis["id"]), "--to", "client", "--note", "call them", "--demo", "--json")
    result = json.loads(ran.stdout)
    assert result["channel"] == "email" and result["delivered"]
    message = email.message_from_bytes(Path(result["detail"]).read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "marta.ruiz@cafearoma.example"
    assert message["X-Unsent"] == "1"
    body = message.get_content()
    assert "call them" in body and body.count("https://demo.cmday.invalid/") >= 2  # the whole crisis, with links
    state = json.loads(run("inbox", "--demo", "--json", "--state", "escalated").stdout)["mentions"]
    assert crisis["id"] in [m["id"] for m in state]


def test_escalation_by_webhook_posts_escaped_text(workspace: Path, cmday_home: Path, platform_server, monkeypatch, protocol):
    platform_server.route("POST", "/hooks/abc", Reply(200, "ok"))
    monkeypatch.setenv("ACME_SLACK", platform_server.url + "/hooks/abc")
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "ACME_SLACK"\n')
    store = Store(cmday_home / "state.sqlite3")
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "<!channel> terrible", NOW)], None, NOW)
    mention_id = store.mentions("acme")[0].id
    store.close()
    ran = run("escalate", str(mention_id), "--to", "team", "--workspace", str(workspace))
    assert ran.exit_code == 0, ran.stderr
    posted = platform_server.requests_to("/hooks/abc")[0].json()["text"]
    assert "&lt;!channel&gt; terrible" in posted and "<!channel>" not in posted


def test_escalation_webhook_variable_missing_is_a_clear_error(workspace: Path, cmday_home: Path):
    use_protocol(workspace, '[escalation.contacts.team]\nwebhook_env = "NOT_SET_HOOK"\n')
    store = Store(cmday_home / "state.sqlite3")
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "hi", NOW)], None, NOW)
    mention_id = store.mentions("acme")[0].id
    store.close()
    ran = run("escalate", str(mention_id), "--to", "team", "--workspace", str(workspace))
    assert ran.exit_code == ExitCode.USAGE and "$NOT_SET_HOOK" in ran.stderr


def test_a_pattern_that_backtracks_without_end_never_stalls_the_sweep(workspace: Path, cmday_home: Path):
    use_protocol(workspace, '[categories.complaint]\npatterns = [\'(a|aa)+$\', \'\\bcold (coffee|latte)\\b\']\n')
    rows = "".join(f"2026-11-21 10:{n:02d},{'a' * 40}!\n" for n in range(40)) + "2026-11-21 11:00,my cold coffee again\n"
    (workspace / "comments.csv").write_text("date,text\n" + rows, encoding="utf-8")
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8") + '\n[[sources]]\nid = "comments"\nplatform = "file"\npath = "comments.csv"\n',
        encoding="utf-8",
    )
    started = datetime.now(UTC)

    ran = run("fetch", "--workspace", str(workspace), "--json")

    assert ran.exit_code == 0, ran.stderr
    assert (datetime.now(UTC) - started).total_seconds() < 20  # `re` would take hours on these 40 mentions
    fetched = json.loads(ran.stdout)
    assert len(fetched["mentions"]) == 41
    [source] = fetched["sources"]
    [note] = [n for n in source["notes"] if "protocol pattern" in n]
    assert "protocols/acme.toml: categories.complaint.patterns: '(a|aa)+$'" in note
    cold = next(m for m in fetched["mentions"] if "cold coffee" in m["text"])
    assert cold["category"] == "complaint"  # the other pattern still works


def test_a_slow_pattern_is_given_up_on_and_the_others_still_match():
    from cmday.protocol import PhraseMatcher

    matcher = PhraseMatcher([], ["(a|aa)+$", "refund"])

    assert matcher.search("a" * 40 + "! refund please") == "refund"
    assert matcher.timed_out == ["(a|aa)+$"]
    assert matcher.search("a" * 40 + "!") is None and matcher.timed_out == ["(a|aa)+$"]  # not tried again


def test_re_classifying_says_which_pattern_ran_out_of_time(workspace: Path, cmday_home: Path):
    store = Store(cmday_home / "state.sqlite3")
    store.save_batch("acme", "m", "mastodon", [Mention("mastodon", "1", "mention", "a" * 40 + "!", datetime.now(UTC))], None, datetime.now(UTC))
    store.close()
    use_protocol(workspace, "[categories.complaint]\npatterns = ['(a|aa)+$']\n")

    ran = run("triage", "--workspace", str(workspace))

    assert ran.exit_code == 0
    assert "categories.complaint.patterns: '(a|aa)+$'" in " ".join(ran.stderr.split())
