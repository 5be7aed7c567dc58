"""Pull stored predictions into the cache, page by page, without touching reviews."""

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from reviewer.customvision import limits, types
from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.errors import CustomVisionError
from reviewer.models import (
    Iteration,
    PredictedLabel,
    Prediction,
    Project,
    Review,
    SyncRun,
    Tag,
)

logger = logging.getLogger(__name__)

# A stored prediction's time has 100 ns precision; a window this wide finds just it.
ONE_PREDICTION = timedelta(milliseconds=1)


def queue_sync(project: Project, user=None) -> SyncRun:
    """Queue a sync of the project unless one is already queued or running."""
    from reviewer.tasks import run_sync

    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        active = active_sync(project)
        if active:
            return active

        run = SyncRun.objects.create(project=project, requested_by=user)
        transaction.on_commit(lambda: run_sync.enqueue(run.pk))
    return run


def run_sync_run(
    client: CustomVisionClient,
    run: SyncRun,
    progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Page through the project's new stored predictions and store each page."""
    project = run.project
    run.window_start = project.predictions.aggregate(newest=Max("created"))["newest"]
    run.status = SyncRun.Status.RUNNING
    run.started_at = timezone.now()
    run.save()

    try:
        pages = client.query_predictions(
            str(project.id),
            start_time=run.window_start,
            order_by=limits.ORDER_OLDEST,
        )
        for page in pages:
            _record_page(run, store_predictions(project, page.predictions))
            if progress:
                progress(run)
    except CustomVisionError as error:
        _finish(run, SyncRun.Status.FAILED, error=str(error))
        raise

    _finish(run, SyncRun.Status.SUCCEEDED)
    return run


def _record_page(run: SyncRun, page: "StoredPage") -> None:
    run.pages += 1
    run.seen += page.seen
    run.added += page.added
    run.reached = max(filter(None, (run.reached, page.newest)), default=None)
    run.save(update_fields=["pages", "seen", "added", "reached"])


def _finish(run: SyncRun, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    if status == SyncRun.Status.SUCCEEDED:
        Project.objects.filter(pk=run.project_id).update(last_synced_at=run.finished_at)
    logger.info(
        "sync %s of project %s: %s, %d pages, %d seen, %d added",
        run.pk,
        run.project_id,
        status,
        run.pages,
        run.seen,
        run.added,
    )


class StoredPage:
    """What storing one page did."""

    def __init__(self, seen: int, added: int, newest: datetime | None) -> None:
        self.seen = seen
        self.added = added
        self.newest = newest


@transaction.atomic
def store_predictions(
    project: Project, predictions: Iterable[types.StoredPrediction]
) -> StoredPage:
    """Add new predictions with their labels and reviews; refresh known links."""
    predictions = list(predictions)
    now = timezone.now()
    known = set(
        Prediction.objects.filter(
            id__in=[uuid.UUID(item.id) for item in predictions]
        ).values_list("id", flat=True)
    )
    new = [item for item in predictions if uuid.UUID(item.id) not in known]

    _add_missing_tags(project, [label for item in new for label in item.labels], now)
    _add_missing_iterations(project, {item.iteration_id for item in new})
    Prediction.objects.bulk_create(_prediction_row(project, item, now) for item in new)
    PredictedLabel.objects.bulk_create(
        _label_row(item.id, label) for item in new for label in item.labels
    )
    Review.objects.bulk_create(
        Review(prediction_id=item.id, project=project) for item in new
    )
    Prediction.objects.bulk_update(
        [
            _prediction_row(project, item, now)
            for item in predictions
            if uuid.UUID(item.id) in known
        ],
        fields=_LINK_FIELDS,
    )
    newest = max((item.created for item in predictions), default=None)
    return StoredPage(seen=len(predictions), added=len(new), newest=newest)


_LINK_FIELDS = [
    "thumbnail_uri",
    "resized_image_uri",
    "original_image_uri",
    "uris_fetched_at",
]


def _prediction_row(
    project: Project, item: types.StoredPrediction, now: datetime
) -> Prediction:
    return Prediction(
        id=item.id,
        project=project,
        iteration_id=item.iteration_id,
        created=item.created,
        thumbnail_uri=item.thumbnail_uri or "",
        resized_image_uri=item.resized_image_uri or "",
        original_image_uri=item.original_image_uri or "",
        uris_fetched_at=now,
        uncertainty=min(
            (abs(label.probability - 0.5) for label in item.labels), default=0.5
        ),
    )


def _label_row(prediction_id: str, label: types.PredictedLabel) -> PredictedLabel:
    box = label.box
    return PredictedLabel(
        prediction_id=prediction_id,
        tag_id=label.tag_id,
        probability=label.probability,
        left=box.left if box else None,
        top=box.top if box else None,
        width=box.width if box else None,
        height=box.height if box else None,
    )


def _add_missing_tags(
    project: Project, labels: list[types.PredictedLabel], now: datetime
) -> None:
    """Keep tags the service deleted since it made the predictions, marked removed."""
    names = {label.tag_id: label for label in labels}
    known = {
        str(tag_id)
        for tag_id in Tag.objects.filter(id__in=list(names)).values_list(
            "id", flat=True
        )
    }
    Tag.objects.bulk_create(
        Tag(
            id=tag_id,
            project=project,
            name=label.tag_name or f"Removed tag {tag_id[:8]}",
            type=label.tag_type or limits.TAG_REGULAR,
            removed_at=now,
        )
        for tag_id, label in names.items()
        if tag_id not in known
    )


def _add_missing_iterations(project: Project, iteration_ids: set[str]) -> None:
    """Keep iterations the service deleted since, so predictions still point at one."""
    Iteration.objects.bulk_create(
        [
            Iteration(id=iteration_id, project=project, name="Deleted iteration")
            for iteration_id in iteration_ids
        ],
        ignore_conflicts=True,
    )


def refresh_image_links(client: CustomVisionClient, prediction: Prediction) -> bool:
    """Fetch fresh signed links for one prediction; False when the service lost it."""
    pages = client.query_predictions(
        str(prediction.project_id),
        start_time=prediction.created - ONE_PREDICTION,
        end_time=prediction.created + ONE_PREDICTION,
    )
    for page in pages:
        for item in page.predictions:
            if uuid.UUID(item.id) == prediction.id:
                store_predictions(prediction.project, [item])
                prediction.refresh_from_db()
                return True

    prediction.removed_at = timezone.now()
    prediction.save(update_fields=["removed_at"])
    return False


def active_sync(project: Project) -> SyncRun | None:
    """Return the project's queued or running sync, if any."""
    return project.sync_runs.filter(
        status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
    ).first()
