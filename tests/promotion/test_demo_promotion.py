import pytest
from django.utils import timezone

from reviewer.models import ApprovedLabel, Project, PromotionRun, Review, ReviewState
from reviewer.services.promotion import execute_run
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept
from tests.fixtures.projects import sync

pytestmark = pytest.mark.django_db(transaction=True)


def approved_labels(review: Review) -> list:
    """What the reviewer approved: boxes in detection, tags in classification."""
    return sorted(
        (str(label.tag_id), label.left, label.top, label.width, label.height)
        for label in ApprovedLabel.objects.filter(review=review)
    )


def training_labels(image: dict) -> list:
    """What the training set holds; it also tags a detection image with its boxes'."""
    if image["regions"]:
        return sorted(
            (r["tagId"], r["left"], r["top"], r["width"], r["height"])
            for r in image["regions"]
        )
    return sorted((tag["tagId"], None, None, None, None) for tag in image["tags"])


def ids_in_state(project: Project, state: str) -> set[str]:
    reviews = Review.objects.filter(project=project, state=state)
    return {str(pk) for pk in reviews.values_list("pk", flat=True)}


def test_the_training_set_after_a_demo_promotion_matches_the_approvals(
    emulator, cv_client, lead, annotator, settings
):
    settings.PROMOTION_RATE = 1000
    ids = emulator.seed_demo()
    for kind in ("object_detection", "classification"):
        project = sync(cv_client, ids[kind])
        bulk_accept(project, QueueFilters(), 0.6, annotator, timezone.now())

    for project in Project.objects.filter(status="Succeeded"):
        approved = ids_in_state(project, ReviewState.APPROVED)
        execute_run(
            cv_client, PromotionRun.objects.create(project=project, requested_by=lead)
        )

        promoted = ids_in_state(project, ReviewState.PROMOTED)
        images = emulator.state.tagged_images(str(project.pk))
        assert approved
        assert promoted == approved
        assert sorted(image["predictionId"] for image in images) == sorted(approved)
        assert not ids_in_state(project, ReviewState.FAILED)
        for image in images:
            review = Review.objects.get(pk=image["predictionId"])
            assert training_labels(image) == approved_labels(review)
            assert image["metadata"]["approved_by"] == "ann"


def test_promoted_predictions_can_be_deleted_from_the_store(
    emulator, cv_client, lead, annotator, settings, detection_project
):
    settings.PROMOTION_RATE = 1000
    settings.PROMOTION_DELETE_PREDICTIONS = True
    project = detection_project.project
    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())

    execute_run(cv_client, PromotionRun.objects.create(project=project))

    remaining = emulator.state.project_predictions(str(project.pk))
    assert not set(detection_project.predictions) & set(remaining)
