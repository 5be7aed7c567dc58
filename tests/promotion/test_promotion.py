import threading
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from reviewer.customvision import limits
from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.types import CreateSummary
from reviewer.models import (
    Batch,
    Outcome,
    Prediction,
    PromotionRun,
    Review,
    ReviewState,
    Tag,
)
from reviewer.services import promotion
from reviewer.services.promotion import (
    RunStopped,
    execute_run,
    kind_of,
    manifest,
    record_answer,
)
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept
from tests.fixtures.projects import add_apple, sync
from tests.promotion.helpers import no_pause, promote, states, training_set

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_promotes_every_approved_image_in_one_call(
    emulator, cv_client, approved, new_run
):
    project = approved.project

    run = promote(cv_client, new_run(project))

    assert run.status == PromotionRun.Status.FINISHED
    assert training_set(emulator, project) == sorted(approved.predictions)
    batch = Batch.objects.get()
    assert (batch.status, batch.http_status, batch.attempts) == ("answered", 200, 1)
    assert batch.request_body["metadata"]["approved_by"] == "ann"
    assert states(project) == {ReviewState.PROMOTED}
    outcomes = Outcome.objects.filter(run=run)
    assert {outcome.kind for outcome in outcomes} == {Outcome.Kind.PROMOTED}
    assert all(outcome.training_image_id for outcome in outcomes)


def test_it_sends_regions_for_detection(emulator, cv_client, approved, new_run):
    promote(cv_client, new_run(approved.project))

    body = Batch.objects.get().request_body
    first = body["images"][0]
    assert first["tagIds"] == []
    assert {"tagId", "left", "top", "width", "height"} <= set(first["regions"][0])
    assert body["tagIds"] == []


def test_it_records_each_image_status_on_207(emulator, cv_client, approved, new_run):
    project = approved.project
    gone = approved.predictions[0]
    emulator.state.delete_predictions(str(project.pk), [gone])

    run = promote(cv_client, new_run(project))

    batch = Batch.objects.get()
    assert batch.http_status == 207
    outcome = Outcome.objects.get(run=run, review_id=gone)
    assert (outcome.kind, outcome.status) == (Outcome.Kind.TERMINAL, "ErrorSource")
    review = Review.objects.get(pk=gone)
    assert review.state == ReviewState.FAILED
    assert "could not find" in review.failure_reason
    assert training_set(emulator, project) == sorted(approved.predictions[1:])


def test_an_image_already_in_the_training_set_counts_as_promoted(
    emulator, cv_client, approved, new_run
):
    project = approved.project
    promote(cv_client, new_run(project))
    again = approved.predictions[1]
    Review.objects.filter(pk=again).update(state=ReviewState.APPROVED)

    run = promote(cv_client, new_run(project))

    outcome = Outcome.objects.get(run=run)
    assert (outcome.kind, outcome.status) == (Outcome.Kind.PROMOTED, "OKDuplicate")
    assert training_set(emulator, project) == sorted(approved.predictions)


def test_a_service_refusal_of_negative_with_regular_goes_back_to_review(
    emulator, cv_client, classification_project, new_run, annotator
):
    project = classification_project.project
    tags = classification_project.tags
    review = Review.objects.get(pk=classification_project.predictions[0])
    run = new_run(project)
    batch = Batch.objects.create(
        run=run,
        project=project,
        request_body={
            "images": [
                {
                    "id": str(review.pk),
                    "tagIds": [tags["Apple"], tags["Nothing"]],
                    "regions": [],
                }
            ],
            "tagIds": [],
            "metadata": {},
        },
    )
    Outcome.objects.create(run=run, batch=batch, review=review)

    promote(cv_client, run)

    outcome = Outcome.objects.get(batch=batch)
    assert outcome.kind == Outcome.Kind.FIX
    assert outcome.status == limits.STATUS_ERROR_NEGATIVE_AND_REGULAR
    review.refresh_from_db()
    assert review.state == ReviewState.FAILED
    assert "negative tag" in review.failure_reason


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("OK", "promoted"),
        ("OKDuplicate", "promoted"),
        ("ErrorStorage", "retry"),
        ("ErrorUnknown", "retry"),
        ("ErrorTagLimitExceed", "fix"),
        ("ErrorRegionLimitExceed", "fix"),
        ("ErrorNegativeAndRegularTagOnSameImage", "fix"),
        ("ErrorSource", "terminal"),
        ("ErrorImageFormat", "terminal"),
        ("ErrorImageSize", "terminal"),
        ("ErrorLimitExceed", "terminal"),
        ("SomethingNew", "terminal"),
    ],
)
def test_each_status_falls_in_its_class(status, kind):
    assert kind_of(status) == kind


