"""Promote approved items into the training set, exactly once, recording every outcome.

A run plans batches from the approved items (pre-flight, pack, write), then sends each
batch. A batch is written before it is sent and marked sent before the call, so a
crash at any moment leaves a record that says what may have happened; a batch left
"sent" is sent again as it was, and the service answers OKDuplicate for images it
already created.
"""

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from reviewer.customvision import limits
from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.errors import (
    AuthenticationError,
    BadRequestError,
    CustomVisionError,
    NotFoundError,
    ThrottledError,
)
from reviewer.customvision.types import CreateSummary, ImageBatch
from reviewer.models import (
    RETENTION,
    ApprovedLabel,
    Batch,
    Outcome,
    Project,
    PromotionRun,
    Review,
    ReviewState,
    Tag,
)
from reviewer.services import locks, outages
from reviewer.services.packing import PackItem, pack
from reviewer.services.projects import ProjectNotFound, sync_projects
from reviewer.services.rows import insert_rows, update_rows

logger = logging.getLogger(__name__)

PROMOTED_STATUSES = {limits.STATUS_OK, limits.STATUS_OK_DUPLICATE}
RETRY_STATUSES = {limits.STATUS_ERROR_STORAGE, limits.STATUS_ERROR_UNKNOWN}
FIX_STATUSES = {
    limits.STATUS_ERROR_TAG_LIMIT_EXCEED,
    limits.STATUS_ERROR_REGION_LIMIT_EXCEED,
    limits.STATUS_ERROR_NEGATIVE_AND_REGULAR,
}
# Items within this of the service's 30 days are not sent: it may delete them first.
EXPIRY_MARGIN = timedelta(hours=1)
NEAR_EXPIRY = timedelta(days=3)
# Attempts at one call before its images wait for "Retry failed".
MAX_ATTEMPTS = 5
# Passes over one image in one run before its retryable failures wait too.
MAX_PASSES = 3


class RunStopped(Exception):
    """The whole run cannot go on: a configuration mistake, not the items' fault."""


def kind_of(status: str) -> str:
    """Sort a service status into promoted, retry later, fix, or terminal."""
    if status in PROMOTED_STATUSES:
        return Outcome.Kind.PROMOTED
    if status in RETRY_STATUSES:
        return Outcome.Kind.RETRY
    if status in FIX_STATUSES:
        return Outcome.Kind.FIX
    return Outcome.Kind.TERMINAL


def preflight(
    review: Review,
    labels: "list[ApprovedLabel] | list[SentLabel]",
    tags: dict[UUID, Tag],
    now: datetime,
) -> tuple[str, str] | None:
    """Check one item against the service's rules; return (kind, reason) if it fails."""
    project = review.project
    expired = review.predicted_at + RETENTION - EXPIRY_MARGIN <= now
    if expired or review.prediction.removed_at:
        return Outcome.Kind.TERMINAL, "The service no longer keeps this prediction."
    if not labels:
        return Outcome.Kind.FIX, "It has no approved tag or box."

    used = {label.tag_id for label in labels}
    missing = [str(tag_id) for tag_id in used if tags.get(tag_id) is None]
    if missing:
        return Outcome.Kind.FIX, "A tag it uses was deleted on the service."
    if len(used) > limits.MAX_BATCH_TAGS:
        return Outcome.Kind.FIX, f"It uses more than {limits.MAX_BATCH_TAGS} tags."
    limit = (
        limits.MAX_REGIONS_PER_IMAGE
        if project.is_object_detection
        else limits.MAX_TAGS_PER_IMAGE
    )
    if len(labels) > limit:
        return Outcome.Kind.FIX, f"It has more than {limit} labels."
    negative = any(tags[tag_id].type == limits.TAG_NEGATIVE for tag_id in used)
    if negative and len(labels) > 1:
        return Outcome.Kind.FIX, "A negative tag goes with other tags."
    if project.is_object_detection and not all(map(_box_is_valid, labels)):
        return Outcome.Kind.FIX, "A box lies outside the image or has no size."
    return None


