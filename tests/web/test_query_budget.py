"""The review page and a decision each take a few queries, however big the project.

This is the small form of benchmark P2's query count (`python -m benchmarks.review`).
"""

import pytest

from benchmarks.queries import review_queries
from tests.fixtures.projects import sync

# Requests run outside a transaction, as in production: a service's atomic block is
# then the outermost one and costs no SAVEPOINT statements.
pytestmark = pytest.mark.django_db(transaction=True)

BUDGET = 10


def test_it_opens_and_decides_an_item_in_a_fixed_few_queries(
    client, annotator, emulator, cv_client, cv_settings
):
    client.force_login(annotator)

    small = sync(cv_client, emulator.seed_synthetic(10, 20, 5))
    few = review_queries(client, small.pk)
    large = sync(cv_client, emulator.seed_synthetic(200, 20, 5))
    many = review_queries(client, large.pk)

    for name, at_few, at_many in zip(("page", "decision"), few, many, strict=True):
        assert len(at_many) <= BUDGET, "\n".join([name, *at_many])
        assert len(at_few) == len(at_many), "\n".join([name, *at_few, "--", *at_many])
