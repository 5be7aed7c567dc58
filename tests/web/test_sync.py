import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from reviewer.customvision.errors import CustomVisionError
from reviewer.models import (
    Outcome,
    PredictedLabel,
    Prediction,
    Review,
    ReviewState,
    SyncRun,
)
from reviewer.services.promotion import execute_run, queue_promotion
from reviewer.services.queue import QueueFilters, matching_reviews
from reviewer.services.sync import run_sync_run
from tests.fixtures.projects import sync

pytestmark = pytest.mark.django_db


def test_it_stores_predictions_labels_and_reviews(detection_project):
    project = detection_project.project

    assert project.predictions.count() == 4
    assert PredictedLabel.objects.filter(prediction__project=project).count() == 12
    assert set(Review.objects.values_list("state", flat=True)) == {
        ReviewState.TO_REVIEW
    }
    assert project.last_synced_at is not None
    assert project.tags.count() == 3


def test_it_pages_through_every_prediction(emulator, detection_project, cv_client):
    emulator.config.page_size = 1
    state = emulator.state
    for _ in range(3):
        state.add_prediction(
            str(detection_project.project.pk),
            detection_project.iteration,
            [
                {
                    "tag_id": detection_project.tags["Apple"],
                    "probability": 0.5,
                    "box": (0, 0, 0.5, 0.5),
                }
            ],
        )

    sync(cv_client, str(detection_project.project.pk))

    run = SyncRun.objects.latest("id")
    assert detection_project.project.predictions.count() == 7
    assert run.added == 3
    assert run.pages >= 3
    assert run.status == SyncRun.Status.SUCCEEDED


def test_running_it_twice_changes_nothing(detection_project, cv_client):
    before = list(Prediction.objects.values_list("id", "created").order_by("id"))

    sync(cv_client, str(detection_project.project.pk))

    run = SyncRun.objects.latest("id")
    assert run.added == 0
    assert (
        list(Prediction.objects.values_list("id", "created").order_by("id")) == before
    )
    assert PredictedLabel.objects.count() == 12


def test_a_second_sync_reads_only_from_the_newest_stored_prediction(
    emulator, detection_project, cv_client
):
    project = detection_project.project
    newest = project.predictions.latest("created").created
    new = [
        emulator.state.add_prediction(
            str(project.pk),
            detection_project.iteration,
            [],
            created=timezone.now() - timedelta(minutes=minutes),
        )
        for minutes in (20, 10)
    ]

    sync(cv_client, str(project.pk))

    run = SyncRun.objects.latest("id")
    assert run.window_start == newest
    # The window starts at the newest stored prediction, inclusive, so it is
    # read again; the three older ones are not.
    assert run.seen == len(new) + 1
    assert run.added == len(new)
    assert project.predictions.count() == 6


def test_it_never_overwrites_a_review(detection_project, cv_client, annotator):
    review = Review.objects.first()
    review.state = ReviewState.REJECTED
    review.decided_by = annotator
    review.save()

    sync(cv_client, str(detection_project.project.pk))

    review.refresh_from_db()
    assert review.state == ReviewState.REJECTED
    assert review.decided_by == annotator


def test_it_records_a_failed_sync_and_the_next_one_completes(
    emulator, detection_project, cv_client
):
    project = detection_project.project
    for _ in range(2):
        emulator.state.add_prediction(str(project.pk), detection_project.iteration, [])
    emulator.config.page_size = 1
    failing = SyncRun.objects.create(project=project)
    emulator.inject(status=503, count=4, operation="QueryPredictions")

    with pytest.raises(CustomVisionError, match="503"):
        run_sync_run(cv_client, failing)

    failing.refresh_from_db()
    assert failing.status == SyncRun.Status.FAILED
    assert "503" in failing.error
    sync(cv_client, str(project.pk))
    assert project.predictions.count() == 6


def test_the_command_syncs_every_project_and_prints_a_summary(
    emulator, cv_settings, capsys
):
    emulator.seed_demo()

    call_command("sync_predictions")
    first = capsys.readouterr().out
    call_command("sync_predictions")
    second = capsys.readouterr().out

    assert Prediction.objects.count() > 100
    assert first.splitlines()[-1].startswith("Synced 2 projects:")
    assert "still preparing them: Warehouse pallets (importing)" in first
    assert " 0 new" in second.splitlines()[-1]


def test_the_command_names_an_unknown_project(emulator, cv_settings):
    with pytest.raises(CommandError, match="No such project"):
        call_command("sync_predictions", project=[str(uuid.uuid4())])


def test_a_full_sync_takes_predictions_the_service_deleted_out_of_the_queue(
    emulator, detection_project, cv_settings, capsys
):
    project = detection_project.project
    deleted, *kept = detection_project.predictions
    emulator.state.delete_predictions(str(project.pk), [str(deleted)])

    call_command("sync_predictions", project=[str(project.pk)])
    incremental = capsys.readouterr().out
    assert Prediction.objects.get(pk=deleted).removed_at is None

    call_command("sync_predictions", project=[str(project.pk)], full=True)
    full = capsys.readouterr().out

    run = SyncRun.objects.latest("id")
    assert (run.full, run.seen, run.removed) == (True, 3, 1)
    assert Prediction.objects.get(pk=deleted).removed_at is not None
    assert not Prediction.objects.filter(pk__in=kept, removed_at__isnull=False).exists()
    assert "no longer on the service" not in incremental
    assert "1 no longer on the service" in full.splitlines()[-1]
    queue = matching_reviews(project, QueueFilters(), timezone.now())
    assert {str(pk) for pk in queue.values_list("pk", flat=True)} == set(kept)


def test_an_approved_prediction_the_service_deleted_is_not_sent(
    emulator, approved, cv_client
):
    project = approved.project
    deleted = approved.predictions[0]
    emulator.state.delete_predictions(str(project.pk), [str(deleted)])
    run_sync_run(cv_client, SyncRun.objects.create(project=project, full=True))

    run = execute_run(
        cv_client, queue_promotion(project, None, enqueue=False), pause=lambda _: None
    )

    outcome = Outcome.objects.get(run=run, review_id=deleted)
    assert outcome.kind == Outcome.Kind.TERMINAL
    assert outcome.batch is None
    assert "no longer keeps" in outcome.message
    assert Outcome.objects.filter(run=run, kind=Outcome.Kind.PROMOTED).count() == 3
