"""A real HTTP server on 127.0.0.1 for adapter tests: a route registry answering recorded or documented payloads.

Faults are injected per route: any status with headers (429 + Retry-After), a delay (timeouts),
malformed or truncated bodies, an answer held until the test releases it (while it kills the client),
or a connection dropped with no answer at all. Every request is recorded so tests can check what was sent.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_to: int | None = None  # send only this many bytes of the body, then close the connection
    hold: threading.Event | None = None  # answer only once the test sets it (or after HOLD_LIMIT seconds)
    drop: bool = False  # close the connection without answering: the request was handled, its answer lost

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            body = self.body
        elif isinstance(self.body, str):
            body = self.body.encode("utf-8")
        else:
            body = json.dumps(self.body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return body, headers


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Request], Reply]
HOLD_LIMIT = 60.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a sweep connects to a platform many times at once; the default 5 drops SYNs, retried a second later


class PlatformServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply | Handler]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                with server._lock:
                    server.requests.append(request)
                reply = server._reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(HOLD_LIMIT)
                if reply.drop:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                payload, headers = reply.encoded()
                self.send_response(reply.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                if reply.truncate_to is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(payload if reply.truncate_to is None else payload[: reply.truncate_to])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if reply.truncate_to is not None:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PlatformServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def route(self, method: str, path: str, *replies: Reply | Handler) -> None:
        """Answer `method path` with these replies in turn; the last one repeats."""
        self.routes[(method.upper(), path)] = list(replies)

    def _reply_for(self, request: Request) -> Reply:
        with self._lock:
            queue = self.routes.get((request.method, request.path))
            if not queue:
                return Reply(404, {"error": "Record not found"})
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]