def _box_is_valid(label: "ApprovedLabel | SentLabel") -> bool:
    box = label.box
    if box is None:
        return False
    left, top, width, height = box
    return (
        left >= 0
        and top >= 0
        and width > 0
        and height > 0
        and left + width <= 1 + 1e-9
        and top + height <= 1 + 1e-9
    )


@dataclass(frozen=True)
class Manifest:
    """What a lead sees before promoting a project."""

    approved: int
    per_tag: list[tuple[str, int]]
    changed: int
    as_predicted: int
    bulk_accepted: int
    reviewers: list[tuple[str, int]]
    near_expiry: int
    problems: list[tuple[Review, str]]
    batches: int
    retryable: int

    @property
    def sendable(self) -> int:
        return self.approved - len(self.problems)


def manifest(project: Project, now: datetime) -> Manifest:
    """Summarise the project's approved items and run pre-flight on each."""
    reviews = list(
        Review.objects.filter(project=project, state=ReviewState.APPROVED)
        .select_related("prediction", "decided_by", "project")
        .prefetch_related("approved_labels")
    )
    tags = {tag.pk: tag for tag in project.tags.filter(removed_at=None)}
    names = dict(project.tags.values_list("pk", "name"))
    per_tag: Counter[str] = Counter()
    reviewers: Counter[str] = Counter()
    problems = []
    items = []
    for review in reviews:
        labels = list(review.approved_labels.all())
        per_tag.update({names.get(label.tag_id, "?") for label in labels})
        reviewers[review.decided_by.get_username() if review.decided_by else "—"] += 1
        failure = preflight(review, labels, tags, now)
        if failure:
            problems.append((review, failure[1]))
        else:
            items.append(_pack_item(review, labels))
    return Manifest(
        approved=len(reviews),
        per_tag=per_tag.most_common(),
        # A bulk accept only drops labels under its threshold: it changes nothing.
        changed=sum(review.changed and not review.bulk_accepted for review in reviews),
        as_predicted=sum(
            review.bulk_accepted or not review.changed for review in reviews
        ),
        bulk_accepted=sum(review.bulk_accepted for review in reviews),
        reviewers=reviewers.most_common(),
        near_expiry=sum(
            review.predicted_at + RETENTION - now < NEAR_EXPIRY for review in reviews
        ),
        problems=problems,
        batches=len(pack(items)),
        retryable=_retryable(project).count(),
    )


def _retryable(project: Project):
    last_retry = Outcome.objects.filter(review=OuterRef("pk"), kind=Outcome.Kind.RETRY)
    return Review.objects.filter(project=project, state=ReviewState.APPROVED).filter(
        Exists(last_retry)
    )


def _pack_item(
    review: Review, labels: "list[ApprovedLabel] | list[SentLabel]"
) -> PackItem:
    who = review.decided_by.get_username() if review.decided_by else "command line"
    how = "bulk accept" if review.bulk_accepted else "human review"
    group = (
        ("source", "prediction-reviewer"),
        ("approved_by", who[: limits.MAX_METADATA_VALUE_LENGTH]),
        ("approved_through", how),
    )
    return PackItem(
        key=review.pk,
        tag_ids=frozenset(str(label.tag_id) for label in labels),
        group=group,
    )


def queue_promotion(
    project: Project, user, only_retries: bool = False, enqueue: bool = True
) -> PromotionRun:
    """Queue a promotion of the project unless one is already under way."""
    from reviewer.tasks import run_promotion

    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        active = active_promotion(project)
        if active:
            return active
        run = PromotionRun.objects.create(
            project=project, requested_by=user, only_retries=only_retries
        )
        if enqueue:
            transaction.on_commit(lambda: run_promotion.enqueue(run.pk))
    return run


def active_promotion(project: Project) -> PromotionRun | None:
    """Return the project's queued or running promotion; close one whose worker died."""
    run = project.promotion_runs.filter(
        status__in=[PromotionRun.Status.QUEUED, PromotionRun.Status.RUNNING]
    ).first()
    if run is None or run.status == PromotionRun.Status.QUEUED:
        return run
    expired = run.lease_expires_at is None or run.lease_expires_at < timezone.now()
    if expired or locks.holder_is_gone("run", run.pk):
        _stop(run, "Its worker stopped; the next run resumes its batches.")
        return None
    return run


