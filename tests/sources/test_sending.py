"""Replying and publishing through the Mastodon and Bluesky adapters, against a real local HTTP server.

The stored mentions are recorded payloads (tests/fixtures); what the platforms answer to a send is
built from their documentation where no recording exists, and each such case says so. The server
emulates the two never-twice mechanisms: Mastodon's `Idempotency-Key` (the same key answers the
status it first created) and the AT Protocol's record keys (a key already taken is refused).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmday.errors import SourceError, UsageError
from cmday.http import HttpClient
from cmday.models import Project, ProjectInfo, WorkspaceConfig
from cmday.reply import send
from cmday.sending import NotSent
from cmday.sources.base import AnswerLost, AuthenticationFailed, FetchContext, ReplyTarget, Sent
from cmday.sources.bluesky.adapter import BlueskyAdapter
from cmday.sources.bluesky.fetch import read_notifications
from cmday.sources.bluesky.send import record_key
from cmday.sources.bluesky.settings import BlueskySource
from cmday.sources.bluesky.text import facets_for
from cmday.sources.mastodon.adapter import MastodonAdapter
from cmday.sources.mastodon.fetch import mentions_from_notifications
from cmday.sources.mastodon.settings import MastodonSource
from cmday.sources.mastodon.text import addressed
from cmday.store import Store
from cmday.workspace import Workspace
from tests.support.adapters import header, run_adapter
from tests.support.fake_platforms import post_view
from tests.support.platform_server import PlatformServer, Reply, Request

NOW = datetime(2026, 4, 12, 7, 0, tzinfo=UTC)
TOKEN = "s3cr3t-mastodon-token"
PASSWORD = "qwer-tyui-asdf-ghjk"
KEY = "5f0c3a9e6b7d4e21a8c9b0d1e2f3a4b5"  # what reply.new_draft makes: uuid4().hex
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")

STATUSES = "/api/v1/statuses"
# Recorded by Mastodon.py against mastodon.social: public mentions and DMs (see tests/fixtures/SOURCES.md).
NOTIFICATIONS_PAGE = "mastodon/responses/mpy_hist_0959c06c_entity_notification_mastodon_social__00__GET_api_v1_notifications__200.json"
STATUS_FILE = "mastodon/responses/mpy_entity_status_mastodon_social__00__GET_api_v1_statuses_110446223051565765__200.json"
REVOKED_FILE = "mastodon/responses/mpy_pre_4_4_0_test_zzz_revoke__04__POST_api_v1_statuses__401.json"
DOCUMENTED_STATUS = "mastodon/docs_examples/Status__example__block__01.json"

CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
CREATE_RECORD = "/xrpc/com.atproto.repo.createRecord"
GET_RECORD = "/xrpc/com.atproto.repo.getRecord"
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
GET_PROFILE = "/xrpc/app.bsky.actor.getProfile"
RESOLVE_HANDLE = "/xrpc/com.atproto.identity.resolveHandle"
BSKY = "bluesky/responses"
BSKY_NOTIFICATIONS = f"{BSKY}/bskyr_n_notifications__00__GET_xrpc_app_bsky_notification_listNotifications__200.json"
BSKY_SESSION = f"{BSKY}/bskyr_repo_auth_direct__00__POST_xrpc_com_atproto_server_createSession__200.json"
BSKY_REFUSED = f"{BSKY}/bskyr_repo_auth_cache__00__POST_xrpc_com_atproto_server_createSession__401.json"
BSKY_TOO_LONG = f"{BSKY}/bskyr_r_post_errors__00__POST_xrpc_com_atproto_repo_createRecord__400.json"
BSKY_GET_POSTS = f"{BSKY}/bskyr_f_getposts__00__GET_xrpc_app_bsky_feed_getPosts__200.json"
SESSION_DID = "did:plc:5c2r73erhng4bszmxlfdtscf"  # the recorded session's account (bskyr.bsky.social)
REPLY_TO_A_REPLY = "at://did:plc:lprqqpoyjspuma25n5gofocf/app.bsky.feed.post/3lmicbemya22g"


# --- helpers ---------------------------------------------------------------------------------------


def with_adapter(adapter_type: type, source: Any, secret: str | None, action: Callable[[Any], Any]) -> Any:
    return run_adapter(adapter_type, source, secret, action, NOW)


def mastodon_source(url: str) -> MastodonSource:
    return MastodonSource(id="m", platform="mastodon", instance=url, token_env="CMDAY_TEST_MASTODON_TOKEN")


def on_mastodon(server: PlatformServer, action: Callable[[Any], Any], token: str | None = TOKEN) -> Any:
    return with_adapter(MastodonAdapter, mastodon_source(server.url), token, action)


def bluesky_source(url: str) -> BlueskySource:
    return BlueskySource(id="b", platform="bluesky", service=url, handle="bskyr.bsky.social", password_env="CMDAY_TEST_BSKY")


def on_bluesky(server: PlatformServer, action: Callable[[Any], Any], password: str | None = PASSWORD) -> Any:
    return with_adapter(BlueskyAdapter, bluesky_source(server.url), password, action)


def mastodon_target(notification: dict[str, Any]) -> ReplyTarget:
    [mention], _skipped = mentions_from_notifications([notification], "mastodon.social")
    return ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, json.loads(json.dumps(notification)))


def bluesky_target(notification: dict[str, Any]) -> ReplyTarget:
    [mention] = read_notifications({"notifications": [notification]}, None).mentions
    return ReplyTarget(mention.platform_id, mention.author_handle, mention.kind, json.loads(json.dumps(notification)))


class MastodonStatuses:
    """POST /api/v1/statuses as Mastodon answers it: a status per new Idempotency-Key, the same one for a key seen.

    `fail_first` makes the first request create its status and then fail: a 500, or a connection cut
    in the middle of the answer (Reply.truncate_to), as a proxy or a flaky network would.
    """

    def __init__(self, template: dict[str, Any], fail_first: str | None = None) -> None:
        self.template = template
        self.fail_first = fail_first
        self.created: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        key = header(request, "Idempotency-Key")
        with self.lock:
            if key in self.created:
                return Reply(200, self.created[key])
            status = copy.deepcopy(self.template)
            number = str(116000000000000000 + len(self.posts) + 1)
            status.update(id=number, url=f"https://mastodon.example/@acme/{number}", content=request.json()["status"])
            self.posts.append(request.json())
            if key:
                self.created[key] = status
            failure, self.fail_first = self.fail_first, None
        if failure == "500":
            return Reply(500, {"error": "We're sorry, but something went wrong on our end."})
        if failure == "cut":
            return Reply(200, status, truncate_to=12)
        return Reply(200, status)


class BlueskyRepo:
    """createRecord and getRecord as a PDS answers them: a record key already taken is refused with a 500.

    That 500 is what bsky.social answers today for a createRecord whose rkey exists (bluesky-social/atproto
    issue #3718, indigo #873); `fail_first` makes the first create store the record, then fail.
    """

    def __init__(self, fail_first: str | None = None, duplicate: Reply | None = None) -> None:
        self.fail_first = fail_first
        self.duplicate = duplicate or Reply(500, {"error": "InternalServerError", "message": "Internal Server Error"})
        self.records: dict[str, dict[str, Any]] = {}
        self.creates = 0
        self.lock = threading.Lock()

    def uri(self, repo: str, rkey: str) -> str:
        return f"at://{repo}/app.bsky.feed.post/{rkey}"

    def create(self, request: Request) -> Reply:
        body = request.json()
        with self.lock:
            self.creates += 1
            if body["rkey"] in self.records:
                return self.duplicate
            self.records[body["rkey"]] = body["record"]
            failure, self.fail_first = self.fail_first, None
        answer = {"uri": self.uri(body["repo"], body["rkey"]), "cid": "bafyreid" + body["rkey"]}
        if failure == "500":
            return Reply(500, {"error": "InternalServerError", "message": "Internal Server Error"})
        if failure == "cut":
            return Reply(200, answer, truncate_to=12)
        return Reply(200, answer)

    def get(self, request: Request) -> Reply:
        rkey = request.query["rkey"][0]
        if rkey not in self.records:
            return Reply(400, {"error": "RecordNotFound", "message": f"Could not locate record: {rkey}"})
        return Reply(200, {"uri": self.uri(request.query["repo"][0], rkey), "cid": "bafyreid" + rkey, "value": self.records[rkey]})


@pytest.fixture
def mastodon(platform_server: PlatformServer, load):
    """A Mastodon instance whose statuses endpoint keeps Idempotency-Keys; the template is the documented Status."""
    statuses = MastodonStatuses(load(DOCUMENTED_STATUS))
    platform_server.route("POST", STATUSES, statuses)
    platform_server.statuses = statuses  # type: ignore[attr-defined]
    return platform_server


@pytest.fixture
def notifications(load) -> list[dict[str, Any]]:
    return load(NOTIFICATIONS_PAGE)


@pytest.fixture
def public_mention(notifications) -> dict[str, Any]:
    return next(n for n in notifications if n["type"] == "mention" and (n["status"] or {}).get("visibility") == "public")


@pytest.fixture
def direct_message(notifications) -> dict[str, Any]:
    return next(n for n in notifications if n["type"] == "mention" and (n["status"] or {}).get("visibility") == "direct")


@pytest.fixture
def bluesky(platform_server: PlatformServer, load):
    """A PDS that logs in (the recorded session) and keeps records by key."""
    session = load(BSKY_SESSION)
    platform_server.route("POST", CREATE_SESSION, Reply(200, session | {"accessJwt": "access-1", "refreshJwt": "refresh-1"}))
    repo = BlueskyRepo()
    platform_server.route("POST", CREATE_RECORD, repo.create)
    platform_server.route("GET", GET_RECORD, repo.get)
    # The AppView's getPosts, for the recorded notifications' posts: postViews of the posts that still exist
    posts = {n["uri"]: post_view(n) for n in load(BSKY_NOTIFICATIONS)["notifications"]}
    platform_server.route("GET", GET_POSTS, lambda r: Reply(200, {"posts": [posts[uri] for uri in r.query.get("uris", []) if uri in posts]}))
    platform_server.repo = repo  # type: ignore[attr-defined]
    return platform_server


@pytest.fixture
def bsky_notifications(load) -> list[dict[str, Any]]:
    return load(BSKY_NOTIFICATIONS)["notifications"]


# --- Mastodon: replies -----------------------------------------------------------------------------


def test_a_mastodon_reply_answers_the_status_addressed_to_its_author(mastodon, public_mention):
    target = mastodon_target(public_mention)

    sent = on_mastodon(mastodon, lambda a: a.reply(target, "Thanks for the kind words!", KEY))

    [request] = mastodon.requests_to(STATUSES)
    assert request.method == "POST"
    assert request.json() == {
        "status": "@WAHa_06x36 Thanks for the kind words!",
        "in_reply_to_id": "112927391263168827",
        "visibility": "public",
        "language": "en",
    }
    assert header(request, "Idempotency-Key") == KEY
    assert header(request, "Authorization") == f"Bearer {TOKEN}"
    assert header(request, "Content-Type") == "application/json"
    assert sent == Sent("116000000000000001", "https://mastodon.example/@acme/116000000000000001")


def test_a_dm_is_answered_as_a_dm_and_a_mention_already_written_is_not_repeated(mastodon, direct_message):
    target = mastodon_target(direct_message)
    assert target.kind == "dm" and target.author_handle == "@latencyobs@botsin.space"

    on_mastodon(mastodon, lambda a: a.reply(target, "@latencyobs@botsin.space your invoice is on its way.", KEY))

    [request] = mastodon.requests_to(STATUSES)
    sent = request.json()
    assert sent["visibility"] == "direct"
    assert sent["status"] == "@latencyobs@botsin.space your invoice is on its way."
    assert sent["in_reply_to_id"] == direct_message["status"]["id"]


@pytest.mark.parametrize("visibility", ["unlisted", "private", "direct", "public"])
def test_a_reply_keeps_the_visibility_of_what_it_answers(mastodon, public_mention, visibility):
    public_mention["status"]["visibility"] = visibility

    on_mastodon(mastodon, lambda a: a.reply(mastodon_target(public_mention), "Thanks!", KEY))

    assert mastodon.requests_to(STATUSES)[0].json()["visibility"] == visibility


def test_a_visibility_cmday_does_not_know_is_answered_followers_only(mastodon, public_mention):
    public_mention["status"]["visibility"] = "local"  # glitch-soc and Hometown have local-only posts

    on_mastodon(mastodon, lambda a: a.reply(mastodon_target(public_mention), "Thanks!", KEY))

    assert mastodon.requests_to(STATUSES)[0].json()["visibility"] == "private"


def test_a_mention_without_its_stored_payload_is_read_again(mastodon, load):
    status = load(STATUS_FILE)
    mastodon.route("GET", f"{STATUSES}/{status['id']}", Reply(200, status))
    target = ReplyTarget(status["id"], "@someone", "mention", None)

    on_mastodon(mastodon, lambda a: a.reply(target, "Thanks!", KEY))

    sent = mastodon.requests_to(STATUSES)[-1].json()
    assert sent["in_reply_to_id"] == status["id"]
    assert sent["visibility"] == status["visibility"]
    assert sent["status"].startswith(f"@{status['account']['acct']} ")


def test_mentions_are_recognised_in_every_way_mastodon_writes_them():
    assert addressed("Thanks @ana!", "ana", "mastodon.social") == "Thanks @ana!"
    assert addressed("Thanks @Ana@Mastodon.Social!", "ana", "mastodon.social") == "Thanks @Ana@Mastodon.Social!"
    assert addressed("Thanks @anabel!", "ana", "mastodon.social") == "@ana Thanks @anabel!"
    assert addressed("Thanks @ana@elsewhere.example", "ana", "mastodon.social") == "@ana Thanks @ana@elsewhere.example"
    # A remote account written without its domain would be someone on this instance.
    assert addressed("Thanks @jon", "jon@fosstodon.org", "mastodon.social") == "@jon@fosstodon.org Thanks @jon"
    assert addressed("mail ana@acme.example", "ana", "mastodon.social") == "@ana mail ana@acme.example"


@pytest.mark.parametrize("failure", ["500", "cut"])
def test_a_mastodon_reply_whose_answer_is_lost_is_posted_once_when_retried(mastodon, public_mention, failure):
    mastodon.statuses.fail_first = failure
    target = mastodon_target(public_mention)

    with pytest.raises(SourceError):
        on_mastodon(mastodon, lambda a: a.reply(target, "Thanks!", KEY))
    retried = on_mastodon(mastodon, lambda a: a.reply(target, "Thanks!", KEY))

    assert len(mastodon.statuses.posts) == 1
    assert retried.remote_id == "116000000000000001"
    assert [header(r, "Idempotency-Key") for r in mastodon.requests_to(STATUSES)] == [KEY, KEY]


def test_a_revoked_token_is_an_authentication_failure_that_does_not_show_it(platform_server, load, public_mention):
    platform_server.route("POST", STATUSES, Reply(401, load(REVOKED_FILE)))

    with pytest.raises(AuthenticationFailed) as raised:
        on_mastodon(platform_server, lambda a: a.reply(mastodon_target(public_mention), "Thanks!", KEY))

    assert "The access token is invalid" in raised.value.message
    assert "\n" not in raised.value.message
    assert TOKEN not in f"{raised.value.message} {raised.value.hint} {raised.value!r}"


def test_no_token_at_all_is_said_before_anything_is_sent(mastodon, public_mention):
    with pytest.raises(AuthenticationFailed, match="CMDAY_TEST_MASTODON_TOKEN"):
        on_mastodon(mastodon, lambda a: a.reply(mastodon_target(public_mention), "Thanks!", KEY), token=None)
    assert mastodon.requests == []


def test_a_refused_status_is_one_line_with_the_instances_reason(platform_server, public_mention):
    # Mastodon's 422 body, as the docs show it for POST /api/v1/statuses.
    platform_server.route("POST", STATUSES, Reply(422, {"error": "Validation failed: Text character limit of 500 exceeded"}))

    with pytest.raises(SourceError) as raised:
        on_mastodon(platform_server, lambda a: a.reply(mastodon_target(public_mention), "x" * 600, KEY))

    assert "422" in raised.value.message and "character limit of 500 exceeded" in raised.value.message
    assert "\n" not in raised.value.message


# --- Mastodon: publishing, limits, the account -------------------------------------------------------


def test_publishing_adds_the_link_once_and_carries_the_key(mastodon):
    on_mastodon(mastodon, lambda a: a.publish("Black Friday starts now", "https://acme.example/bf?utm_source=mastodon", [], "post-bf"))
    on_mastodon(mastodon, lambda a: a.publish("See https://acme.example/menu today", "https://acme.example/menu", [], "post-menu"))

    first, second = mastodon.requests_to(STATUSES)
    assert first.json() == {"status": "Black Friday starts now\n\nhttps://acme.example/bf?utm_source=mastodon"}
    assert header(first, "Idempotency-Key") == "post-bf"
    assert second.json() == {"status": "See https://acme.example/menu today"}


def test_a_key_that_cannot_be_a_header_is_sent_as_its_hash(mastodon):
    on_mastodon(mastodon, lambda a: a.publish("Otoño", None, [], "lanzamiento otoño"))

    key = header(mastodon.requests_to(STATUSES)[0], "Idempotency-Key")
    assert key is not None and re.fullmatch(r"[0-9a-f]{64}", key)


# A 3x2 PNG header and a 5x4 JPEG (SOI, APP0, SOF0): enough for the type and the size.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (3).to_bytes(4, "big") + (2).to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
JPEG = (b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xc0\x00\x11\x08" + (4).to_bytes(2, "big") + (5).to_bytes(2, "big") + b"\x03" + b"\x00" * 9 + b"\xff\xd9")
MEDIA_UPLOAD = "/api/v2/media"
# Built from the Mastodon docs (Instance v2 configuration; MediaAttachment): nothing recorded fits.
INSTANCE = {"domain": "mastodon.example", "configuration": {
    "statuses": {"max_media_attachments": 4},
    "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png"], "image_size_limit": 16777216}}}


def attachment(media_id: str, url: str | None) -> dict[str, Any]:
    return {"id": media_id, "type": "image", "url": url, "preview_url": url, "description": "Brunch table"}


def test_publishing_an_image_uploads_it_waits_while_it_processes_then_posts_it(mastodon, tmp_path):
    photo = tmp_path / "brunch.jpg"
    photo.write_bytes(JPEG)
    mastodon.route("GET", "/api/v2/instance", Reply(200, INSTANCE))
    mastodon.route("POST", MEDIA_UPLOAD, Reply(202, attachment("22348641", None)))
    mastodon.route("GET", "/api/v1/media/22348641", Reply(206, attachment("22348641", None)),
                   Reply(200, attachment("22348641", "https://files.example/brunch.jpg")))

    on_mastodon(mastodon, lambda a: a.publish("Brunch is served", None, [photo], "post-brunch", alts=["Brunch table"]))

    [upload] = mastodon.requests_to(MEDIA_UPLOAD)
    assert header(upload, "Content-Type").startswith("multipart/form-data")
    assert b'name="file"; filename="brunch.jpg"' in upload.body and b"Content-Type: image/jpeg" in upload.body
    assert b'name="description"\r\n\r\nBrunch table\r\n' in upload.body
    assert len(mastodon.requests_to("/api/v1/media/22348641")) == 2
    [status] = mastodon.requests_to(STATUSES)
    assert status.json() == {"status": "Brunch is served", "media_ids": ["22348641"]}


def _two_photos(tmp_path: Path) -> list[Path]:
    first, second = tmp_path / "brunch.jpg", tmp_path / "menu.png"
    first.write_bytes(JPEG)
    second.write_bytes(PNG)
    return [first, second]


def test_a_publish_retried_after_a_failed_upload_attaches_the_file_it_had_already_uploaded(mastodon, tmp_path):
    photos = _two_photos(tmp_path)
    mastodon.route("GET", "/api/v2/instance", Reply(200, INSTANCE))
    # POST /api/v2/media answers 202 with `url: null` while the file is processed; GET /api/v1/media/:id
    # answers 206 until it is done, then 200 (docs.joinmastodon.org/methods/media).
    mastodon.route("POST", MEDIA_UPLOAD, Reply(202, attachment("41", None)), Reply(500, {"error": "boom"}),
                   Reply(202, attachment("42", None)))
    mastodon.route("GET", "/api/v1/media/41", Reply(200, attachment("41", "https://files.example/brunch.jpg")))
    mastodon.route("GET", "/api/v1/media/42", Reply(206, attachment("42", None)),
                   Reply(200, attachment("42", "https://files.example/menu.png")))
    publish = lambda a: a.publish("Brunch and menu", None, photos, "post-brunch", alts=["Brunch table", "Menu board"])  # noqa: E731

    with pytest.raises(AnswerLost):
        on_mastodon(mastodon, publish)
    remembered = Path(os.environ["CMDAY_HOME"]) / "uploads.json"
    assert remembered.stat().st_mode & 0o777 == 0o600 and '"41"' in remembered.read_text(encoding="utf-8")
    on_mastodon(mastodon, publish)

    assert json.loads(remembered.read_text(encoding="utf-8")) == {}  # posted: nothing left to reuse
    uploads = mastodon.requests_to(MEDIA_UPLOAD)
    assert [b'filename="brunch.jpg"' in u.body for u in uploads] == [True, False, False]  # the first file went up once
    assert all(b'filename="menu.png"' in u.body for u in uploads[1:])
    [status] = mastodon.requests_to(STATUSES)
    assert status.json() == {"status": "Brunch and menu", "media_ids": ["41", "42"]}


KEEPING_UPLOADS = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from cmday.sources.uploads import UploadLog
log, who = UploadLog(Path(sys.argv[1])), sys.argv[2]
for n in range(60):
    log.keep(f"{who}-post-{n}", "photo", {"id": n}, datetime.now(UTC))
"""


def test_two_publishes_at_once_keep_every_upload_they_made(tmp_path):
    import subprocess
    import sys

    remembered = tmp_path / "uploads.json"
    publishes = [subprocess.Popen([sys.executable, "-c", KEEPING_UPLOADS, str(remembered), who]) for who in ("ana", "luis")]
    assert [publish.wait(timeout=60) for publish in publishes] == [0, 0]
    kept = json.loads(remembered.read_text(encoding="utf-8"))
    assert sorted(kept) == sorted(f"{who}-post-{n}" for who in ("ana", "luis") for n in range(60))


def test_the_files_of_a_refused_post_are_uploaded_afresh_next_time(mastodon, tmp_path):
    photo = _two_photos(tmp_path)[:1]
    mastodon.route("GET", "/api/v2/instance", Reply(200, INSTANCE))
    mastodon.route("POST", MEDIA_UPLOAD, Reply(200, attachment("41", "https://files.example/a.jpg")),
                   Reply(200, attachment("43", "https://files.example/b.jpg")))
    mastodon.route("POST", STATUSES, Reply(422, {"error": "Validation failed: Text character limit of 500 exceeded"}))
    publish = lambda a: a.publish("Brunch", None, photo, "post-a", alts=["Brunch table"])  # noqa: E731
    with pytest.raises(SourceError):
        on_mastodon(mastodon, publish)
    mastodon.route("POST", STATUSES, mastodon.statuses)

    on_mastodon(mastodon, publish)

    assert len(mastodon.requests_to(MEDIA_UPLOAD)) == 2 and mastodon.requests_to("/api/v1/media/41") == []
    assert mastodon.requests_to(STATUSES)[-1].json()["media_ids"] == ["43"]


def test_a_remembered_upload_the_instance_dropped_is_uploaded_again(mastodon, tmp_path):
    photo = _two_photos(tmp_path)[:1]
    mastodon.route("GET", "/api/v2/instance", Reply(200, INSTANCE))
    mastodon.route("POST", MEDIA_UPLOAD, Reply(200, attachment("45", "https://files.example/a.jpg")),
                   Reply(200, attachment("46", "https://files.example/b.jpg")))
    mastodon.route("GET", "/api/v1/media/45", Reply(404, {"error": "Record not found"}))
    mastodon.route("POST", STATUSES, Reply(503, {"error": "unavailable"}))
    publish = lambda a: a.publish("Brunch", None, photo, "post-b", alts=["Brunch table"])  # noqa: E731
    with pytest.raises(AnswerLost):
        on_mastodon(mastodon, publish)
    mastodon.route("POST", STATUSES, mastodon.statuses)

    on_mastodon(mastodon, publish)

    assert len(mastodon.requests_to("/api/v1/media/45")) == 1  # asked about before reuse, and gone
    assert mastodon.requests_to(STATUSES)[-1].json()["media_ids"] == ["46"]


def test_a_file_the_instance_does_not_take_is_refused_before_any_upload(mastodon, tmp_path):
    photo = tmp_path / "menu.png"
    photo.write_bytes(PNG)
    small = copy.deepcopy(INSTANCE)
    small["configuration"]["media_attachments"]["image_size_limit"] = 10
    mastodon.route("GET", "/api/v2/instance", Reply(200, small))

    with pytest.raises(SourceError, match=r"menu.png is \d+ bytes, over .*limit of 10"):
        on_mastodon(mastodon, lambda a: a.publish("New menu", None, [photo], "post-1"))
    assert mastodon.requests_to(MEDIA_UPLOAD) == [] and mastodon.requests_to(STATUSES) == []

def test_the_text_limit_is_the_instances_own_and_asked_once(platform_server):
    # GET /api/v2/instance as documented: configuration.statuses.max_characters.
    instance = {"domain": "mastodon.example", "configuration": {"statuses": {"max_characters": 1000, "max_media_attachments": 4}}}
    platform_server.route("GET", "/api/v2/instance", Reply(200, instance))

    async def twice(adapter: MastodonAdapter) -> list[int]:
        return [await adapter.text_limit(), await adapter.text_limit()]

    assert on_mastodon(platform_server, twice) == [1000, 1000]
    assert len(platform_server.requests_to("/api/v2/instance")) == 1
    assert header(platform_server.requests[0], "Authorization") is None  # a public endpoint: no token needed


def test_an_instance_older_than_v2_says_its_limit_in_v1(platform_server):
    platform_server.route("GET", "/api/v2/instance", Reply(404, {"error": "Record not found"}))
    platform_server.route("GET", "/api/v1/instance", Reply(200, {"uri": "pleroma.example", "max_toot_chars": 5000}))

    assert on_mastodon(platform_server, lambda a: a.text_limit()) == 5000


@pytest.mark.parametrize(
    "answer",
    [
        Reply(500, {"error": "oops"}),
        Reply(200, {"configuration": {"statuses": {}}}),
        Reply(200, {"configuration": {"statuses": {"max_characters": "lots"}}}),
        Reply(200, b"<html>maintenance</html>"),
    ],
)
def test_the_text_limit_falls_back_to_500(platform_server, answer):
    platform_server.route("GET", "/api/v2/instance", answer)
    platform_server.route("GET", "/api/v1/instance", Reply(200, {"uri": "m.example"}))

    assert on_mastodon(platform_server, lambda a: a.text_limit()) == 500


def test_verify_and_metrics_read_the_tokens_own_account(platform_server):
    # GET /api/v1/accounts/verify_credentials: a CredentialAccount, as documented.
    account = {"id": "14715", "username": "acme", "acct": "acme", "display_name": "Acme Coffee",
               "followers_count": 1234, "following_count": 56, "statuses_count": 789, "source": {"privacy": "public"}}
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, account))
    host = platform_server.url.split("://")[1].split(":")[0]

    assert on_mastodon(platform_server, lambda a: a.verify()) == f"@acme@{host}"
    assert on_mastodon(platform_server, lambda a: a.account_metrics()) == {"followers": 1234.0, "following": 56.0, "posts": 789.0}
    assert all(header(r, "Authorization") == f"Bearer {TOKEN}" for r in platform_server.requests)


