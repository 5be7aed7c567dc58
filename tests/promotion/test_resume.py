"""A worker that starts resumes the promotions a dead worker left running."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reviewer.models import PromotionRun, ReviewState
from reviewer.services.promotion import resume_abandoned_promotions
from tests.promotion.helpers import states, training_set

pytestmark = pytest.mark.django_db(transaction=True)


def abandoned_run(project, lead, lease_left: timedelta) -> PromotionRun:
    """A run its worker was killed in, before it sent anything."""
    return PromotionRun.objects.create(
        project=project,
        requested_by=lead,
        status=PromotionRun.Status.RUNNING,
        started_at=timezone.now(),
        worker="gone:1:abc",
        lease_expires_at=timezone.now() + lease_left,
    )


def test_a_starting_worker_promotes_what_a_dead_worker_left(
    emulator, approved, lead, settings, capsys
):
    settings.PROMOTION_RATE = 1000
    project = approved.project
    dead = abandoned_run(project, lead, lease_left=-timedelta(seconds=1))

    call_command("db_worker", batch=True, startup_delay=False, reload=False)

    dead.refresh_from_db()
    assert dead.status == PromotionRun.Status.STOPPED
    resumed = PromotionRun.objects.exclude(pk=dead.pk).get()
    assert resumed.status == PromotionRun.Status.FINISHED
    assert resumed.requested_by == lead
    assert states(project) == {ReviewState.PROMOTED}
    assert training_set(emulator, project) == sorted(approved.predictions)
    assert "Resuming 1 promotions" in capsys.readouterr().out


def test_a_run_within_its_lease_is_looked_at_again_once_its_worker_is_gone(
    approved, lead
):
    run = abandoned_run(approved.project, lead, lease_left=timedelta(minutes=4))
    before = timezone.now()

    assert resume_abandoned_promotions() == 1

    (task,) = DBTaskResult.objects.filter(task_path__endswith="resume_promotion")
    assert task.args_kwargs["args"] == [run.pk]
    if connection.vendor == "postgresql":
        # No session holds the run's advisory lock: its worker is known to be gone.
        assert before <= task.run_after <= timezone.now()
    else:
        assert task.run_after == run.lease_expires_at