def resume_abandoned_promotions() -> int:
    """Queue again, for a starting worker, the promotions whose worker died.

    django-tasks never runs a dead worker's task again. Each running promotion gets
    a task that promotes its project anew once the run's worker is known to be gone:
    at once on PostgreSQL, else when its lease lapses. A run whose worker is alive
    keeps its lease, and the task then finds it active and leaves it be.
    """
    from reviewer.tasks import resume_promotion

    now = timezone.now()
    runs = list(PromotionRun.objects.filter(status=PromotionRun.Status.RUNNING))
    for run in runs:
        lapses = run.lease_expires_at or now
        due = now if locks.holder_is_gone("run", run.pk) else max(lapses, now)
        resume_promotion.using(run_after=due).enqueue(run.pk)
    return len(runs)


@dataclass
class Sender:
    """Send batches no faster than the service allows, sleeping when told to wait."""

    client: CustomVisionClient
    rate: float
    pause: Callable[[float], None] = time.sleep
    _last: float = 0.0
    _resume_at: float = 0.0

    def wait(self, pace: bool = True) -> None:
        """Sleep until any wait the service asked for, and the rate, allow a call."""
        due = max(self._last + 1 / self.rate, self._resume_at) if pace else 0.0
        gap = max(due, self._resume_at) - time.monotonic()
        if gap > 0:
            self.pause(gap)

    def send(self, project_id: str, batch: ImageBatch) -> CreateSummary:
        self.wait()
        self._last = time.monotonic()
        try:
            return self.client.create_images_from_predictions(project_id, batch)
        except ThrottledError as error:
            # The wait applies to every call, not only to the batch refused.
            self._resume_at = time.monotonic() + (error.retry_after or 1)
            raise