def test_verify_with_a_refused_token_is_an_authentication_failure(platform_server, load):
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(401, load(REVOKED_FILE)))

    with pytest.raises(AuthenticationFailed):
        on_mastodon(platform_server, lambda a: a.verify())


# --- Bluesky: replies -------------------------------------------------------------------------------


def test_a_bluesky_reply_to_a_reply_keeps_the_threads_root(bluesky, bsky_notifications):
    notification = next(n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY)
    target = bluesky_target(notification)

    sent = on_bluesky(bluesky, lambda a: a.reply(target, "Thanks for the tip!", KEY))

    [login] = bluesky.requests_to(CREATE_SESSION)
    assert login.json() == {"identifier": "bskyr.bsky.social", "password": PASSWORD}
    [request] = bluesky.requests_to(CREATE_RECORD)
    assert header(request, "Authorization") == "Bearer access-1"
    body = request.json()
    assert body["repo"] == SESSION_DID
    assert body["collection"] == "app.bsky.feed.post"
    assert TID.match(body["rkey"]) and body["rkey"] == record_key(KEY)
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == "Thanks for the tip!"  # as Bluesky's app replies: the reply refs notify the author
    assert record["createdAt"] == "2026-04-12T07:00:00.000Z"
    assert record["langs"] == ["en"]
    assert record["reply"] == {
        "root": {"uri": "at://did:plc:lprqqpoyjspuma25n5gofocf/app.bsky.feed.post/3lmiagxqgas2s",
                 "cid": "bafyreif53vdtky5gaclah3gut5u7yj4bjpk3qazrqlpwsxfi6xq2fu3tpu"},
        "parent": {"uri": REPLY_TO_A_REPLY, "cid": "bafyreibnife55kb4vfoqe2enztto4n2nrgualkhx3ovox46fm6e6q77ehu"},
    }
    assert "facets" not in record
    assert sent.remote_id == f"at://{SESSION_DID}/app.bsky.feed.post/{record_key(KEY)}"
    assert sent.url == f"https://bsky.app/profile/bskyr.bsky.social/post/{record_key(KEY)}"


