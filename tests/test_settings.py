"""A settings file's record answers as its pydantic model does: the same values, methods, fields set and copies."""

from __future__ import annotations

import pickle
import tomllib

from cmday.models import Project
from cmday.settings import Record, freeze

PROJECT = """
[project]
name = "Acme"
slug = "acme"

[calendar]
min_per_day = { mastodon = 2 }

[[sources]]
id = "masto"
platform = "mastodon"
instance = "https://mastodon.example"

[[sources]]
id = "mail"
platform = "email"
host = "imap.acme.example"
username = "info@acme.example"

[[posts]]
at = 2026-12-03T18:00:00
source = "masto"
text = "Hello"
"""


def test_a_record_answers_as_its_model():
    model = Project.model_validate(tomllib.loads(PROJECT))
    record = freeze(model)
    assert isinstance(record, Record) and record == model and model == record
    assert (record.slug, record.name) == (model.slug, model.name) == ("acme", "Acme")
    assert record.source("mail").username == "info@acme.example" and record.source("nope") is None
    assert record.post_platform(record.posts[0]) == model.post_platform(model.posts[0]) == "mastodon"
    assert record.publishing_platforms() == model.publishing_platforms() == ["mastodon"]
    assert record.calendar.per_platform("min_per_day", "mastodon") == 2
    assert record.calendar.per_platform("min_per_day", "bluesky") == 1  # the default for a platform not named
    assert record.calendar.model_fields_set == model.calendar.model_fields_set == {"min_per_day"}


def test_a_records_copy_changes_only_the_copy_and_counts_its_fields_as_set():
    record = freeze(Project.model_validate(tomllib.loads(PROJECT)))
    post = record.posts[0]
    moved = post.model_copy(update={"platform": "bluesky"})
    assert (moved.platform, post.platform) == ("bluesky", None)
    assert "platform" in moved.model_fields_set and "platform" not in post.model_fields_set
    assert moved != post and moved.text == post.text


def test_a_record_pickles_to_an_equal_record():
    record = freeze(Project.model_validate(tomllib.loads(PROJECT)))
    again = pickle.loads(pickle.dumps(record))
    assert again == record and again.publishing_platforms() == ["mastodon"]
    assert "Project(" in repr(again) and "Acme" in repr(again)
