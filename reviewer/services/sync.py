"""Pull stored predictions into the cache, page by page, without touching reviews."""

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import connection, transaction
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
from reviewer.services import locks, outages
from reviewer.services.rows import insert_rows, update_rows

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A stored prediction's time has 100 ns precision; a window this wide finds just it.
ONE_PREDICTION = timedelta(milliseconds=1)
# A running sync whose worker stored no page for this long is taken as dead.
LEASE = timedelta(minutes=5)
WORKER_STOPPED = (
    "Its worker stopped; the next sync resumes from the newest stored prediction."
)


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
    """Page through the project's new stored predictions and store each page.

    A full run pages through every stored prediction instead, and then marks the
    cached ones the service no longer keeps (deleted, or promoted elsewhere).
    """
    project = run.project
    if not run.full:
        newest = project.predictions.aggregate(newest=Max("created"))
        run.window_start = newest["newest"]
    run.status = SyncRun.Status.RUNNING
    run.started_at = timezone.now()
    run.lease_expires_at = run.started_at + LEASE
    run.save()

    locks.take("sync", run.pk)
    try:
        pages = client.query_predictions(
            str(project.id),
            start_time=run.window_start,
            order_by=limits.ORDER_OLDEST,
        )
        present = Present()
        kept: set[uuid.UUID] = set()
        for page in _fetched_ahead(pages):
            # The page and the run's progress commit together, once a page.
            with transaction.atomic():
                _commit_without_waiting_for_disk()
                _record_page(run, store_predictions(project, page.predictions, present))
            if run.full:
                kept.update(uuid.UUID(item.id) for item in page.predictions)
            if progress:
                progress(run)
        if run.full:
            run.removed = _mark_removed(project, kept, before=run.started_at)
            run.save(update_fields=["removed"])
    except Exception as error:
        _finish(run, SyncRun.Status.FAILED, error=_failure(error))
        if isinstance(error, CustomVisionError):
            outages.record(Project.objects.filter(pk=project.pk), error)
        raise
    finally:
        locks.drop("sync", run.pk)

    _finish(run, SyncRun.Status.SUCCEEDED)
    return run


def _mark_removed(project: Project, kept: set[uuid.UUID], before: datetime) -> int:
    """Mark the cached predictions the service did not list; return how many."""
    cached = Prediction.objects.filter(
        project=project, removed_at=None, created__lt=before
    ).values_list("pk", flat=True)
    gone = [pk for pk in cached.iterator(chunk_size=5000) if pk not in kept]
    update_rows(Prediction, gone, removed_at=timezone.now())
    return len(gone)


def _failure(error: Exception) -> str:
    if isinstance(error, CustomVisionError):
        return outages.explain(error)
    logger.exception("sync stopped by an unexpected error")
    return (
        f"The sync stopped on an unexpected error ({type(error).__name__}); "
        "the next sync resumes from the newest stored prediction."
    )


def _commit_without_waiting_for_disk() -> None:
    """Let PostgreSQL commit this transaction before its WAL reaches the disk.

    A page lost to a crash in the next fraction of a second is only fetched again by
    the next sync, which resumes from the newest stored prediction; the transaction
    stays atomic either way.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _fetched_ahead(pages: Iterator[T]) -> Iterator[T]:
    """Fetch the next page while the caller stores this one; hold at most two."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-fetch") as pool:
        pending = pool.submit(next, pages, None)
        while (page := pending.result()) is not None:
            pending = pool.submit(next, pages, None)
            yield page


def _record_page(run: SyncRun, page: "StoredPage") -> None:
    run.pages += 1
    run.seen += page.seen
    run.added += page.added
    run.reached = max(filter(None, (run.reached, page.newest)), default=None)
    run.lease_expires_at = timezone.now() + LEASE
    run.save(update_fields=["pages", "seen", "added", "reached", "lease_expires_at"])