def test_a_reply_to_a_post_that_starts_a_thread_has_it_as_root_and_parent(bluesky, bsky_notifications):
    notification = next(n for n in bsky_notifications if n["author"]["handle"] == "magnusx71.bsky.social")
    assert "reply" not in notification["record"]

    on_bluesky(bluesky, lambda a: a.reply(bluesky_target(notification), "Tack! @magnusx71.bsky.social", KEY))

    record = bluesky.requests_to(CREATE_RECORD)[0].json()["record"]
    parent = {"uri": notification["uri"], "cid": notification["cid"]}
    assert record["reply"] == {"root": parent, "parent": parent}
    assert record["text"] == "Tack! @magnusx71.bsky.social"  # the handle written by the CM gets its mention facet
    assert record["langs"] == ["sv"]
    assert record["facets"][0]["index"] == {"byteStart": 6, "byteEnd": 28}


def test_the_post_answered_is_read_as_the_appview_has_it_now_not_as_it_was_stored(bluesky, load):
    posts = load(BSKY_GET_POSTS)
    post = posts["posts"][0]
    bluesky.route("GET", GET_POSTS, Reply(200, posts))
    target = ReplyTarget(post["uri"], post["author"]["handle"], "mention", {"uri": post["uri"], "author": post["author"]})

    on_bluesky(bluesky, lambda a: a.reply(target, "Thanks!", KEY))

    [lookup] = bluesky.requests_to(GET_POSTS)
    assert lookup.query["uris"] == [post["uri"]]
    record = bluesky.requests_to(CREATE_RECORD)[0].json()["record"]
    assert record["reply"]["parent"] == {"uri": post["uri"], "cid": post["cid"]}
    assert record["text"] == "Thanks!"