def test_an_image_missing_from_the_answer_is_not_assumed_done(approved, new_run):
    run = new_run(approved.project)
    review = Review.objects.get(pk=approved.predictions[0])
    batch = Batch.objects.create(run=run, project=run.project, request_body={})
    Outcome.objects.create(run=run, batch=batch, review=review)
    summary = CreateSummary(
        http_status=200,
        is_batch_successful=True,
        results={},
        request_body="{}",
        response_body="{}",
        duration_ms=5,
        sent_ids=(str(review.pk),),
    )

    record_answer(batch, summary)

    outcome = Outcome.objects.get(batch=batch)
    assert (outcome.kind, outcome.status) == (Outcome.Kind.RETRY, "NoAnswer")
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_it_waits_out_a_429_and_sends_again(emulator, cv_client, approved, new_run):
    emulator.inject(
        status=429, count=1, operation="CreateImagesFromPredictions", retry_after=1
    )
    started = time.monotonic()

    promote(cv_client, new_run(approved.project))

    assert time.monotonic() - started >= 0.9
    batch = Batch.objects.get()
    assert batch.attempts == 2
    assert training_set(emulator, approved.project) == sorted(approved.predictions)


def test_it_sends_again_after_a_503(emulator, cv_client, approved, new_run):
    emulator.inject(status=503, count=1, operation="CreateImagesFromPredictions")

    promote(cv_client, new_run(approved.project))

    assert Batch.objects.get().attempts == 2
    assert states(approved.project) == {ReviewState.PROMOTED}


def test_a_lost_answer_is_sent_again_and_counted_once(
    emulator, cv_client, approved, new_run
):
    emulator.drop_next(count=1, operation="CreateImagesFromPredictions")

    run = promote(cv_client, new_run(approved.project))

    batch = Batch.objects.get()
    assert batch.attempts == 2
    assert {o.status for o in Outcome.objects.filter(run=run)} == {"OKDuplicate"}
    assert training_set(emulator, approved.project) == sorted(approved.predictions)


class WorkerKilled(BaseException):
    """Stands for SIGKILL between the call and the recording of its answer."""


def test_a_worker_killed_after_sending_is_resumed_exactly_once(
    emulator, cv_client, approved, new_run, monkeypatch
):
    project = approved.project

    def die(batch, summary):
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr(promotion, "record_answer", die)
        with pytest.raises(WorkerKilled):
            promote(cv_client, new_run(project))

    assert Batch.objects.get().status == Batch.Status.SENT
    assert states(project) == {ReviewState.IN_BATCH}
    time.sleep(1.1)  # the dead worker's lease lapses (at once on PostgreSQL)

    promote(cv_client, new_run(project))

    batch = Batch.objects.get()
    assert (batch.status, batch.attempts) == (Batch.Status.ANSWERED, 2)
    assert states(project) == {ReviewState.PROMOTED}
    assert training_set(emulator, project) == sorted(approved.predictions)
    first = PromotionRun.objects.order_by("id").first()
    assert first.status == PromotionRun.Status.RUNNING
    assert promotion.active_promotion(project) is None
    first.refresh_from_db()
    assert first.status == PromotionRun.Status.STOPPED


