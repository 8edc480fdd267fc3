"""The platform registry: each platform declared once, and what it can do read off its adapter."""

from __future__ import annotations

import typing

import pytest

from cmday.sources import (
    PLATFORMS,
    AddressesReplies,
    Measures,
    Publishes,
    Replies,
    StatesLimit,
    Threads,
    Verifies,
    adapter_class,
    can,
    source_model,
    text_rules,
)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_registry_line_names_an_adapter_and_the_source_model_of_that_platform(platform):
    assert adapter_class(platform).__name__.endswith("Adapter")
    declared = typing.get_type_hints(source_model(platform))["platform"]
    assert typing.get_args(declared) == (platform,)


def test_what_each_platform_can_do_is_read_off_its_adapter():
    assert can("mastodon", Publishes) and can("bluesky", Publishes) and can("demo", Publishes)
    assert not can("email", Publishes) and not can("instagram", Publishes) and not can("rss", Publishes)
    assert all(can(p, Replies) for p in ("mastodon", "bluesky", "email", "instagram", "facebook", "demo"))
    assert not can("rss", Replies) and not can("file", Replies)
    assert can("mastodon", StatesLimit) and not can("email", StatesLimit)  # mail has no length limit to ask for
    assert can("mastodon", AddressesReplies) and not can("email", AddressesReplies)
    assert can("mastodon", Measures) and can("bluesky", Measures) and not can("email", Measures)
    assert can("mastodon", Threads) and can("bluesky", Threads) and not can("rss", Threads)
    assert can("email", Verifies) and not can("file", Verifies)
    assert not can("myspace", Replies)  # a platform cmday does not know can do nothing


def test_text_rules_count_as_the_platform_does():
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467"  # one grapheme, five code points
    assert text_rules("bluesky").length(family) == 1
    assert text_rules("mastodon").length(family) == 5
    assert text_rules("linkedin").length(family) == 5  # planned by hand: characters
    assert text_rules("mastodon").length("see https://example.com/" + "x" * 100) == 4 + 23
    assert text_rules("bluesky").overrun(family * 200) == (3600, 3000, "bytes")
    assert text_rules("bluesky").overrun("a" * 301) == (301, 300, "graphemes")
    assert text_rules("mastodon").overrun("a" * 600, limit=1000) is None  # the instance's own limit


def test_the_project_file_takes_a_source_of_every_registered_platform_and_no_other():
    from cmday.models import Source

    union, _discriminator = typing.get_args(Source)
    assert set(typing.get_args(union)) == {source_model(p) for p in PLATFORMS}


def test_loading_the_project_models_loads_no_adapter_and_no_network_code():
    # Every command reads the project files: their models (each platform's settings.py) must stay light, or
    # `cmday check --offline` pays for httpx, asyncio and feed parsing it never uses.
    import subprocess
    import sys

    code = "import sys, cmday.models; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert {"cmday.sources.mastodon.settings", "cmday.sources.email.settings", "cmday.sources.graph.settings"} <= loaded
    heavy = {"httpx", "asyncio", "feedparser", "anyio", "imaplib", "smtplib", "cmday.sources.base", "cmday.http"}
    assert not loaded & heavy
    assert not [name for name in loaded if name.startswith("cmday.sources.") and not name.endswith(".settings")
                and name.count(".") > 2], "an adapter module came with the models"
