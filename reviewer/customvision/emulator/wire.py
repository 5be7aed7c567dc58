"""How the emulator's answers look on the wire: JSON, times and error bodies."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

TICKS_PER_SECOND = 10_000_000


@dataclass
class Response:
    """An answer to send, or to swallow when `drop` asks to lose it."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class ApiError(Exception):
    """A refusal the service itself reports with a CustomVisionError body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def json_response(
    status: int, payload: object, headers: dict[str, str] | None = None
) -> Response:
    """Answer with pretty-printed JSON and CRLF line ends, as the live service does."""
    text = json.dumps(payload, indent=2, ensure_ascii=False).replace("\n", "\r\n")
    return Response(status, text.encode(), headers=headers or {})


def error_response(error: ApiError) -> Response:
    """Answer with the service's own error body."""
    return json_response(error.status, {"code": error.code, "message": error.message})


def gateway_response(
    status: int, message: str, retry_after: int | None = None
) -> Response:
    """Answer as the gateway in front of the service does, with an `error` object."""
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    body = {"error": {"code": str(status), "message": message}}
    return json_response(status, body, headers)


def ticks_time(epoch: float) -> str:
    """Format a time with no zone and seven fractional digits."""
    seconds, ticks = divmod(round(epoch * TICKS_PER_SECOND), TICKS_PER_SECOND)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ticks:07d}"


def zulu_time(epoch: float) -> str:
    """Format a time in UTC with milliseconds and a `Z`."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def epoch_of(moment: datetime | None, default: float) -> float:
    """Return a datetime as epoch seconds; one without a zone is UTC."""
    if moment is None:
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_time(text: str) -> float:
    """Read an ISO 8601 time as epoch seconds; one without a zone is UTC."""
    return epoch_of(datetime.fromisoformat(text), 0.0)
