"""Promotion through every fault at once, its worker killed midway: exactly once.

The emulator answers a share of calls 503, throttles with 429 and Retry-After, loses
a share of create answers after doing the work, and is slow; the real task worker
is killed with SIGKILL while batches are in flight, then a new one takes over.
"""

import signal
from collections import Counter

import pytest
from django.utils import timezone

from reviewer.customvision.errors import ThrottledError
from reviewer.models import Batch, Outcome, PromotionRun, Review, ReviewState
from reviewer.services.promotion import Sender, queue_promotion
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept
from tests.fixtures.projects import sync
from tests.reliability.conftest import wait_for, worker_log

# Approved images sent through the faults: 3,000 take under a minute on two
# cores. Lower it to debug, raise it to soak.
IMAGES = 3_000
# Boxes an image carries, drawn from TAGS tags: batches must be packed by tag.
BOXES = 2
TAGS = 30
WORKER_ENV = {
    "PROMOTION_RATE": "5",
    # The killed worker's batches are taken over after this (at once on PostgreSQL).
    "PROMOTION_LEASE_SECONDS": "5",
    "CUSTOMVISION_READ_TIMEOUT": "5",
}
FINISH_WITHIN = 180
CREATE = "CreateImagesFromPredictions"


def unfinished(project) -> int:
    pending = [Batch.Status.PENDING, Batch.Status.SENT]
    return Batch.objects.filter(project=project, status__in=pending).count()


def in_flight(project) -> bool:
    """Some batches answered, one sent and not answered: the moment to kill."""
    batches = Batch.objects.filter(project=project)
    answered = batches.filter(status=Batch.Status.ANSWERED).count()
    return answered >= 3 and batches.filter(status=Batch.Status.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_every_approved_image_is_promoted_once_or_has_a_reason(
    emulator, cv_client, cv_settings, annotator, lead, start_worker, tmp_path
):
    project_id = emulator.seed_synthetic(
        predictions=IMAGES, tags=TAGS, boxes_per_image=BOXES
    )
    project = sync(cv_client, project_id)
    bulk_accept(project, QueueFilters(), 0.0, annotator, timezone.now())
    approved = set(
        Review.objects.filter(project=project, state=ReviewState.APPROVED).values_list(
            "pk", flat=True
        )
    )
    assert len(approved) == IMAGES
    emulator.config.fail_rate = 0.1
    emulator.config.drop_rate = 0.1
    emulator.config.latency_ms = 20
    emulator.config.rps_limit = 4
    # The rate limit answers 429 only when the worker is fast enough; these always.
    emulator.inject(429, count=2, operation=CREATE, retry_after=1)

    first = start_worker(**WORKER_ENV)
    killed = queue_promotion(project, lead)
    wait_for(lambda: in_flight(project), 60, "batches in flight")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    start_worker(**WORKER_ENV)
    # Nobody presses Promote again: the new worker resumes what the dead one left.
    run = wait_for(
        lambda: (
            PromotionRun.objects.filter(project=project).exclude(pk=killed.pk).first()
        ),
        30,
        "the new worker to resume the promotion\n" + worker_log(tmp_path),
    )
    wait_for(
        lambda: (
            not unfinished(project)
            and PromotionRun.objects.get(pk=run.pk).status
            in (PromotionRun.Status.FINISHED, PromotionRun.Status.STOPPED)
        ),
        FINISH_WITHIN,
        "the promotion to finish\n" + worker_log(tmp_path),
    )

    run.refresh_from_db()
    killed.refresh_from_db()
    assert run.status == PromotionRun.Status.FINISHED, run.error
    assert killed.status == PromotionRun.Status.STOPPED
    log = [entry for entry in emulator.request_log if entry[2] == CREATE]
    statuses = Counter(status for *_, status in log)
    assert statuses[429] and statuses[503] and statuses[None], statuses

    images = emulator.state.tagged_images(project_id)
    by_prediction = Counter(image["predictionId"] for image in images)
    twice = [key for key, count in by_prediction.items() if count > 1]
    assert not twice, f"{len(twice)} predictions created twice"

    promoted = Outcome.objects.filter(
        review__project=project, kind=Outcome.Kind.PROMOTED
    )
    ledger = Counter(promoted.values_list("review_id", flat=True))
    assert max(ledger.values()) == 1, "an image promoted in two outcomes"
    assert {
        str(review_id): str(image_id)
        for review_id, image_id in promoted.values_list(
            "review_id", "training_image_id"
        )
    } == {image["predictionId"]: image["id"] for image in images}

    reviews = Review.objects.filter(pk__in=approved)
    for review in reviews:
        if review.state == ReviewState.PROMOTED:
            assert by_prediction[str(review.pk)] == 1
            continue
        last = review.outcomes.order_by("-id").first()
        assert last is not None, f"{review.pk} is {review.state} with no outcome"
        assert last.kind != Outcome.Kind.PENDING, f"{review.pk} left pending"
        assert last.message or review.failure_reason, f"{review.pk} has no reason"
        assert by_prediction[str(review.pk)] == 0


class ThrottlingService:
    """Stands for a service that answers the first call 429 with Retry-After: 3."""

    def __init__(self) -> None:
        self.calls = 0

    def create_images_from_predictions(self, project_id, batch):
        self.calls += 1
        if self.calls == 1:
            raise ThrottledError(
                "Rate limit is exceeded.", status=429, retryable=True, retry_after=3
            )
        return "created"


def test_a_429_holds_back_the_next_batch_too():
    pauses = []
    sender = Sender(ThrottlingService(), rate=1000, pause=pauses.append)

    with pytest.raises(ThrottledError):
        sender.send("project", "first batch")
    answer = sender.send("project", "second batch")

    assert answer == "created"
    assert len(pauses) == 1 and pauses[0] > 2.9


class AnsweringService:
    """Stands for a service that creates every batch at once."""

    def create_images_from_predictions(self, project_id, batch):
        return "created"


def test_calls_are_spaced_to_the_promotion_rate():
    pauses = []
    sender = Sender(AnsweringService(), rate=4, pause=pauses.append)

    for batch in range(3):
        sender.send("project", f"batch {batch}")

    # The first call goes at once; each next one waits out a quarter of a second.
    assert len(pauses) == 2
    assert all(0.1 < pause <= 0.25 for pause in pauses)