def test_a_wrong_key_stops_the_run_without_failing_anything(
    emulator, approved, new_run
):
    client = CustomVisionClient(emulator.endpoint, "wrong-key", retries=0)
    run = new_run(approved.project)

    with pytest.raises(RunStopped, match="refused the training key"):
        execute_run(client, run, pause=no_pause)

    run.refresh_from_db()
    assert run.status == PromotionRun.Status.STOPPED
    assert "CUSTOMVISION_TRAINING_KEY" in run.error
    assert states(approved.project) == {ReviewState.APPROVED}
    assert not Outcome.objects.exists()


def test_a_project_deleted_on_the_service_stops_the_run(
    emulator, cv_client, approved, new_run
):
    emulator.state.projects.pop(str(approved.project.pk))
    run = new_run(approved.project)

    with pytest.raises(RunStopped, match="does not know this project"):
        promote(cv_client, run)

    assert states(approved.project) == {ReviewState.APPROVED}


def test_retry_failed_sends_only_the_retryable(
    emulator, cv_client, approved, new_run, monkeypatch
):
    project = approved.project
    monkeypatch.setattr(promotion, "MAX_ATTEMPTS", 1)
    monkeypatch.setattr(promotion, "MAX_PASSES", 1)
    emulator.inject(status=503, count=1, operation="CreateImagesFromPredictions")
    promote(cv_client, new_run(project))
    assert states(project) == {ReviewState.APPROVED}
    assert promotion.manifest(project, timezone.now()).retryable == 4

    run = promote(cv_client, new_run(project, only_retries=True))

    assert states(project) == {ReviewState.PROMOTED}
    assert Outcome.objects.filter(run=run, kind="promoted").count() == 4


def test_pre_flight_keeps_back_expired_items_and_removed_tags(
    emulator, cv_client, approved, new_run
):
    project = approved.project
    old, cherry = approved.predictions[3], approved.predictions[0]
    expired = timezone.now() - promotion.RETENTION
    Review.objects.filter(pk=old).update(
        state=ReviewState.APPROVED, predicted_at=expired
    )
    Prediction.objects.filter(pk=old).update(created=expired)
    banana = approved.tags["Banana"]
    emulator.state.tags[str(project.pk)].pop(banana)

    summary = manifest(project, timezone.now())
    run = promote(cv_client, new_run(project))

    reasons = dict(
        Outcome.objects.filter(run=run, batch=None).values_list("review_id", "message")
    )
    assert "no longer keeps" in reasons[uuid.UUID(old)]
    assert "deleted on the service" in reasons[uuid.UUID(cherry)]
    assert Tag.objects.get(pk=banana).removed_at is not None
    assert len(summary.problems) >= 1
    assert Review.objects.get(pk=old).state == ReviewState.FAILED


def test_two_workers_promote_one_project_without_stepping_on_each_other(
    emulator, cv_client, approved, new_run, annotator
):
    project = approved.project
    for _ in range(150):
        add_apple(emulator, approved)
    sync(cv_client, str(project.pk))
    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())
    emulator.config.latency_ms = 30
    runs = [new_run(project), new_run(project)]
    errors = []

    def work(run):
        client = CustomVisionClient(emulator.endpoint, "test-key", backoff=0)
        try:
            execute_run(client, run, pause=no_pause)
        except Exception as error:
            errors.append(error)
        finally:
            client.close()
            connection.close()

    threads = [threading.Thread(target=work, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    expected = sorted(
        str(pk)
        for pk in Review.objects.filter(project=project).values_list("pk", flat=True)
    )
    assert training_set(emulator, project) == expected
    assert states(project) == {ReviewState.PROMOTED}
    sends = [
        entry
        for entry in emulator.request_log
        if entry[2] == "CreateImagesFromPredictions"
    ]
    assert len(sends) == Batch.objects.count()