def test_a_post_deleted_since_its_notification_came_is_not_answered(bluesky, bsky_notifications):
    notification = next(n for n in bsky_notifications if n["author"]["handle"] == "magnusx71.bsky.social")
    bluesky.route("GET", GET_POSTS, Reply(200, {"posts": []}))  # getPosts leaves out a deleted post

    with pytest.raises(SourceError, match="it may have been deleted"):
        on_bluesky(bluesky, lambda a: a.reply(bluesky_target(notification), "Sorry about that!", KEY))
    assert bluesky.requests_to(CREATE_RECORD) == []  # the PDS would have taken it, hung under "post not found"


def test_a_post_that_is_gone_is_said_plainly(bluesky):
    bluesky.route("GET", GET_POSTS, Reply(200, {"posts": []}))
    uri = "at://did:plc:gone/app.bsky.feed.post/3aaaaaaaaaaaa"

    with pytest.raises(SourceError, match="gone or cannot be read"):
        on_bluesky(bluesky, lambda a: a.reply(ReplyTarget(uri, "gone.bsky.social", "mention", None), "Hi", KEY))
    assert bluesky.requests_to(CREATE_RECORD) == []


def test_facet_offsets_count_utf8_bytes_after_emoji_and_accents(bluesky, bsky_notifications):
    notification = next(n for n in bsky_notifications if n["author"]["handle"] == "magnusx71.bsky.social")
    bluesky.route("GET", RESOLVE_HANDLE, lambda r: Reply(200, {"did": "did:plc:colleague"}) if r.query["handle"] == ["ana.acme.example"]
                  else Reply(400, {"error": "InvalidRequest", "message": "Unable to resolve handle"}))
    text = "¡Gracias, Lucía! 🙌☕ Más en https://acme.example/menú?x=1. Pregunta a @ana.acme.example o @nadie.example #Otoño"

    on_bluesky(bluesky, lambda a: a.reply(bluesky_target(notification), text, KEY))

    record = bluesky.requests_to(CREATE_RECORD)[0].json()["record"]
    data = record["text"].encode("utf-8")
    shown = [(f["features"][0]["$type"].split("#")[1], data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8"))
             for f in record["facets"]]
    assert shown == [
        ("link", "https://acme.example/menú?x=1"),
        ("mention", "@ana.acme.example"),
        ("tag", "#Otoño"),
    ]
    link = record["facets"][0]
    # Before the link: "¡Gracias, Lucía! 🙌☕ Más en ", 27 characters but 35 bytes ("¡" 2, "í" 2, "🙌" 4,
    # "☕" 3, "á" 2); the link itself is 29 characters, 30 bytes ("ú" 2).
    assert link["index"] == {"byteStart": 35, "byteEnd": 65}
    assert link["features"][0]["uri"] == "https://acme.example/menú?x=1"
    assert record["facets"][1]["features"][0]["did"] == "did:plc:colleague"
    assert record["facets"][2]["features"][0] == {"$type": "app.bsky.richtext.facet#tag", "tag": "Otoño"}
    assert [r.query["handle"] for r in bluesky.requests_to(RESOLVE_HANDLE)] == [["ana.acme.example"], ["nadie.example"]]


def test_facets_leave_alone_what_is_not_a_link_mention_or_tag():
    text = "Write to info@acme.example, see (https://acme.example/a_(b)) and #1 at https://x.example/#top!"
    facets = facets_for(text, {"acme.example": "did:plc:acme"})
    data = text.encode("utf-8")
    assert [data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode() for f in facets] == [
        "https://acme.example/a_(b)",
        "https://x.example/#top",
    ]


def test_the_record_key_is_a_valid_tid_and_the_same_for_the_same_key():
    assert record_key(KEY) == record_key(KEY) == record_key(str(KEY))
    assert record_key(KEY) != record_key(KEY + "x")
    assert TID.match(record_key(KEY))


@settings(max_examples=300)
@given(st.text(min_size=1, max_size=80))
def test_every_key_gives_a_valid_tid(key):
    assert TID.match(record_key(key))


@pytest.mark.parametrize("failure", ["cut", "timeout"])
def test_a_bluesky_reply_whose_answer_is_lost_is_posted_once_when_retried(bluesky, bsky_notifications, failure):
    repo: BlueskyRepo = bluesky.repo
    target = bluesky_target(next(n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY))
    if failure == "cut":
        repo.fail_first = "cut"
    else:
        answered = {"done": False}

        def slow_then_normal(request: Request) -> Reply:
            # The PDS stores the post but answers after the client stopped waiting.
            reply = repo.create(request)
            if not answered["done"]:
                answered["done"] = True
                return Reply(reply.status, reply.body, delay=1.5)
            return reply

        bluesky.route("POST", CREATE_RECORD, slow_then_normal)

    async def send_twice(adapter: BlueskyAdapter) -> Sent:
        with pytest.raises(SourceError):
            await adapter.reply(target, "Thanks!", KEY)
        return await adapter.reply(target, "Thanks!", KEY)

    def client_with_short_timeout() -> Sent:
        async def go() -> Sent:
            async with HttpClient(timeout=0.5) as http:
                context = FetchContext(http=http, secret=lambda _n: PASSWORD, workspace_root=Path("."), now=NOW, project_slug="acme")
                return await send_twice(BlueskyAdapter(bluesky_source(bluesky.url), context))

        return asyncio.run(go())

    sent = client_with_short_timeout()

    assert len(repo.records) == 1
    [rkey] = repo.records
    assert rkey == record_key(KEY)
    assert sent.remote_id == f"at://{SESSION_DID}/app.bsky.feed.post/{rkey}"
    creates = bluesky.requests_to(CREATE_RECORD)
    assert len(creates) == 2 and {c.json()["rkey"] for c in creates} == {rkey}
    assert len(bluesky.requests_to(GET_RECORD)) == 1  # the retry, refused as a duplicate, finds the first post


def test_a_500_after_the_post_was_stored_is_recognised_at_once(bluesky, bsky_notifications):
    bluesky.repo.fail_first = "500"
    target = bluesky_target(next(n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY))

    sent = on_bluesky(bluesky, lambda a: a.reply(target, "Thanks!", KEY))

    assert len(bluesky.repo.records) == 1
    assert sent.remote_id.endswith("/" + record_key(KEY))


@pytest.mark.parametrize(
    "duplicate",
    [
        Reply(409, {"error": "RecordAlreadyExists", "message": "Record already exists"}),  # newer PDSes (cirrus)
        Reply(400, {"error": "InvalidRequest", "message": "Record already exists"}),
    ],
)
def test_other_ways_of_saying_the_key_is_taken_are_understood(bluesky, bsky_notifications, duplicate):
    bluesky.repo.duplicate = duplicate
    target = bluesky_target(next(n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY))

    first = on_bluesky(bluesky, lambda a: a.reply(target, "Thanks!", KEY))
    again = on_bluesky(bluesky, lambda a: a.reply(target, "Thanks!", KEY))

    assert first.remote_id == again.remote_id and len(bluesky.repo.records) == 1


def test_a_key_holding_a_different_post_is_not_taken_for_ours(bluesky, bsky_notifications):
    bluesky.repo.records[record_key(KEY)] = {"$type": "app.bsky.feed.post", "text": "something else", "createdAt": "2025-01-01T00:00:00.000Z"}
    target = bluesky_target(next(n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY))

    with pytest.raises(SourceError, match="different post"):
        on_bluesky(bluesky, lambda a: a.reply(target, "Thanks!", KEY))


def test_a_record_bluesky_rejects_is_reported_with_its_reason(bluesky, load, bsky_notifications):
    bluesky.route("POST", CREATE_RECORD, Reply(400, load(BSKY_TOO_LONG)))
    target = bluesky_target(next(n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY))

    with pytest.raises(SourceError) as raised:
        on_bluesky(bluesky, lambda a: a.reply(target, "x" * 301, KEY))

    assert "must not be longer than 300 graphemes" in raised.value.message
    assert "\n" not in raised.value.message


def test_a_refused_login_is_an_authentication_failure_without_the_password(platform_server, load, bsky_notifications):
    platform_server.route("POST", CREATE_SESSION, Reply(401, load(BSKY_REFUSED)))
    target = bluesky_target(bsky_notifications[13])

    with pytest.raises(AuthenticationFailed) as raised:
        on_bluesky(platform_server, lambda a: a.reply(target, "Thanks!", KEY))

    assert "Invalid identifier or password" in raised.value.message
    assert PASSWORD not in f"{raised.value.message} {raised.value.hint} {raised.value!r}"
    assert platform_server.requests_to(CREATE_RECORD) == []


def test_an_expired_token_is_renewed_before_posting(bluesky, load, bsky_notifications):
    expired = Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
    repo: BlueskyRepo = bluesky.repo
    bluesky.route("POST", CREATE_RECORD, expired, repo.create)
    bluesky.route("POST", "/xrpc/com.atproto.server.refreshSession",
                  Reply(200, load(BSKY_SESSION) | {"accessJwt": "access-2", "refreshJwt": "refresh-2"}))
    target = bluesky_target(next(n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY))

    on_bluesky(bluesky, lambda a: a.reply(target, "Thanks!", KEY))

    assert [header(r, "Authorization") for r in bluesky.requests_to(CREATE_RECORD)] == ["Bearer access-1", "Bearer access-2"]
    assert len(repo.records) == 1


# --- Bluesky: publishing, limits, the account -------------------------------------------------------


def test_publishing_with_a_link_makes_a_card_and_a_link_facet(bluesky):
    link = "https://www.acme.example/bf?utm_source=bluesky&utm_campaign=black-friday"

    sent = on_bluesky(bluesky, lambda a: a.publish("¡Black Friday ya! ☕", link, [], "post-bf"))

    body = bluesky.requests_to(CREATE_RECORD)[0].json()
    assert body["rkey"] == record_key("post-bf")
    record = body["record"]
    assert record["text"] == f"¡Black Friday ya! ☕\n\n{link}"
    assert "reply" not in record
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": link, "title": "acme.example", "description": ""},
    }
    [facet] = record["facets"]
    start = len("¡Black Friday ya! ☕\n\n".encode())
    assert facet == {"index": {"byteStart": start, "byteEnd": start + len(link)},
                     "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}]}
    assert sent.url.endswith("/post/" + record_key("post-bf"))


def test_publishing_without_a_link_has_no_card(bluesky):
    on_bluesky(bluesky, lambda a: a.publish("Good morning, Madrid", None, [], "post-gm"))

    record = bluesky.requests_to(CREATE_RECORD)[0].json()["record"]
    assert record == {"$type": "app.bsky.feed.post", "text": "Good morning, Madrid", "createdAt": "2026-04-12T07:00:00.000Z"}


def test_publishing_an_image_on_bluesky_uploads_the_raw_bytes_and_embeds_it_with_its_size(bluesky, tmp_path):
    photo = tmp_path / "menu.png"
    photo.write_bytes(PNG)
    # com.atproto.repo.uploadBlob#output, as the lexicon says: a blob ref.
    blob = {"$type": "blob", "ref": {"$link": "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"},
            "mimeType": "image/png", "size": len(PNG)}
    bluesky.route("POST", "/xrpc/com.atproto.repo.uploadBlob", Reply(200, {"blob": blob}))

    on_bluesky(bluesky, lambda a: a.publish("New menu", None, [photo], "post-1", alts=["The autumn menu board"]))

    [upload] = bluesky.requests_to("/xrpc/com.atproto.repo.uploadBlob")
    assert header(upload, "Content-Type") == "image/png" and upload.body == PNG
    embed = bluesky.requests_to(CREATE_RECORD)[0].json()["record"]["embed"]
    assert embed == {"$type": "app.bsky.embed.images",
                     "images": [{"alt": "The autumn menu board", "image": blob, "aspectRatio": {"width": 3, "height": 2}}]}


def test_a_bluesky_post_retried_after_a_lost_answer_refers_to_the_blob_already_uploaded(bluesky, tmp_path):
    photo = tmp_path / "menu.png"
    photo.write_bytes(PNG)
    blob = {"$type": "blob", "ref": {"$link": "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"},
            "mimeType": "image/png", "size": len(PNG)}
    bluesky.route("POST", "/xrpc/com.atproto.repo.uploadBlob", Reply(200, {"blob": blob}))
    bluesky.route("POST", CREATE_RECORD, Reply(503, {"error": "UpstreamFailure"}), bluesky.repo.create)
    publish = lambda a: a.publish("New menu", None, [photo], "post-1", alts=["The autumn menu board"])  # noqa: E731

    with pytest.raises(AnswerLost):
        on_bluesky(bluesky, publish)
    on_bluesky(bluesky, publish)

    assert len(bluesky.requests_to("/xrpc/com.atproto.repo.uploadBlob")) == 1
    record = bluesky.requests_to(CREATE_RECORD)[-1].json()["record"]
    assert record["embed"]["images"] == [{"alt": "The autumn menu board", "image": blob, "aspectRatio": {"width": 3, "height": 2}}]


def test_an_image_over_blueskys_limit_is_refused_before_upload_with_its_size(bluesky, tmp_path):
    photo = tmp_path / "huge.jpg"
    photo.write_bytes(JPEG + b"\x00" * 1_200_000)

    # in the decimal units Bluesky states its limit in (1,000,000 bytes), not "977 KB"
    with pytest.raises(SourceError, match=r"huge.jpg is 1.2 MB, over Bluesky's limit of 1 MB for an image"):
        on_bluesky(bluesky, lambda a: a.publish("New menu", None, [photo], "post-1"))
    assert bluesky.requests == []

def test_bluesky_counts_300_graphemes(bluesky):
    assert on_bluesky(bluesky, lambda a: a.text_limit()) == 300
    assert bluesky.requests == []


def test_verify_and_metrics_read_the_accounts_profile(bluesky):
    # app.bsky.actor.defs#profileViewDetailed, as the lexicon describes it.
    profile = {"did": SESSION_DID, "handle": "bskyr.bsky.social", "displayName": "bskyr",
               "followersCount": 1234, "followsCount": 56, "postsCount": 789}
    bluesky.route("GET", GET_PROFILE, Reply(200, profile))

    assert on_bluesky(bluesky, lambda a: a.verify()) == "@bskyr.bsky.social"
    assert on_bluesky(bluesky, lambda a: a.account_metrics()) == {"followers": 1234.0, "following": 56.0, "posts": 789.0}
    assert all(r.query["actor"] == [SESSION_DID] for r in bluesky.requests_to(GET_PROFILE))


# --- end to end: cmday.reply.send with a real store ------------------------------------------------


def project_with(source: Any) -> Project:
    return Project(project=ProjectInfo(name="Acme Coffee", slug="acme"), sources=[source])


def stored_mention(store: Store, source_id: str, platform: str, mention: Any) -> int:
    store.save_batch("acme", source_id, platform, [mention], None, NOW)
    [stored] = store.mentions("acme")
    return stored.id


def test_reply_send_to_mastodon_refused_once_then_posts_once_and_never_again(platform_server, public_mention, tmp_path, monkeypatch):
    from tests.support.fake_platforms import MastodonInstance

    monkeypatch.setenv("CMDAY_TEST_MASTODON_TOKEN", TOKEN)
    instance = MastodonInstance(platform_server)
    refused_then_stored = [Reply(422, {"error": "Validation failed: Text character limit of 500 exceeded"}), instance.create]
    platform_server.route("POST", STATUSES, *refused_then_stored)
    [mention], _skipped = mentions_from_notifications([public_mention], "mastodon.social")
    instance.watch(mention.platform_id)
    store = Store(tmp_path / "state.sqlite3")
    stored = store.mention(stored_mention(store, "m", "mastodon", mention))
    project = project_with(mastodon_source(platform_server.url))
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig())
    began = datetime.now(UTC)

    with pytest.raises(NotSent, match="422"):
        send(store, workspace, project, stored, "Thanks for the kind words!", since=began, http_options={"timeout": 5})
    [draft] = store.drafts_for(stored.id)
    assert draft.status == "failed" and store.mention(stored.id).state == "open"

    outcome = send(store, workspace, project, stored, "Thanks for the kind words!", since=began, http_options={"timeout": 5})

    assert not outcome.found and outcome.draft.id == draft.id  # the pending draft, its key and all
    assert store.mention(stored.id).state == "answered"
    assert len(instance.posts) == 1 and instance.posts[0]["in_reply_to_id"] == public_mention["status"]["id"]
    assert len(platform_server.requests_to(f"{STATUSES}/{mention.platform_id}/context")) == 1  # looked before the resend
    assert {header(r, "Idempotency-Key") for r in platform_server.requests_to(STATUSES)} == {draft.idempotency_key}
    with pytest.raises(UsageError, match="answered meanwhile"):
        send(store, workspace, project, store.mention(stored.id), "Thanks!", since=began, http_options={"timeout": 5})
    assert len(platform_server.requests_to(STATUSES)) == 2
    store.close()