def _finish(run: SyncRun, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    if status == SyncRun.Status.SUCCEEDED:
        Project.objects.filter(pk=run.project_id).update(
            last_synced_at=run.finished_at, service_error="", service_error_at=None
        )
    logger.info(
        "sync %s of project %s: %s, %d pages, %d seen, %d added, %d removed",
        run.pk,
        run.project_id,
        status,
        run.pages,
        run.seen,
        run.added,
        run.removed,
    )


class StoredPage:
    """What storing one page did."""

    def __init__(self, seen: int, added: int, newest: datetime | None) -> None:
        self.seen = seen
        self.added = added
        self.newest = newest


@dataclass
class Present:
    """Ids of tags and iterations known to be in the cache, kept across pages."""

    tags: set[str] = field(default_factory=set)
    iterations: set[str] = field(default_factory=set)


# Inside a sync's own transaction a savepoint would cost two more statements a page.
@transaction.atomic(savepoint=False)
def store_predictions(
    project: Project,
    predictions: Iterable[types.StoredPrediction],
    present: Present | None = None,
) -> StoredPage:
    """Add new predictions with their labels and reviews; refresh known links."""
    present = present or Present()
    predictions = list(predictions)
    now = timezone.now()
    known = set(
        Prediction.objects.filter(
            id__in=[uuid.UUID(item.id) for item in predictions]
        ).values_list("id", flat=True)
    )
    new = [item for item in predictions if uuid.UUID(item.id) not in known]

    labels = [label for item in new for label in item.labels]
    _add_missing_tags(project, labels, now, present.tags)
    _add_missing_iterations(project, {item.iteration_id for item in new}, present)
    insert_rows(
        Prediction,
        _PREDICTION_COLUMNS,
        [_prediction_values(project, item, now) for item in new],
    )
    insert_rows(
        PredictedLabel,
        _LABEL_COLUMNS,
        [_label_values(item.id, label) for item in new for label in item.labels],
    )
    insert_rows(
        Review,
        ["prediction_id", "project_id", "uncertainty", "predicted_at"],
        [(item.id, project.pk, _uncertainty(item), item.created) for item in new],
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


_PREDICTION_COLUMNS = [
    "id",
    "project_id",
    "iteration_id",
    "created",
    *("thumbnail_uri", "resized_image_uri", "original_image_uri", "uris_fetched_at"),
]


def _prediction_values(
    project: Project, item: types.StoredPrediction, now: datetime
) -> tuple:
    return (
        item.id,
        project.pk,
        item.iteration_id,
        item.created,
        item.thumbnail_uri or "",
        item.resized_image_uri or "",
        item.original_image_uri or "",
        now,
    )


def _uncertainty(item: types.StoredPrediction) -> float:
    return min((abs(label.probability - 0.5) for label in item.labels), default=0.5)


_LABEL_COLUMNS = [
    "prediction_id",
    "tag_id",
    "probability",
    *("left", "top", "width", "height"),
]


def _label_values(prediction_id: str, label: types.PredictedLabel) -> tuple:
    box = label.box
    if box is None:
        return (prediction_id, label.tag_id, label.probability, None, None, None, None)
    return (
        prediction_id,
        label.tag_id,
        label.probability,
        box.left,
        box.top,
        box.width,
        box.height,
    )


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
    )


def _add_missing_tags(
    project: Project,
    labels: list[types.PredictedLabel],
    now: datetime,
    present: set[str],
) -> None:
    """Keep tags the service deleted since it made the predictions, marked removed."""
    names = {label.tag_id: label for label in labels if label.tag_id not in present}
    if not names:
        return
    present.update(names)
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


def _add_missing_iterations(
    project: Project, iteration_ids: set[str], present: Present
) -> None:
    """Keep iterations the service deleted since, so predictions still point at one."""
    missing = iteration_ids - present.iterations
    if not missing:
        return
    present.iterations.update(missing)
    Iteration.objects.bulk_create(
        [
            Iteration(id=iteration_id, project=project, name="Deleted iteration")
            for iteration_id in missing
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
    """Return the project's queued or running sync; close one whose worker died."""
    run = project.sync_runs.filter(
        status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
    ).first()
    if run is None or run.status == SyncRun.Status.QUEUED:
        return run
    lapsed = run.lease_expires_at is None or run.lease_expires_at < timezone.now()
    if lapsed or locks.holder_is_gone("sync", run.pk):
        _finish(run, SyncRun.Status.FAILED, error=WORKER_STOPPED)
        return None
    return run
