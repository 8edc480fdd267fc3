"""`cmday hide` / `unhide` on Instagram and Facebook comments, against a real local server with the Graph API's shapes.

Updating a comment is documented in the IG Comment reference (`POST /{ig-comment-id}?hide=true`) and the
Comment reference (`POST /{comment-id}?is_hidden=true`); both answer `{"success": true}`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run
from tests.support.platform_server import PlatformServer, Reply

TOKEN = "EAAGm0PX4ZCpsBAhidetoken"
IG = "17841400008460056"
PAGE = "1234567890"
V = "/v21.0"


@pytest.fixture
def meta(platform_server: PlatformServer, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> PlatformServer:
    """An IG account with one post, three comments (one already hidden on arrival), and a Page with one comment."""
    monkeypatch.setenv("ACME_META_TOKEN", TOKEN)
    monkeypatch.setenv("CMDAY_WORKSPACE", str(workspace))
    project = workspace / "projects" / "acme.toml"
    project.write_text(project.read_text(encoding="utf-8") + f"""
[[sources]]
id = "acme-ig"
platform = "instagram"
ig_user_id = "{IG}"
token_env = "ACME_META_TOKEN"
base_url = "{platform_server.url}"

[[sources]]
id = "acme-fb"
platform = "facebook"
page_id = "{PAGE}"
token_env = "ACME_META_TOKEN"
base_url = "{platform_server.url}"
""", encoding="utf-8")
    platform_server.route("GET", f"{V}/{IG}", Reply(200, {"username": "acmecoffee", "id": IG}))
    platform_server.route("GET", f"{V}/{IG}/media", Reply(200, {"data": [
        {"id": "1790001", "caption": "Brunch", "permalink": "https://www.instagram.com/p/B_abc/",
         "timestamp": "2026-04-11T09:00:00+0000", "comments_count": 4}]}))
    platform_server.route("GET", f"{V}/1790001/comments", Reply(200, {"data": [
        {"id": "1791001", "text": "BUY FOLLOWERS cheap!!! link in bio", "username": "spam.bot",
         "timestamp": "2026-04-11T10:00:00+0000", "hidden": False},
        {"id": "1791002", "text": "Is it open on Sunday?", "username": "lucia",
         "timestamp": "2026-04-11T10:05:00+0000", "hidden": False},
        {"id": "1791003", "text": "you are all idiots", "username": "troll",
         "timestamp": "2026-04-11T10:10:00+0000", "hidden": True},
        {"id": "1791004", "text": "I want a refund, you thieves", "username": "angry",
         "timestamp": "2026-04-11T10:15:00+0000", "hidden": True}]}))
    platform_server.route("GET", f"{V}/{IG}/tags", Reply(200, {"data": []}))
    platform_server.route("GET", f"{V}/{PAGE}/feed", Reply(200, {"data": [
        {"id": f"{PAGE}_111", "message": "Our new roast", "created_time": "2026-04-11T10:00:00+0000",
         "from": {"id": PAGE, "name": "Acme Coffee"},
         "comments": {"data": [{"id": "111_1", "message": "Free iPhone here", "created_time": "2026-04-11T11:00:00+0000",
                                "from": {"id": "555", "name": "Spammer"}, "is_hidden": False}]}}]}))
    platform_server.route("POST", f"{V}/1791001", Reply(200, {"success": True}))
    platform_server.route("POST", f"{V}/1791003", Reply(200, {"success": True}))
    platform_server.route("POST", f"{V}/1791002", Reply(200, {"success": True}))
    platform_server.route("POST", f"{V}/111_1", Reply(200, {"success": True}))
    assert run("fetch").exit_code == 0
    return platform_server


def _number(platform_id: str) -> int:
    listed = json.loads(run("inbox", "--state", "all", "--json").stdout)["mentions"]
    return next(m["id"] for m in listed if m["platform_id"] == platform_id)


def _mention(number: int) -> dict:
    return json.loads(run("show", str(number), "--json").stdout)["mentions"][0]


def test_hiding_spam_hides_it_on_instagram_and_takes_it_out_of_the_open_inbox(meta: PlatformServer) -> None:
    spam = _number("1791001")
    ran = run("hide", str(spam), "--yes")
    assert ran.exit_code == 0, ran.stderr
    [post] = meta.requests_to(f"{V}/1791001")
    assert post.method == "POST" and post.query["hide"] == ["true"]
    assert post.headers["Authorization"] == f"Bearer {TOKEN}" and "access_token" not in post.query
    assert f"#{spam} hidden on instagram" in ran.stderr and "unhide" in ran.stderr
    shown = _mention(spam)
    assert shown["state"] == "ignored" and "hidden" in shown["flags"]
    open_ids = [m["id"] for m in json.loads(run("inbox", "--json").stdout)["mentions"]]
    assert spam not in open_ids and _number("1791002") in open_ids
    assert "hidden on instagram" in run("show", str(spam)).stdout  # the reason, never an ignore in silence

    ran = run("unhide", str(spam), "--yes")
    assert ran.exit_code == 0 and "back in the open inbox" in ran.stderr
    assert meta.requests_to(f"{V}/1791001")[-1].query["hide"] == ["false"]
    shown = _mention(spam)
    assert shown["state"] == "open" and "hidden" not in shown["flags"]


def test_a_comment_already_hidden_on_arrival_waits_for_nobody_and_shows_as_hidden(meta: PlatformServer) -> None:
    troll = _number("1791003")
    shown = _mention(troll)
    assert shown["state"] == "ignored" and "hidden" in shown["flags"]
    listed = run("inbox", "--state", "ignored")
    assert "hidden" in listed.stdout and "idiots" in listed.stdout
    assert run("unhide", str(troll), "--yes").exit_code == 0
    assert _mention(troll)["state"] == "open"  # seen by everyone again: it waits for an answer like any other


def test_an_urgent_comment_hidden_still_waits_for_an_answer(meta: PlatformServer) -> None:
    auto_hidden = _mention(_number("1791004"))  # Meta's own filter hid it; "refund" is an urgent word of the project
    assert auto_hidden["state"] == "open" and auto_hidden["urgent"] and "hidden" in auto_hidden["flags"]
    meta.route("POST", f"{V}/1791004", Reply(200, {"success": True}))
    ran = run("hide", str(auto_hidden["id"]), "--yes")
    assert "it stays open: it is urgent" in ran.stderr and _mention(auto_hidden["id"])["state"] == "open"
    question = _number("1791002")
    assert run("mark", str(question), "escalated").exit_code == 0
    assert run("hide", str(question), "--yes").exit_code == 0
    assert _mention(question)["state"] == "escalated"


def test_an_answered_comment_hidden_afterwards_stays_answered(meta: PlatformServer) -> None:
    spam = _number("1791001")
    assert run("mark", str(spam), "answered").exit_code == 0
    ran = run("hide", str(spam), "--yes")
    assert ran.exit_code == 0 and "it stays answered" in ran.stderr
    assert _mention(spam)["state"] == "answered"
    run("unhide", str(spam), "--yes")
    assert _mention(spam)["state"] == "answered"


def test_facebook_comments_are_hidden_with_is_hidden(meta: PlatformServer) -> None:
    spam = _number("111_1")
    ran = run("hide", str(spam), "--yes", "--json")
    assert ran.exit_code == 0
    assert json.loads(ran.stdout)["mentions"][0]["state"] == "ignored"  # --json prints only JSON
    [post] = meta.requests_to(f"{V}/111_1")
    assert post.query["is_hidden"] == ["true"] and "hide" not in post.query


def test_without_a_terminal_or_yes_nothing_is_hidden(meta: PlatformServer) -> None:
    spam = _number("1791001")
    ran = run("hide", str(spam))
    assert ran.exit_code == 0 and "--yes" in ran.stderr
    assert not meta.requests_to(f"{V}/1791001") and _mention(spam)["state"] == "open"


def test_a_refusal_changes_nothing_and_says_what_to_do(meta: PlatformServer) -> None:
    spam = _number("1791002")
    meta.route("POST", f"{V}/1791002", Reply(403, {"error": {
        "message": "(#10) Application does not have permission for this action", "type": "OAuthException",
        "code": 10, "fbtrace_id": "AbC"}}))
    ran = run("hide", str(spam), "--yes")
    assert ran.exit_code == 6
    assert "lacks the permission instagram_manage_comments" in ran.stderr and TOKEN not in ran.stderr + ran.stdout
    shown = _mention(spam)
    assert shown["state"] == "open" and "hidden" not in shown["flags"]
    meta.route("POST", f"{V}/1791002", Reply(200, {"success": False}))
    ran = run("hide", str(spam), "--yes")
    assert ran.exit_code == 6 and "did not confirm" in ran.stderr
    assert _mention(spam)["state"] == "open"


def test_an_expired_token_says_log_in_again(meta: PlatformServer) -> None:
    spam = _number("1791001")
    meta.route("POST", f"{V}/1791001", Reply(400, {"error": {
        "message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190}}))
    ran = run("hide", str(spam), "--yes")
    assert ran.exit_code == 6 and "log in again" in ran.stderr and TOKEN not in ran.stderr


def test_only_meta_platforms_can_hide_and_the_demo_rehearses() -> None:
    listed = json.loads(run("inbox", "--demo", "--state", "all", "--json").stdout)["mentions"]
    mastodon = next(m["id"] for m in listed if m["platform"] == "mastodon")
    ran = run("hide", str(mastodon), "--demo", "--yes")
    assert ran.exit_code == 2 and "cannot hide" in ran.stderr and "mark" in ran.stderr
    instagram = next(m["id"] for m in listed if m["platform"] == "instagram")
    ran = run("hide", str(instagram), "--demo", "--yes")
    assert ran.exit_code == 0 and "the demo changes nothing" in ran.stderr
    assert run("hide", "99999", "--demo", "--yes").exit_code == 2


def test_spanish(meta: PlatformServer) -> None:
    spam = _number("1791001")
    ran = run("hide", str(spam), "--yes", "--lang", "es")
    assert ran.exit_code == 0 and "oculta en instagram" in ran.stderr
