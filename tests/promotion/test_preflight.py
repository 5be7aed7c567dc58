"""Pre-flight keeps back an item the service would refuse, and says why."""

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.customvision import limits
from reviewer.models import (
    RETENTION,
    ApprovedLabel,
    Outcome,
    Prediction,
    Review,
    ReviewState,
)
from reviewer.services.projects import sync_projects
from tests.promotion.helpers import promote, training_set

pytestmark = pytest.mark.django_db


def remove_its_tag_on_the_service(emulator, cv_client, reviewed, item):
    # Only the relabelled item uses Cherry.
    emulator.state.tags[str(reviewed.project.pk)].pop(reviewed.tags["Cherry"])


def add_too_many_regions(emulator, cv_client, reviewed, item):
    ApprovedLabel.objects.bulk_create(
        ApprovedLabel(
            review_id=item,
            tag_id=reviewed.tags["Apple"],
            left=0.0,
            top=0.0,
            width=0.1,
            height=0.1,
        )
        for _ in range(limits.MAX_REGIONS_PER_IMAGE)
    )


def move_a_box_off_the_image(emulator, cv_client, reviewed, item):
    labels = ApprovedLabel.objects.filter(review_id=item, tag_id=reviewed.tags["Apple"])
    labels.update(left=0.9)


def add_a_negative_tag(emulator, cv_client, reviewed, item):
    project_id = str(reviewed.project.pk)
    empty = emulator.state.add_tag(project_id, "Empty shelf", limits.TAG_NEGATIVE)
    sync_projects(cv_client, only=[project_id])
    ApprovedLabel.objects.create(
        review_id=item, tag_id=empty["id"], left=0.0, top=0.0, width=1.0, height=1.0
    )


def let_it_expire(emulator, cv_client, reviewed, item):
    expired = timezone.now() - RETENTION
    Review.objects.filter(pk=item).update(predicted_at=expired)
    Prediction.objects.filter(pk=item).update(created=expired)


@pytest.mark.parametrize(
    ("spoil", "kind", "reason"),
    [
        (
            remove_its_tag_on_the_service,
            Outcome.Kind.FIX,
            "A tag it uses was deleted on the service.",
        ),
        (add_too_many_regions, Outcome.Kind.FIX, "It has more than 300 labels."),
        (
            move_a_box_off_the_image,
            Outcome.Kind.FIX,
            "A box lies outside the image or has no size.",
        ),
        (add_a_negative_tag, Outcome.Kind.FIX, "A negative tag goes with other tags."),
        (
            let_it_expire,
            Outcome.Kind.TERMINAL,
            "The service no longer keeps this prediction.",
        ),
    ],
)
def test_pre_flight_keeps_the_item_back_and_shows_why_on_its_review(
    emulator, cv_client, reviewed, new_run, client, annotator, spoil, kind, reason
):
    project = reviewed.project
    item, *others = reviewed.predictions[:3]
    spoil(emulator, cv_client, reviewed, item)

    run = promote(cv_client, new_run(project))

    outcome = Outcome.objects.get(run=run, review_id=item)
    assert (outcome.batch, outcome.kind, outcome.message) == (None, kind, reason)
    review = Review.objects.get(pk=item)
    assert (review.state, review.failure_reason) == (ReviewState.FAILED, reason)
    assert training_set(emulator, project) == sorted(others)
    client.force_login(annotator)
    page = client.get(reverse("reviewer:review-item", args=[project.pk, item]))
    assert f"Sent back: {reason}" in page.content.decode()