def test_reply_send_to_bluesky_answers_in_the_thread_and_only_once(platform_server, load, bsky_notifications, tmp_path, monkeypatch):
    from tests.support.fake_platforms import BlueskyPds

    monkeypatch.setenv("CMDAY_TEST_BSKY", PASSWORD)
    pds = BlueskyPds(platform_server, load(BSKY_SESSION))
    pds.queue.append("drop")
    pds.knows(*bsky_notifications)
    [mention] = read_notifications({"notifications": [n for n in bsky_notifications if n["uri"] == REPLY_TO_A_REPLY]}, None).mentions
    store = Store(tmp_path / "state.sqlite3")
    stored = store.mention(stored_mention(store, "b", "bluesky", mention))
    project = project_with(bluesky_source(platform_server.url))
    workspace = Workspace(root=tmp_path, config=WorkspaceConfig())

    outcome = send(store, workspace, project, stored, "¡Gracias! 🙌", since=datetime.now(UTC), http_options={"timeout": 5})

    assert outcome.found  # the connection was cut after the PDS stored it: getRecord found it
    assert store.mention(stored.id).state == "answered"
    [record] = pds.records.values()
    assert record["text"] == "¡Gracias! 🙌"
    assert record["reply"]["parent"]["uri"] == REPLY_TO_A_REPLY
    assert outcome.sent.remote_id.endswith("/" + record_key(outcome.draft.idempotency_key))
    assert len(platform_server.requests_to(CREATE_RECORD)) == 1
    store.close()


