"""A client of the emulator, and a scripted server for faults it cannot make."""

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Reply:
    """One canned answer; a short body under a longer Content-Length truncates."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    content_length: int | None = None


@dataclass
class Received:
    """One request the server saw."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Answer each request with the next scripted reply and record what came."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.received: list[Received] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"

    def reply(self, status: int = 200, body: str | bytes = b"{}", **options) -> None:
        """Queue the answer to the next request."""
        content = body.encode() if isinstance(body, str) else body
        self.replies.append(Reply(status, content, **options))

    def serve(self) -> None:
        """Serve until stopped, on a daemon thread."""
        threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        ).start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                """Keep the test output quiet."""

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.received.append(
                    Received(
                        self.command,
                        self.path,
                        dict(self.headers),
                        self.rfile.read(length),
                    )
                )
                reply = server.replies.popleft() if server.replies else Reply()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                size = reply.content_length or len(reply.body)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self.wfile.write(reply.body)
                self.close_connection = reply.content_length is not None

            do_GET = do_POST = do_DELETE = answer

        return Handler


@pytest.fixture
def scripted_server():
    """Start a scripted server for one test."""
    server = ScriptedServer()
    server.serve()
    yield server
    server.stop()