def execute_run(
    client: CustomVisionClient,
    run: PromotionRun,
    progress: Callable[[PromotionRun], None] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> PromotionRun:
    """Plan and send every batch of the run's project, then record how it ended."""
    worker = locks.new_worker_name()
    locks.take("run", run.pk)
    sender = Sender(client, settings.PROMOTION_RATE, pause)
    try:
        _renew(run, worker, started=True)
        sync_projects(client, only=[str(run.project_id)])
        _send_everything(run, worker, sender, progress)
    except (CustomVisionError, ProjectNotFound) as error:
        # Only the calls outside batches get here; a batch records its own failure.
        _stop(run, _stop_message(error))
        outages.record(Project.objects.filter(pk=run.project_id), error)
        raise RunStopped(_stop_message(error)) from error
    finally:
        locks.drop("run", run.pk)

    if settings.PROMOTION_DELETE_PREDICTIONS:
        _delete_promoted(client, run)
    _finish(run)
    run.refresh_from_db()
    return run


def _send_everything(run, worker, sender, progress) -> None:
    passes = 0
    with Courier(sender) as courier:
        while True:
            # The rate is kept at the call itself; this only honours a 429's wait.
            sender.wait(pace=False)
            _renew(run, worker)
            batch = claim_batch(run.project, worker, timezone.now(), courier.busy)
            if batch is not None:
                courier.send(batch)
            elif courier.busy:
                courier.land()
            elif passes < MAX_PASSES and plan(run, timezone.now()):
                passes += 1
            elif not _wait_for_deferred(run.project, sender.pause):
                return
            if progress:
                progress(run)


class Courier:
    """Keep one call to the service in flight while the last answer is recorded.

    The calls go one at a time, from a thread that touches no database; each batch
    is marked sent before its call starts, and its answer is recorded by the caller's
    thread once the next batch's call is on its way.
    """

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promote")
        self._flight: tuple[Batch, Future] | None = None

    def __enter__(self) -> "Courier":
        return self

    def __exit__(self, *error) -> None:
        try:
            self.land()
        finally:
            self._calls.shutdown()

    @property
    def busy(self) -> int | None:
        """The batch whose call is in flight, if any."""
        return self._flight[0].pk if self._flight else None

    def send(self, batch: Batch) -> None:
        """Start a claimed batch's call once the last one came back; record that one."""
        landed, self._flight = self._flight, None
        if landed:
            wait([landed[1]])
            if isinstance(landed[1].exception(), AuthenticationError | NotFoundError):
                _unclaim(batch)
                _record(*landed)
        _mark_sent(batch)
        body = ImageBatch.from_body(batch.request_body)
        call = self._calls.submit(self.sender.send, str(batch.project_id), body)
        self._flight = (batch, call)
        if landed:
            _record(*landed)

    def land(self) -> None:
        """Wait for the call in flight, if any, and record its answer."""
        landed, self._flight = self._flight, None
        if landed:
            _record(*landed)


def _renew(run: PromotionRun, worker: str, started: bool = False) -> None:
    now = timezone.now()
    fields = {"worker": worker, "lease_expires_at": now + _lease()}
    if started:
        fields.update(status=PromotionRun.Status.RUNNING, started_at=now)
    PromotionRun.objects.filter(pk=run.pk).update(**fields)


def _stop_message(error: Exception) -> str:
    if outages.needs_a_fix(error):
        return f"{outages.explain(error)}; nothing was marked failed."
    return f"{error}. Nothing was marked failed; promote again to resume."


def _wait_for_deferred(project: Project, pause: Callable[[float], None]) -> bool:
    """Sleep until the earliest batch the service asked us to hold back is due."""
    due = (
        Batch.objects.filter(
            project=project,
            status__in=[Batch.Status.PENDING, Batch.Status.SENT],
            not_before__isnull=False,
        )
        .order_by("not_before")
        .values_list("not_before", flat=True)
        .first()
    )
    if due is None:
        return False
    pause(max((due - timezone.now()).total_seconds(), 0.05))
    return True


def _finish(run: PromotionRun) -> None:
    PromotionRun.objects.filter(pk=run.pk, status=PromotionRun.Status.RUNNING).update(
        status=PromotionRun.Status.FINISHED, finished_at=timezone.now()
    )
    outages.clear(run.project_id)
    logger.info("promotion %s of project %s finished", run.pk, run.project_id)


def _stop(run: PromotionRun, message: str) -> None:
    PromotionRun.objects.filter(pk=run.pk).update(
        status=PromotionRun.Status.STOPPED, finished_at=timezone.now(), error=message
    )
    logger.warning(
        "promotion %s of project %s stopped: %s", run.pk, run.project_id, message
    )


@transaction.atomic
def plan(run: PromotionRun, now: datetime) -> int:
    """Pre-flight the approved items nobody else holds, pack them and write batches."""
    project = run.project
    reviews = Review.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        project=project, state=ReviewState.APPROVED
    )
    if run.only_retries:
        reviews = reviews.filter(
            Exists(Outcome.objects.filter(review=OuterRef("pk"), kind="retry"))
        )
    reviews = reviews.exclude(
        Exists(
            Outcome.objects.filter(review=OuterRef("pk"), run=run)
            .values("review")
            .annotate(passes=Count("pk"))
            .filter(passes__gte=MAX_PASSES)
        )
    )
    # Only what the pre-flight and the batches read: a review's receipt is large.
    reviews = list(
        reviews.select_related("decided_by", "prediction").only(
            "project_id",
            "predicted_at",
            "bulk_accepted",
            "decided_by__username",
            "prediction__removed_at",
        )
    )
    if not reviews:
        return 0

    tags = {tag.pk: tag for tag in project.tags.filter(removed_at=None)}
    approved = _approved_labels(project)
    sendable = {}
    for review in reviews:
        review.project = project
        labels = approved.get(review.pk, [])
        failure = preflight(review, labels, tags, now)
        if failure:
            _record_preflight(run, review, *failure, now)
        else:
            sendable[review.pk] = (review, labels)

    items = [_pack_item(review, labels) for review, labels in sendable.values()]
    packed_batches = pack(items)
    # One INSERT a batch: PostgreSQL takes many large request bodies in one statement
    # more slowly than one at a time.
    batches = [
        _write_batch(run, packed, sendable, project) for packed in packed_batches
    ]
    insert_rows(
        Outcome,
        ["run_id", "batch_id", "review_id"],
        [
            (run.pk, batch.pk, item.key)
            for batch, packed in zip(batches, packed_batches, strict=True)
            for item in packed.items
        ],
    )
    update_rows(
        Review,
        [item.key for packed in packed_batches for item in packed.items],
        state=ReviewState.IN_BATCH,
        version=F("version") + 1,
        failure_reason="",
    )
    return len(batches) or len(reviews)


