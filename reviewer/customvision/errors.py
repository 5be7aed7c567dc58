"""Typed failures of Custom Vision calls; callers never parse response bodies."""

import json

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

# A gateway that gave up, or a server that failed midway, may have done the work.
OUTCOME_UNKNOWN_STATUSES = frozenset({500, 502, 504})

SNIPPET_LENGTH = 200


class CustomVisionError(Exception):
    """Raise when a call to Custom Vision did not give the expected answer."""

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        code: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status = status
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        status = "no answer" if self.status is None else f"HTTP {self.status}"
        code = f" {self.code}" if self.code else ""
        return f"{self.operation or 'Custom Vision'}: {status}{code}: {self.message}"


class AuthenticationError(CustomVisionError):
    """Raise when the key is wrong or lacks access (401, 403)."""


class NotFoundError(CustomVisionError):
    """Raise when a project, tag, iteration or image does not exist (404)."""


class BadRequestError(CustomVisionError):
    """Raise when the service refused the request as sent (400, other 4xx)."""


class ThrottledError(CustomVisionError):
    """Raise when the service asks us to slow down (429)."""


class ServiceError(CustomVisionError):
    """Raise when the service failed on its side (5xx)."""


class TransportError(CustomVisionError):
    """Raise when no HTTP answer arrived: connection failure or timeout."""


class MalformedResponseError(CustomVisionError):
    """Raise when an answer is not of the shape the contract promises."""


def parse_error_body(text: str) -> tuple[str, str]:
    """Return the code and message of an error body, in either shape."""
    try:
        body = json.loads(text)
    except ValueError:
        return "", snippet(text)

    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]

    if not isinstance(body, dict):
        return "", snippet(text)

    code, message = body.get("code"), body.get("message")
    return (
        code if isinstance(code, str) else "",
        message if isinstance(message, str) else snippet(text),
    )


def snippet(text: str) -> str:
    """Return the text on one line, trimmed to a readable length."""
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_LENGTH:
        return flat or "(empty body)"

    return flat[:SNIPPET_LENGTH] + "…"


def error_for_status(
    status: int,
    body: str,
    *,
    operation: str,
    retry_after: float | None = None,
) -> CustomVisionError:
    """Build the typed error for an unexpected HTTP status and its body."""
    code, message = parse_error_body(body)
    return _error_class(status)(
        message,
        operation=operation,
        status=status,
        code=code,
        retryable=status in RETRYABLE_STATUSES,
        retry_after=retry_after,
        outcome_unknown=status in OUTCOME_UNKNOWN_STATUSES,
    )


def _error_class(status: int) -> type[CustomVisionError]:
    """Pick the error class for an unexpected HTTP status."""
    if status in (401, 403):
        return AuthenticationError

    if status == 404:
        return NotFoundError

    if status == 429:
        return ThrottledError

    if 400 <= status < 500:
        return BadRequestError

    if status >= 500:
        return ServiceError

    return MalformedResponseError
