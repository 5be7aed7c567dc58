"""The HTTP side: read requests, hand them to the emulator, write or lose answers."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from reviewer.customvision.emulator.wire import ApiError, Response, error_response

logger = logging.getLogger(__name__)


@dataclass
class Request:
    """What the emulator needs to know about one HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    base_url: str


def make_server(
    answer: Callable[[Request], Response], host: str, port: int
) -> ThreadingHTTPServer:
    """Bind a threaded HTTP server that passes each request to `answer`."""
    handler = type(
        "EmulatorRequestHandler", (_Handler,), {"answer": staticmethod(answer)}
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class _Handler(BaseHTTPRequestHandler):
    answer: Callable[[Request], Response]
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; Nagle would hold the second back.
    disable_nagle_algorithm = True
    # Close keep-alive connections that stay idle this many seconds.
    timeout = 60

    def do_GET(self) -> None:
        """Answer any method the same way; routes decide what is allowed."""
        started = time.perf_counter()
        outcome = self._send(self._response())

        elapsed = (time.perf_counter() - started) * 1000
        path = urlsplit(self.path).path
        logger.info("%s %s %s %.0f ms", self.command, path, outcome, elapsed)

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def log_message(self, *args: object) -> None:
        """Stay quiet: `do_GET` logs one line per request, without the query."""

    def _response(self) -> Response:
        request = self._request()
        try:
            return self.answer(request)
        except Exception:
            logger.exception(
                "The emulator failed on %s %s", request.method, request.path
            )
            return error_response(ApiError(500, "ErrorUnknown", "Emulator failure."))

    def _request(self) -> Request:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        host, port = self.server.server_address[:2]
        authority = self.headers.get("Host") or f"{host}:{port}"
        return Request(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=self.headers,
            body=self.rfile.read(length) if length else b"",
            base_url=f"http://{authority}",
        )

    def _send(self, response: Response) -> str:
        """Write the answer, or lose it on purpose; say which for the log."""
        if response.drop:
            self.close_connection = True
            return "dropped"

        try:
            self._write(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return f"{response.status} unsent, the client left"
        return str(response.status)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