@dataclass(frozen=True, slots=True)
class SentLabel:
    """What a batch sends of one approved label: read as plain values, it is cheap."""

    tag_id: UUID
    left: float | None
    top: float | None
    width: float | None
    height: float | None

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        if self.left is None:
            return None
        return (self.left, self.top, self.width, self.height)


def _approved_labels(project: Project) -> dict[UUID, list[SentLabel]]:
    """Load the approved labels of the project's approved items, by item."""
    rows = ApprovedLabel.objects.filter(
        review__project=project, review__state=ReviewState.APPROVED
    ).values_list("review_id", "tag_id", "left", "top", "width", "height")
    by_review = defaultdict(list)
    for review_id, *fields in rows:
        by_review[review_id].append(SentLabel(*fields))
    return by_review


def _record_preflight(
    run: PromotionRun, review: Review, kind: str, reason: str, now: datetime
) -> None:
    Outcome.objects.create(
        run=run,
        review=review,
        kind=kind,
        status="Expired" if kind == Outcome.Kind.TERMINAL else "PreflightFailed",
        message=reason,
        recorded_at=now,
    )
    Review.objects.filter(pk=review.pk).update(
        state=ReviewState.FAILED, failure_reason=reason, version=F("version") + 1
    )


def _write_batch(run, packed, sendable, project: Project) -> Batch:
    shared = set() if project.is_object_detection else set(packed.shared_tag_ids)
    images = []
    for item in packed.items:
        review, labels = sendable[item.key]
        images.append(_image_body(review, labels, shared, project))
    body = {
        "images": images,
        "tagIds": sorted(shared),
        "metadata": dict(packed.group),
    }
    return Batch.objects.create(run=run, project=project, request_body=body)


def _image_body(review, labels, shared: set[str], project: Project) -> dict:
    if project.is_object_detection:
        regions = [
            {
                "tagId": str(label.tag_id),
                "left": label.left,
                "top": label.top,
                "width": label.width,
                "height": label.height,
            }
            for label in labels
        ]
        return {"id": str(review.pk), "tagIds": [], "regions": regions}
    own = sorted({str(label.tag_id) for label in labels} - shared)
    return {"id": str(review.pk), "tagIds": own, "regions": []}


def claim_batch(
    project: Project, worker: str, now: datetime, busy: int | None = None
) -> Batch | None:
    """Take the next unfinished batch of the project that no live worker holds.

    `busy` is the batch this worker has a call in flight for, which it holds already.
    """
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    candidates = (
        Batch.objects.filter(
            project=project, status__in=[Batch.Status.PENDING, Batch.Status.SENT]
        )
        .filter(due)
        .exclude(pk=busy)
        .only("pk", "worker", "lease_expires_at")
    )
    for batch in candidates[:20]:
        if not _free(batch, worker, now):
            continue
        claimed = Batch.objects.filter(
            pk=batch.pk, worker=batch.worker, lease_expires_at=batch.lease_expires_at
        ).update(worker=worker, lease_expires_at=now + _lease())
        if claimed and locks.take("batch", batch.pk):
            return Batch.objects.get(pk=batch.pk)
    return None


def _lease() -> timedelta:
    return timedelta(seconds=settings.PROMOTION_LEASE_SECONDS)


def _free(batch: Batch, worker: str, now: datetime) -> bool:
    if batch.worker in ("", worker) or not batch.lease_expires_at:
        return True
    if batch.lease_expires_at < now:
        return True
    return locks.holder_is_gone("batch", batch.pk)


def _mark_sent(batch: Batch) -> None:
    """Record that the batch's call is about to start, before it starts."""
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.SENT,
        attempts=F("attempts") + 1,
        first_sent_at=Coalesce(F("first_sent_at"), now),
        last_sent_at=now,
        not_before=None,
    )
    batch.refresh_from_db(fields=_SENT_FIELDS)