def test_a_sweep_stores_the_accounts_figures_as_todays_snapshot(platform_server: PlatformServer, tmp_path: Path, monkeypatch):
    """The followers a platform reports become dated indicator values, so trends need no platform history."""
    from cmday.models import Project, WorkspaceConfig
    from cmday.protocol import load_protocol
    from cmday.store import Store
    from cmday.sync import fetch_project
    from cmday.workspace import Workspace

    # GET /api/v1/accounts/verify_credentials: a CredentialAccount, as documented.
    account = {"id": "14715", "username": "acme", "acct": "acme", "display_name": "Acme Coffee",
               "followers_count": 1234, "following_count": 56, "statuses_count": 789, "source": {"privacy": "public"}}
    platform_server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, account))
    platform_server.route("GET", "/api/v1/notifications", Reply(200, []))
    monkeypatch.setenv("ACME_TOKEN", TOKEN)
    project = Project.model_validate({
        "project": {"name": "Acme", "slug": "acme", "timezone": "Europe/Madrid"},
        "sources": [{"id": "m", "platform": "mastodon", "instance": platform_server.url, "token_env": "ACME_TOKEN"}],
    })
    store = Store(tmp_path / "s.sqlite3")
    report = fetch_project(store, Workspace(root=tmp_path, config=WorkspaceConfig()), project, load_protocol())
    assert not report.errors, report.errors
    values = {v.key: v.value for v in store.kpi_values("acme")}
    assert values["followers.mastodon"] == 1234 and values["posts.mastodon"] == 789
    assert {v.origin for v in store.kpi_values("acme")} == {"api"}


def test_an_upload_over_the_http_layers_cap_leaves_nothing_on_the_wire(platform_server):
    platform_server.route("POST", "/upload", Reply(200, {}))

    async def upload() -> None:
        async with HttpClient(max_upload_bytes=10) as http:
            await http.request("POST", platform_server.url + "/upload", content=b"x" * 11,
                               headers={"Authorization": "Bearer secret-token"})

    with pytest.raises(SourceError, match="11 bytes, over cmday's limit of 10") as raised:
        asyncio.run(upload())
    assert platform_server.requests == [] and "secret-token" not in raised.value.message
