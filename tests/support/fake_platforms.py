"""A Mastodon instance and a Bluesky PDS as far as sending needs them, on the local platform server, with faults where they happen.

Built from the platforms' documentation (Mastodon: POST /api/v1/statuses, GET /api/v1/statuses/:id/context,
GET /api/v1/accounts/:id/statuses, verify_credentials; AT Protocol: createSession, refreshSession,
createRecord, getRecord). A fault is queued per POST: the post is stored first, then its answer is
held (the test kills cmday meanwhile), dropped, or replaced by a 502, as a proxy in front would do.
"""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime
from typing import Any

from tests.support.adapters import header
from tests.support.platform_server import PlatformServer, Reply, Request

BRAND = {"id": "14715", "username": "acme", "acct": "acme", "display_name": "Acme Coffee", "url": "https://m.example/@acme",
         "followers_count": 10, "following_count": 2, "statuses_count": 3, "source": {"privacy": "public"}}
STATUSES = "/api/v1/statuses"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class _Faults:
    """Faults for the next POSTs, in turn: "hold", "drop", "502" or None (answer normally)."""

    def __init__(self) -> None:
        self.queue: list[str | None] = []
        self.stored = threading.Event()  # set once a POST is stored: the moment to kill the client
        self.release = threading.Event()  # set by the test to let a held answer go
        self.lock = threading.Lock()

    def answer(self, status: int, body: Any) -> Reply:
        with self.lock:
            fault = self.queue.pop(0) if self.queue else None
        self.stored.set()
        if fault == "hold":
            return Reply(status, body, hold=self.release)
        if fault == "drop":
            return Reply(drop=True)
        if fault == "502":
            return Reply(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"})
        if fault is not None and fault.startswith("delay:"):
            return Reply(status, body, delay=float(fault.split(":", 1)[1]))
        return Reply(status, body)


class MastodonInstance(_Faults):
    """Statuses posted by the brand's account, answered by context and account timelines.

    `honours_keys=False` is a server that ignores Idempotency-Key, as some Mastodon-API servers do.
    """

    def __init__(self, server: PlatformServer, honours_keys: bool = True) -> None:
        super().__init__()
        self.server = server
        self.honours_keys = honours_keys
        self.posts: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        server.route("POST", STATUSES, self.create)
        server.route("GET", "/api/v1/accounts/verify_credentials", Reply(200, BRAND))
        server.route("GET", f"/api/v1/accounts/{BRAND['id']}/statuses", self.timeline)

    def watch(self, status_id: str) -> None:
        """Answer GET /api/v1/statuses/:id/context for a status the brand may reply to."""
        self.server.route("GET", f"{STATUSES}/{status_id}/context", lambda r: self.context(status_id))

    def create(self, request: Request) -> Reply:
        body = request.json()
        key = header(request, "Idempotency-Key")
        with self.lock:
            if self.honours_keys and key in self.by_key:
                return Reply(200, self.by_key[key])
            number = str(116000000000000001 + len(self.posts))
            status = {
                "id": number, "uri": f"{self.server.url}/users/acme/statuses/{number}", "url": f"{self.server.url}/@acme/{number}",
                "created_at": _now(), "account": BRAND, "content": f"<p>{html.escape(body['status'])}</p>",
                "visibility": body.get("visibility", "public"), "in_reply_to_id": body.get("in_reply_to_id"),
                "language": body.get("language"),
            }
            self.posts.append(status)
            if key:
                self.by_key[key] = status
        return self.answer(200, status)

    def context(self, status_id: str) -> Reply:
        with self.lock:
            descendants = [s for s in self.posts if s["in_reply_to_id"] == status_id]
        return Reply(200, {"ancestors": [], "descendants": descendants})

    def timeline(self, request: Request) -> Reply:
        with self.lock:
            return Reply(200, [s for s in reversed(self.posts) if not s["in_reply_to_id"]][:40])


def post_view(item: dict[str, Any]) -> dict[str, Any]:
    """The app.bsky.feed.defs#postView of a notification's post (its required keys), as getPosts answers it."""
    return {key: item[key] for key in ("uri", "cid", "author", "record", "indexedAt")}


class BlueskyPds(_Faults):
    """A PDS that keeps records by key (a key taken answers 500, as bsky.social does) and counts logins."""

    def __init__(self, server: PlatformServer, session: dict[str, Any]) -> None:
        super().__init__()
        self.server = server
        self.session = session
        self.did = session["did"]
        self.records: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}  # what the AppView behind it has, as postViews by URI (`knows`)
        self.logins = 0
        self.refreshes = 0
        self.access = ""  # the one access token accepted now
        self.refresh = ""
        server.route("POST", "/xrpc/com.atproto.server.createSession", self.create_session)
        server.route("POST", "/xrpc/com.atproto.server.refreshSession", self.refresh_session)
        server.route("POST", "/xrpc/com.atproto.repo.createRecord", self.authorized(self.create_record))
        server.route("GET", "/xrpc/com.atproto.repo.getRecord", self.authorized(self.get_record))
        server.route("GET", "/xrpc/app.bsky.notification.listNotifications", self.authorized(lambda r: Reply(200, {"notifications": []})))
        server.route("GET", "/xrpc/app.bsky.actor.getProfile", self.authorized(lambda r: Reply(200, {
            "did": self.did, "handle": session["handle"], "followersCount": 5, "followsCount": 1, "postsCount": 2})))
        server.route("GET", "/xrpc/app.bsky.feed.getPosts", self.authorized(lambda r: Reply(200, {
            "posts": [self.posts[uri] for uri in r.query.get("uris", []) if uri in self.posts]})))

    def knows(self, *items: dict[str, Any]) -> None:
        """Posts the AppView can show (getPosts), from notifications or post views; a deleted one is left out."""
        for item in items:
            self.posts[item["uri"]] = post_view(item)

    def _tokens(self, kind: str) -> tuple[str, str]:
        with self.lock:
            number = self.logins + self.refreshes
        self.access, self.refresh = f"access-{kind}-{number}", f"refresh-{kind}-{number}"
        return self.access, self.refresh

    def create_session(self, request: Request) -> Reply:
        with self.lock:
            self.logins += 1
        access, refresh = self._tokens("login")
        return Reply(200, self.session | {"accessJwt": access, "refreshJwt": refresh})

    def refresh_session(self, request: Request) -> Reply:
        if header(request, "Authorization") != f"Bearer {self.refresh}":
            return Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
        with self.lock:
            self.refreshes += 1
        access, refresh = self._tokens("refresh")
        return Reply(200, self.session | {"accessJwt": access, "refreshJwt": refresh})

    def expire_access(self) -> None:
        self.access = "expired"

    def authorized(self, handler):
        def check(request: Request) -> Reply:
            if header(request, "Authorization") != f"Bearer {self.access}":
                return Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
            return handler(request)

        return check

    def create_record(self, request: Request) -> Reply:
        body = request.json()
        with self.lock:
            if body["rkey"] in self.records:
                return Reply(500, {"error": "InternalServerError", "message": "Internal Server Error"})
            self.records[body["rkey"]] = body["record"]
        uri = f"at://{body['repo']}/app.bsky.feed.post/{body['rkey']}"
        return self.answer(200, {"uri": uri, "cid": "bafyreid" + body["rkey"]})

    def get_record(self, request: Request) -> Reply:
        rkey = request.query["rkey"][0]
        with self.lock:
            record = self.records.get(rkey)
        if record is None:
            return Reply(400, {"error": "RecordNotFound", "message": f"Could not locate record: {rkey}"})
        return Reply(200, {"uri": f"at://{request.query['repo'][0]}/app.bsky.feed.post/{rkey}", "cid": "bafyreid" + rkey, "value": record})
