"""UTM links: existing queries and fragments kept, naming rules applied, the project's [utm] table used by `cmday utm`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmday.errors import UsageError
from cmday.models import Utm
from cmday.utm import build_utm, naming_breaks, own_domain, utm_tags
from tests.cli_runner import run

RULES = Utm(domains=["www.Acme.example"], campaigns=["black-friday", "launch"])


def test_tags_go_after_the_existing_query_and_before_the_fragment():
    tagged = build_utm("https://acme.example/shop?ref=nl&q=caf%C3%A9+con+leche&empty=#offers", "mastodon", "black-friday")
    assert tagged.url == (
        "https://acme.example/shop?ref=nl&q=caf%C3%A9+con+leche&empty="
        "&utm_source=mastodon&utm_medium=social&utm_campaign=black-friday#offers"
    )
    assert tagged.changes == []


def test_a_url_without_query_or_path():
    assert build_utm("https://acme.example", "bluesky", "launch").url == (
        "https://acme.example/?utm_source=bluesky&utm_medium=social&utm_campaign=launch"
    )


def test_existing_utm_tags_are_replaced_and_others_kept():
    tagged = build_utm(
        "https://acme.example/p?utm_source=old&id=7&UTM_CAMPAIGN=old&utm_content=hero#top", "mastodon", "launch", medium="email"
    )
    assert tagged.url == "https://acme.example/p?id=7&utm_content=hero&utm_source=mastodon&utm_medium=email&utm_campaign=launch#top"


def test_a_single_page_app_fragment_keeps_its_own_query():
    tagged = build_utm("https://acme.example/app/#/promo?x=1", "mastodon", "launch")
    assert tagged.url == "https://acme.example/app/?utm_source=mastodon&utm_medium=social&utm_campaign=launch#/promo?x=1"


def test_content_and_term_are_encoded_and_follow_the_rules():
    tagged = build_utm("https://acme.example/", "Mastodon", "Black Friday", content="Año Nuevo & más", term="café")
    assert "utm_source=mastodon" in tagged.url and "utm_campaign=black-friday" in tagged.url
    assert "utm_content=a%C3%B1o-nuevo-%26-m%C3%A1s" in tagged.url and "utm_term=caf%C3%A9" in tagged.url
    assert ("utm_campaign", "Black Friday", "black-friday") in tagged.changes
    assert utm_tags(tagged.url)["utm_content"] == "año-nuevo-&-más"


def test_rules_can_be_relaxed():
    loose = Utm(lowercase=False, no_spaces=False)
    assert "utm_campaign=Black%20Friday" in build_utm("https://acme.example/", "x", "Black Friday", rules=loose).url


def test_a_campaign_outside_the_allowed_list_is_refused():
    with pytest.raises(UsageError, match="campaign 'summer' is not among the project's campaigns: black-friday, launch"):
        build_utm("https://acme.example/", "mastodon", "summer", rules=RULES)
    assert "black-friday" in build_utm("https://acme.example/", "mastodon", "Black Friday", rules=RULES).url


@pytest.mark.parametrize("url", ["acme.example/page", "mailto:hola@acme.example", "ftp://acme.example/x", ""])
def test_only_web_addresses(url: str):
    with pytest.raises(UsageError):
        build_utm(url, "mastodon", "launch")


def test_own_domains_include_subdomains_and_ignore_www_and_case():
    assert RULES.domains == ["acme.example"]
    assert own_domain("https://acme.example/x", RULES) and own_domain("https://shop.ACME.example/x", RULES)
    assert own_domain("https://www.acme.example/", RULES)
    assert not own_domain("https://notacme.example/", RULES) and not own_domain("https://acme.example.evil/", RULES)


def test_naming_breaks_say_what_is_wrong():
    said = naming_breaks({"utm_source": "Mastodon", "utm_campaign": "summer sale"}, RULES)
    assert said == [
        "utm_source='Mastodon' has capitals",
        "utm_campaign='summer sale' has spaces",
        "campaign 'summer sale' is not among: black-friday, launch",
    ]


# -- the command -------------------------------------------------------------------------------------------


def test_cmday_utm_without_a_workspace_uses_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    ran = run("utm", "https://acme.example/p?a=1#x", "--source", "mastodon", "--campaign", "Black Friday")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.strip() == "https://acme.example/p?a=1&utm_source=mastodon&utm_medium=social&utm_campaign=black-friday#x"
    assert "'Black Friday' written as 'black-friday'" in ran.stderr


def test_cmday_utm_uses_the_project_utm_table(workspace: Path):
    project = workspace / "projects" / "acme.toml"
    project.write_text(
        project.read_text(encoding="utf-8") + '\n[utm]\ndomains = ["acme.example"]\nmedium = "organic-social"\ncampaigns = ["launch"]\n',
        encoding="utf-8",
    )
    ran = run("utm", "https://acme.example/", "-s", "bluesky", "-c", "launch", "--content", "hero", "--workspace", str(workspace), "--json")
    assert ran.exit_code == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["url"] == "https://acme.example/?utm_source=bluesky&utm_medium=organic-social&utm_campaign=launch&utm_content=hero"
    assert answer["project"] == "acme" and answer["own_domain"] is True
    refused = run("utm", "https://acme.example/", "-s", "bluesky", "-c", "summer", "--workspace", str(workspace))
    assert refused.exit_code == 2
    assert "campaign 'summer' is not among the project's campaigns: launch" in refused.stderr
    assert "Traceback" not in refused.stderr
    other = run("utm", "https://elsewhere.example/", "-s", "bluesky", "-c", "launch", "--workspace", str(workspace))
    assert other.exit_code == 0 and "not to the brand's own domains (acme.example)" in other.stderr
