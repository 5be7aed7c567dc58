"""The review page and a decision each take a few queries, however big the project."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.fixtures.projects import sync

# Requests run outside a transaction, as in production: a service's atomic block is
# then the outermost one and costs no SAVEPOINT statements.
pytestmark = pytest.mark.django_db(transaction=True)

BUDGET = 10
HTMX = {"HX-Request": "true"}
# Transaction control is not a query: SQLite logs it, PostgreSQL's driver does not.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _queries(client, method: str, url: str, **options) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **options)
    assert response.status_code == 200, response.content[:500]
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(TRANSACTION_CONTROL)
    ]


def _review_and_decide(client, emulator, cv_client, predictions: int):
    """Count the queries of opening the first item and accepting it."""
    project = sync(cv_client, emulator.seed_synthetic(predictions, 20, 5))
    start = client.get(reverse("reviewer:review-start", args=[project.pk]))
    item_url = start["Location"]

    page = _queries(client, "get", item_url)
    editor = client.get(item_url).context["editor"]
    labels = json.dumps(
        [
            {key: label[key] for key in ("tag", "source", "box")}
            for label in editor["labels"]
        ]
    )
    decision = _queries(
        client,
        "post",
        item_url + "decide",
        data={"action": "accept", "version": 0, "labels": labels},
        headers=HTMX,
    )
    return page, decision


def test_it_opens_and_decides_an_item_in_a_fixed_few_queries(
    client, annotator, emulator, cv_client, cv_settings
):
    client.force_login(annotator)

    small = _review_and_decide(client, emulator, cv_client, 10)
    large = _review_and_decide(client, emulator, cv_client, 200)

    for name, few, many in zip(("page", "decision"), small, large, strict=True):
        assert len(many) <= BUDGET, "\n".join([name, *many])
        assert len(few) == len(many), "\n".join([name, *few, "--", *many])