def _record(batch: Batch, call: Future) -> None:
    """Record what became of a batch's call, then let other workers have it."""
    try:
        try:
            summary = call.result()
        except (AuthenticationError, NotFoundError):
            _release(batch, status=Batch.Status.PENDING)
            raise
        except BadRequestError as error:
            record_refusal(batch, error)
        except CustomVisionError as error:
            record_failure(batch, error)
        else:
            record_answer(batch, summary)
    finally:
        locks.drop("batch", batch.pk)


def _unclaim(batch: Batch) -> None:
    """Give back a batch claimed but never sent, as it was."""
    Batch.objects.filter(pk=batch.pk).update(worker="", lease_expires_at=None)
    locks.drop("batch", batch.pk)


_SENT_FIELDS = ["status", "attempts", "first_sent_at", "last_sent_at", "not_before"]


def _release(batch: Batch, status: str) -> None:
    Batch.objects.filter(pk=batch.pk).update(
        status=status, worker="", lease_expires_at=None
    )


@transaction.atomic
def record_answer(batch: Batch, summary: CreateSummary) -> None:
    """Record each image's own status; an image missing from the answer is retried."""
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.ANSWERED,
        http_status=summary.http_status,
        response_body=summary.response_body,
        duration_ms=summary.duration_ms,
        answered_at=now,
        error="",
        worker="",
        lease_expires_at=None,
    )
    settled = []
    for outcome in batch.outcomes.filter(kind=Outcome.Kind.PENDING):
        result = summary.results.get(str(outcome.review_id))
        if result is None:
            outcome = _settle(
                outcome,
                Outcome.Kind.RETRY,
                "NoAnswer",
                now,
                "The answer did not mention this image.",
            )
        else:
            outcome = _settle(
                outcome,
                kind_of(result.status),
                result.status,
                now,
                image_id=result.image_id,
            )
        settled.append(outcome)
    _store_settled(settled)


def record_refusal(batch: Batch, error: BadRequestError) -> None:
    """Send every image of a batch the service refused back to review."""
    _close_with_error(
        batch, error, Outcome.Kind.FIX, error.code or "BadRequest", error.message
    )


def record_failure(batch: Batch, error: CustomVisionError) -> None:
    """Hold a batch back after a failure worth retrying, or give up on it."""
    now = timezone.now()
    worth_retrying = error.retryable or error.outcome_unknown
    if batch.attempts < MAX_ATTEMPTS and worth_retrying:
        wait = error.retry_after or min(2**batch.attempts, 60)
        Batch.objects.filter(pk=batch.pk).update(
            status=Batch.Status.SENT if error.outcome_unknown else Batch.Status.PENDING,
            error=str(error),
            not_before=now + timedelta(seconds=wait),
            worker="",
            lease_expires_at=None,
        )
        return

    status = f"HTTP {error.status}" if error.status else "NoAnswer"
    _close_with_error(batch, error, Outcome.Kind.RETRY, status, str(error))


@transaction.atomic
def _close_with_error(
    batch: Batch, error: CustomVisionError, kind: str, status: str, message: str
) -> None:
    """Close a batch that got no per-image answer, giving each image one outcome."""
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.ANSWERED,
        http_status=error.status,
        error=str(error),
        answered_at=now,
        worker="",
        lease_expires_at=None,
    )
    _store_settled(
        [
            _settle(outcome, kind, status, now, message)
            for outcome in batch.outcomes.filter(kind=Outcome.Kind.PENDING)
        ]
    )


_STATE_AFTER = {
    Outcome.Kind.PROMOTED: ReviewState.PROMOTED,
    Outcome.Kind.RETRY: ReviewState.APPROVED,
    Outcome.Kind.FIX: ReviewState.FAILED,
    Outcome.Kind.TERMINAL: ReviewState.FAILED,
}


def _settle(
    outcome: Outcome,
    kind: str,
    status: str,
    now: datetime,
    message: str = "",
    image_id: str | None = None,
) -> Outcome:
    """Give an outcome what became of its image; `_store_settled` writes it."""
    outcome.kind, outcome.status, outcome.message = kind, status, message
    outcome.training_image_id, outcome.recorded_at = image_id, now
    return outcome


