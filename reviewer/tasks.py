"""Background entry points (django-tasks); each calls one service function."""

from contextlib import closing

from django_tasks import task

from reviewer.customvision.client import client_from_settings
from reviewer.customvision.errors import CustomVisionError
from reviewer.models import PromotionRun, SyncRun
from reviewer.services.promotion import RunStopped, execute_run, queue_promotion
from reviewer.services.sync import run_sync_run


@task()
def run_sync(run_id: int) -> None:
    """Run a queued sync; a service failure is recorded on the run, not raised."""
    run = SyncRun.objects.select_related("project").get(pk=run_id)
    with closing(client_from_settings()) as client:
        try:
            run_sync_run(client, run)
        except CustomVisionError:
            return


@task()
def run_promotion(run_id: int) -> None:
    """Run a queued promotion; a stop is recorded on the run, not raised."""
    run = PromotionRun.objects.select_related("project").get(pk=run_id)
    with closing(client_from_settings()) as client:
        try:
            execute_run(client, run)
        except RunStopped:
            return


@task()
def resume_promotion(run_id: int) -> None:
    """Promote a run's project again for its requester, if the run's worker died.

    queue_promotion closes the run when its worker is gone and starts a new one; a
    run whose worker is alive is still active, and is left as it is.
    """
    run = PromotionRun.objects.select_related("project", "requested_by").get(pk=run_id)
    queue_promotion(run.project, run.requested_by, run.only_retries)
