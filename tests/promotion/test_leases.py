"""A batch a live worker holds is left alone; once the worker is gone, it is taken."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from reviewer.models import Batch, PromotionRun
from reviewer.services import locks
from reviewer.services.promotion import claim_batch, plan

pytestmark = pytest.mark.django_db(transaction=True)


def planned_batch(approved, lead) -> Batch:
    run = PromotionRun.objects.create(project=approved.project, requested_by=lead)
    plan(run, timezone.now())
    return Batch.objects.get(run=run)


def hold_elsewhere(batch: Batch) -> psycopg.Connection:
    """Take the batch's advisory lock from another session, as a live worker does."""
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
        autocommit=True,
    )
    other.execute(
        "SELECT pg_advisory_lock(%s, %s)", locks.advisory_key("batch", batch.pk)
    )
    return other


def test_a_live_workers_batch_is_taken_only_once_that_worker_is_gone(
    approved, lead, settings
):
    batch = planned_batch(approved, lead)
    now = timezone.now()
    lease = timedelta(seconds=settings.PROMOTION_LEASE_SECONDS)
    Batch.objects.filter(pk=batch.pk).update(
        worker="elsewhere:1:live", lease_expires_at=now + lease
    )

    if connection.vendor == "postgresql":
        # The database sees the holder's session: its death frees the batch at once.
        holder = hold_elsewhere(batch)
        refused = claim_batch(approved.project, "here:2:new", now)
        holder.close()
        taken = claim_batch(approved.project, "here:2:new", now)
    else:
        refused = claim_batch(approved.project, "here:2:new", now)
        taken = claim_batch(approved.project, "here:2:new", now + lease * 1.1)

    assert refused is None
    assert taken.pk == batch.pk
    assert taken.worker == "here:2:new"
