"""Typed errors built from statuses and both error body shapes."""

import pytest

from reviewer.customvision.errors import (
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
    NotFoundError,
    ServiceError,
    ThrottledError,
    error_for_status,
    parse_error_body,
)


def test_it_reads_the_service_error_shape():
    body = '{"code": "NotFoundProject", "message": "Project not found"}'

    assert parse_error_body(body) == ("NotFoundProject", "Project not found")


def test_it_reads_the_gateway_error_shape():
    body = '{"error": {"code": "429", "message": "Rate limit is exceeded."}}'

    assert parse_error_body(body) == ("429", "Rate limit is exceeded.")


def test_it_gives_a_trimmed_snippet_for_a_body_that_is_not_json():
    code, message = parse_error_body("<html>\r\n<b>Bad Gateway</b>" + "x" * 500)

    assert code == ""
    assert message.startswith("<html> <b>Bad Gateway</b>")
    assert len(message) <= 201


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, BadRequestError, False),
        (401, AuthenticationError, False),
        (403, AuthenticationError, False),
        (404, NotFoundError, False),
        (409, BadRequestError, False),
        (429, ThrottledError, True),
        (500, ServiceError, True),
        (501, ServiceError, False),
        (503, ServiceError, True),
        (302, MalformedResponseError, False),
    ],
)
def test_it_picks_the_error_kind_and_retryability_by_status(status, kind, retryable):
    error = error_for_status(status, "", operation="GetProjects")

    assert type(error) is kind
    assert error.retryable is retryable
    assert error.status == status
    assert "GetProjects" in str(error)


def test_it_says_a_gateway_timeout_may_have_done_the_work():
    assert error_for_status(504, "", operation="X").outcome_unknown
    assert not error_for_status(503, "", operation="X").outcome_unknown
    assert not error_for_status(400, "", operation="X").outcome_unknown
