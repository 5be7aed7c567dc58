"""A local Custom Vision Training API: state, faults, and a server thread."""

import hmac
import os
import secrets
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime
from email.message import Message
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path

from reviewer.customvision import limits
from reviewer.customvision.emulator import api, images, promotions, seed
from reviewer.customvision.emulator.config import EmulatorConfig
from reviewer.customvision.emulator.faults import Fault, Faults
from reviewer.customvision.emulator.render import Links
from reviewer.customvision.emulator.server import Request, make_server
from reviewer.customvision.emulator.state import State
from reviewer.customvision.emulator.wire import (
    ApiError,
    Response,
    epoch_of,
    error_response,
    gateway_response,
)

ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
    "to provide a valid key for an active subscription and use a correct regional "
    "API endpoint for your resource."
)
GATEWAY_STATUSES = frozenset({401, 403, 429, 502, 503, 504})
SERVICE_CODES = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}
DROPPABLE_BY_CHANCE = "CreateImagesFromPredictions"

RequestLogEntry = tuple[str, str, str | None, int | None]


class Emulator:
    """Serve the Training API from memory, with faults on demand."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._initial = replace(config)
        self.config = replace(config)
        self.state = State()
        self.faults = Faults()
        # (method, path, operationId, status): operationId is None for picture
        # links and unknown routes, status is None for an answer lost on purpose.
        self.request_log: list[RequestLogEntry] = []
        self._secret = secrets.token_bytes(32)
        self._save_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if config.state_file and Path(config.state_file).exists():
            self.state.loads(Path(config.state_file).read_text(encoding="utf-8"))

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve in a daemon thread; port 0 picks a free port."""
        self._server = make_server(self.handle, host, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="customvision-emulator",
            daemon=True,
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """Return the base URL a client uses as CUSTOMVISION_ENDPOINT."""
        if self._server is None:
            raise RuntimeError("The emulator is not serving; call start() first.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and save the state file."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None
        self.save()

    def reset(self) -> None:
        """Empty the state, clear faults and the log, restore the first config."""
        self.state.clear()
        self.faults.clear()
        self.config = replace(self._initial)
        self.request_log.clear()

    def inject(
        self,
        status: int = 503,
        count: int = 1,
        operation: str | None = None,
        retry_after: int | None = None,
        code: str | None = None,
    ) -> None:
        """Answer the next `count` requests (of one operation, if named) with status.

        A status the service itself answers carries `code` in its body when given.
        """
        self.faults.inject(Fault(count, operation, status, retry_after, code))

    def drop_next(
        self, count: int = 1, operation: str | None = DROPPABLE_BY_CHANCE
    ) -> None:
        """Do the work of the next `count` requests, then close without answering."""
        self.faults.drop_next(Fault(count, operation))

    def fail_image(self, prediction_id: str, status: str) -> None:
        """Answer an error status for the prediction in the next batch naming it."""
        if status in promotions.SUCCESSES:
            raise ValueError(f"{status} is a success, not a failure to inject.")
        self.faults.fail_image(prediction_id, status)

    def seed_demo(self, now: datetime | None = None) -> dict[str, str]:
        """Add the demo projects; return their ids by kind."""
        return seed.demo(self.state, epoch_of(now, time.time()))

    def seed_synthetic(
        self, predictions: int = 100_000, tags: int = 200, boxes_per_image: int = 5
    ) -> str:
        """Add a large object-detection project for benchmarks; return its id."""
        return seed.synthetic(
            self.state, predictions, tags, boxes_per_image, time.time()
        )

    def save(self) -> None:
        """Write the state file atomically, when there is one."""
        if not self.config.state_file:
            return

        path = Path(self.config.state_file)
        with self._save_lock:
            text = self.state.dumps()
            with tempfile.NamedTemporaryFile(
                "w", dir=path.parent, prefix=f".{path.name}.", delete=False
            ) as file:
                file.write(text)
            os.replace(file.name, path)

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request as the service would, faults included."""
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)

        if request.path.startswith(images.BLOB_PREFIX):
            operation, response = None, self._blob(request)
        else:
            found = api.find(request.method, _api_path(request.path))
            operation = found[0].operation if found else None
            response = self._guarded(request, found)

        status = None if response.drop else response.status
        self.request_log.append((request.method, request.path, operation, status))
        return response

    def _guarded(
        self, request: Request, found: tuple[api.Route, dict[str, str]] | None
    ) -> Response:
        """Apply the gateway's checks and the faults, then the operation."""
        if not self._authorised(request.headers):
            return gateway_response(401, ACCESS_DENIED)
        wait = self.faults.wait_needed(self.config.rps_limit, time.monotonic())
        if wait is not None:
            message = f"Rate limit is exceeded. Try again in {wait} seconds."
            return gateway_response(429, message, wait)

        operation = found[0].operation if found else None
        fault = self.faults.injection(operation)
        if fault is not None:
            return _fault_response(fault)
        if self.faults.fails(self.config.fail_rate):
            return gateway_response(503, "The service is temporarily unavailable.")
        if found is None:
            return error_response(ApiError(404, "NotFound", "No such resource."))

        response = self._answer(request, *found)
        drop_rate = self.config.drop_rate if operation == DROPPABLE_BY_CHANCE else 0.0
        response.drop = self.faults.drops(operation, drop_rate)
        return response

    def _answer(self, request: Request, route: api.Route, params: dict) -> Response:
        now = time.time()
        links = Links(
            self._secret,
            request.base_url,
            self.config.uri_ttl,
            self.config.relative_uris,
            now,
        )
        call = api.Call(
            self.state,
            self.faults,
            self.config,
            links,
            request.query,
            request.body,
            now,
        )
        try:
            response = route.answer(call, **params)
        except ApiError as error:
            return error_response(error)

        if route.operation in api.MUTATING:
            self.save()
        return response

    def _blob(self, request: Request) -> Response:
        now = time.time()
        refusal = images.refusal(self._secret, request.path, request.query, now)
        if refusal:
            return _storage_error(403, "AuthenticationFailed", refusal)

        blob_name = request.path.removeprefix(images.BLOB_PREFIX)
        project_id, _, artifact = blob_name.partition("/")
        try:
            return api.picture(self.state, project_id, artifact, now)
        except ApiError:
            return _storage_error(404, "BlobNotFound", "The blob does not exist.")

    def _authorised(self, headers: Message) -> bool:
        key = headers.get("Training-Key") or ""
        return hmac.compare_digest(key.encode(), self.config.training_key.encode())


def _api_path(path: str) -> str:
    prefix = limits.API_PREFIX + "/"
    return path[len(limits.API_PREFIX) :] if path.startswith(prefix) else ""


def _fault_response(fault: Fault) -> Response:
    if fault.status in GATEWAY_STATUSES:
        retry_after = fault.retry_after or (1 if fault.status == 429 else None)
        message = HTTPStatus(fault.status).phrase
        return gateway_response(fault.status, message, retry_after)

    code = fault.code or SERVICE_CODES.get(fault.status, "ErrorUnknown")
    return error_response(ApiError(fault.status, code, "An injected failure."))


def _storage_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(status, body.encode(), "application/xml")