def _store_settled(outcomes: list[Outcome]) -> None:
    """Write a batch's outcomes and move their reviews on, in a few statements.

    Outcomes alike but for their new image id are written by one UPDATE, and the
    new image ids by one more.
    """
    alike = defaultdict(list)
    for outcome in outcomes:
        alike[outcome.kind, outcome.status, outcome.message].append(outcome)
    for (kind, status, message), group in alike.items():
        Outcome.objects.filter(pk__in=[outcome.pk for outcome in group]).update(
            kind=kind, status=status, message=message, recorded_at=group[0].recorded_at
        )
    _store_image_ids([outcome for outcome in outcomes if outcome.training_image_id])

    by_change = defaultdict(list)
    for outcome in outcomes:
        change = (_STATE_AFTER[outcome.kind], _reason(outcome))
        by_change[change].append(outcome.review_id)
    for (state, reason), review_ids in by_change.items():
        Review.objects.filter(pk__in=review_ids).update(
            state=state, failure_reason=reason, version=F("version") + 1
        )


def _store_image_ids(outcomes: list[Outcome]) -> None:
    """Write each outcome's new training image id with one UPDATE.

    A plain CASE on the id: the ORM's Case(When(...)) builds a filter per row, which
    cost a batch of 64 more time than the call to the service.
    """
    if not outcomes:
        return
    field = Outcome._meta.get_field("training_image_id")
    cases = " ".join(["WHEN %s THEN %s"] * len(outcomes))
    ids = ", ".join(["%s"] * len(outcomes))
    table = connection.ops.quote_name(Outcome._meta.db_table)
    column = connection.ops.quote_name(field.column)
    params = [
        value
        for outcome in outcomes
        for value in (
            outcome.pk,
            field.get_db_prep_value(outcome.training_image_id, connection),
        )
    ]
    # Only placeholders and quoted names go into the text; the values are parameters.
    sql = f"UPDATE {table} SET {column} = CASE id {cases} END WHERE id IN ({ids})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [*params, *(outcome.pk for outcome in outcomes)],
        )


def _reason(outcome: Outcome) -> str:
    """Say why an image went back to review or cannot be promoted; empty otherwise."""
    if outcome.kind in (Outcome.Kind.PROMOTED, Outcome.Kind.RETRY):
        return ""
    if outcome.message:
        return f"{outcome.status}: {outcome.message}"
    return _REASONS.get(outcome.status, outcome.status)


_REASONS = {
    limits.STATUS_ERROR_SOURCE: "The service could not find the prediction's image.",
    limits.STATUS_ERROR_IMAGE_FORMAT: "The service cannot read the image's format.",
    limits.STATUS_ERROR_IMAGE_SIZE: "The image is too large for the training set.",
    limits.STATUS_ERROR_LIMIT_EXCEED: "The project's training image limit is reached.",
    limits.STATUS_ERROR_TAG_LIMIT_EXCEED: "The image has too many tags.",
    limits.STATUS_ERROR_REGION_LIMIT_EXCEED: "The image has too many regions.",
    limits.STATUS_ERROR_NEGATIVE_AND_REGULAR: (
        "A negative tag goes with regular tags on the image."
    ),
}


def run_counts(run: PromotionRun) -> dict[str, int]:
    """Count a run's outcomes by kind."""
    counts = dict.fromkeys(Outcome.Kind.values, 0)
    for row in run.outcomes.values("kind").annotate(number=Count("pk")):
        counts[row["kind"]] = row["number"]
    counts["total"] = sum(counts.values())
    return counts


def _delete_promoted(client: CustomVisionClient, run: PromotionRun) -> None:
    """Delete the run's promoted predictions from the service's prediction store."""
    ids = [
        str(pk)
        for pk in run.outcomes.filter(kind=Outcome.Kind.PROMOTED).values_list(
            "review_id", flat=True
        )
    ]
    step = limits.MAX_DELETE_PREDICTION_IDS
    try:
        for start in range(0, len(ids), step):
            client.delete_predictions(str(run.project_id), ids[start : start + step])
    except CustomVisionError as error:
        logger.warning("promotion %s: deleting promoted predictions: %s", run.pk, error)
