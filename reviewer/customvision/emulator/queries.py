"""QueryPredictions: filter, order and page a project's stored predictions."""

import base64
import binascii
import itertools
import json
import secrets
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from reviewer.customvision import limits
from reviewer.customvision.emulator.state import Prediction, State
from reviewer.customvision.emulator.wire import ApiError, parse_time

ORDER_KEYS: dict[str, Callable[[Prediction], tuple]] = {
    limits.ORDER_NEWEST: lambda p: (-p.created, p.id),
    limits.ORDER_OLDEST: lambda p: (p.created, p.id),
    # Most uncertain first: the top probability nearest 0.5, then the newest.
    limits.ORDER_SUGGESTED: lambda p: (round(abs(p.top - 0.5), 6), -p.created, p.id),
}
TOKEN_FIELDS = (
    "session",
    "continuation",
    "maxCount",
    "orderBy",
    "tags",
    "iterationId",
    "startTime",
    "endTime",
    "application",
)


@dataclass
class Query:
    """What a PredictionQueryToken asks for."""

    order: str
    page_size: int
    iteration_id: str | None = None
    start: float | None = None
    end: float | None = None
    tags: list[tuple[str, float, float]] = field(default_factory=list)
    after: tuple | None = None


def parse(token: object, page_size: int) -> Query:
    """Read a PredictionQueryToken, refusing what the service refuses."""
    if not isinstance(token, dict):
        raise _invalid("The body must be a PredictionQueryToken object.")

    order = token.get("orderBy") or limits.ORDER_NEWEST
    if order not in ORDER_KEYS:
        raise _invalid(f"Unknown orderBy {order!r}.")

    tags = token.get("tags") or []
    if len(tags) > limits.MAX_QUERY_TAG_FILTERS:
        raise ApiError(
            400,
            "BadRequestPredictionTagsExceededCount",
            f"At most {limits.MAX_QUERY_TAG_FILTERS} tags may filter predictions.",
        )

    try:
        return Query(
            order=order,
            page_size=_page_size(token.get("maxCount"), page_size),
            iteration_id=token.get("iterationId"),
            start=_time(token.get("startTime")),
            end=_time(token.get("endTime")),
            tags=[_tag_filter(tag) for tag in tags],
            after=_decode(token.get("continuation"), order),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise _invalid(f"The query token is not valid: {error}") from error


def run(
    state: State, project_id: str, query: Query, now: float
) -> tuple[list[Prediction], str | None]:
    """Return one page of matching predictions and the continuation after it."""
    key = ORDER_KEYS[query.order]
    ordered = state.ordering(project_id, query.order, key)
    start = 0
    if query.after is not None:
        start = _position_after(ordered, query.after, key)

    page: list[Prediction] = []
    for prediction in itertools.islice(ordered, start, None):
        if not _matches(state, prediction, query, now):
            continue
        if len(page) == query.page_size:
            return page, _encode(query.order, key(page[-1]))
        page.append(prediction)
    return page, None


def answer_token(token: dict, query: Query, continuation: str | None) -> dict:
    """Return the token to send back: every field, as sent or null."""
    answer = {name: token.get(name) for name in TOKEN_FIELDS}
    answer["session"] = token.get("session") or secrets.token_hex(4)
    answer["continuation"] = continuation
    answer["orderBy"] = query.order
    return answer


def _matches(state: State, prediction: Prediction, query: Query, now: float) -> bool:
    if prediction.expired(now):
        return False
    if query.iteration_id and prediction.iteration_id != query.iteration_id:
        return False
    if query.start is not None and prediction.created < query.start:
        return False
    if query.end is not None and prediction.created > query.end:
        return False
    if not query.tags:
        return True
    # No label beats the top one; skip deriving labels that cannot match.
    if all(low > prediction.top for _, low, _ in query.tags):
        return False

    # Like GetTaggedImages, several tags widen the search: any one may match.
    return any(
        label.tag_id == tag_id and low <= label.probability <= high
        for label in state.labels_of(prediction)
        for tag_id, low, high in query.tags
    )


def _position_after(
    ordered: list[Prediction], after: tuple, key: Callable[[Prediction], tuple]
) -> int:
    # Resume after the last key sent, so inserts and deletes shift nothing.
    try:
        return bisect_right(ordered, after, key=key)
    except TypeError as error:
        raise _invalid("The continuation is not valid.") from error


def _page_size(max_count: object, page_size: int) -> int:
    if max_count is None or int(max_count) <= 0:
        return page_size
    return min(page_size, int(max_count))


def _tag_filter(tag: dict) -> tuple[str, float, float]:
    low, high = tag.get("minThreshold"), tag.get("maxThreshold")
    return (
        str(tag["id"]),
        0.0 if low is None else float(low),
        1.0 if high is None else float(high),
    )


def _time(text: str | None) -> float | None:
    return None if text is None else parse_time(text)


def _encode(order: str, key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps([order, key]).encode()).decode()


def _decode(continuation: str | None, order: str) -> tuple | None:
    if not continuation:
        return None

    sent_order, key = json.loads(base64.urlsafe_b64decode(continuation))
    if sent_order != order:
        raise ValueError("the continuation belongs to another order")
    return tuple(key)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "BadRequestPredictionInvalidQueryParameters", message)
