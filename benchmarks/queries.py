"""Count the SQL queries of opening a review item and of deciding on it.

Shared by P2's benchmark and the query budget test, so both measure the same thing.
"""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.load_review import Card

# Transaction control is not a query: SQLite logs it, PostgreSQL's driver does not.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def review_queries(client: Client, project_id) -> tuple[list[str], list[str]]:
    """Open the project's first item and accept it; return each step's queries.

    The client must be logged in as someone who may review. The queue is filtered to
    items with a confident box, which the review screen shows and so can accept.
    """
    start_url = reverse("reviewer:review-start", args=[project_id])
    start = client.get(start_url, {"min_probability": 0.9})
    item_url = start["Location"]
    page = _queries(client, "get", item_url)
    card = Card.read(client.get(item_url).content.decode())
    decision = _queries(
        client,
        "post",
        card.action,
        data={"action": "accept", "version": card.version, "labels": card.labels},
        headers={"HX-Request": "true"},
    )
    return page, decision


def _queries(client: Client, method: str, url: str, **options) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **options)
    if response.status_code != 200:
        raise AssertionError(f"{method} {url}: {response.status_code}")
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(TRANSACTION_CONTROL)
    ]
