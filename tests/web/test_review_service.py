import json
import random
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from reviewer.models import ApprovedLabel, Review, ReviewState, Tag
from reviewer.services.queue import QueueFilters
from reviewer.services.review import (
    LEASE,
    InvalidLabels,
    LeaseHeld,
    ReviewError,
    VersionConflict,
    bulk_accept,
    claim,
    claim_next,
    decide,
    undo,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(db):
    return get_user_model().objects.create_user("bea", password="bea-password-1")


def review_of(fixture, number=0) -> Review:
    return Review.objects.select_related("prediction").get(
        pk=fixture.predictions[number]
    )


def label(review, tag_id, box=None, source="first") -> dict:
    """Build a posted label; by default it claims the prediction's first box."""
    if source == "first":
        source = review.prediction.labels.filter(tag_id=tag_id).first().pk
    return {"tag": str(tag_id), "source": source, "box": box}


def accept(review, user, labels, version=None):
    return decide(
        review.pk,
        user,
        "accept",
        review.version if version is None else version,
        json.dumps(labels),
        timezone.now(),
    )


def test_accept_saves_approved_labels_and_who_decided(detection_project, annotator):
    review = review_of(detection_project)
    apple = detection_project.tags["Apple"]

    saved = accept(review, annotator, [label(review, apple, [0.1, 0.1, 0.2, 0.2])])

    assert saved.state == ReviewState.APPROVED
    assert saved.decided_by == annotator
    assert saved.version == 1
    assert saved.leased_by is None
    approved = ApprovedLabel.objects.get(review=saved)
    assert (approved.left, approved.width) == (0.1, 0.2)
    assert approved.source.tag_id == uuid.UUID(apple)


@pytest.mark.parametrize(
    ("action", "state"),
    [("reject", ReviewState.REJECTED), ("skip", ReviewState.SKIPPED)],
)
def test_reject_and_skip_record_the_decision_without_labels(
    detection_project, annotator, action, state
):
    review = review_of(detection_project)

    saved = decide(review.pk, annotator, action, 0, "", timezone.now())

    assert saved.state == state
    assert not saved.approved_labels.exists()


def test_accepting_the_prediction_unchanged_is_not_a_change(
    detection_project, annotator
):
    review = review_of(detection_project)
    tags = detection_project.tags
    unchanged = [
        label(review, tags["Apple"], [0.1, 0.1, 0.2, 0.2]),
        label(review, tags["Banana"], [0.5, 0.5, 0.3, 0.3]),
    ]

    assert accept(review, annotator, unchanged).changed is False


def test_moving_a_box_is_a_change(detection_project, annotator):
    review = review_of(detection_project)
    tags = detection_project.tags
    moved = [
        label(review, tags["Apple"], [0.12, 0.1, 0.2, 0.2]),
        label(review, tags["Banana"], [0.5, 0.5, 0.3, 0.3]),
    ]

    assert accept(review, annotator, moved).changed is True


BAD_DETECTION_LABELS = {
    "outside the image": lambda r, t: [label(r, t["Apple"], [0.9, 0.1, 0.2, 0.2])],
    "negative left": lambda r, t: [label(r, t["Apple"], [-0.1, 0.1, 0.2, 0.2])],
    "zero width": lambda r, t: [label(r, t["Apple"], [0.1, 0.1, 0, 0.2])],
    "negative height": lambda r, t: [label(r, t["Apple"], [0.1, 0.5, 0.2, -0.1])],
    "infinite": lambda r, t: [label(r, t["Apple"], [0.1, 0.1, 1e400, 0.2])],
    "three numbers": lambda r, t: [label(r, t["Apple"], [0.1, 0.1, 0.2])],
    "text coordinates": lambda r, t: [label(r, t["Apple"], ["0.1", 0, 0.2, 0.2])],
    "no box": lambda r, t: [label(r, t["Apple"], None)],
    "unknown tag": lambda r, t: [
        {"tag": str(uuid.uuid4()), "source": None, "box": [0.1, 0.1, 0.2, 0.2]}
    ],
    "not a tag id": lambda r, t: [
        {"tag": "apple", "source": None, "box": [0.1, 0.1, 0.2, 0.2]}
    ],
    "box of another image": lambda r, t: [
        {"tag": t["Apple"], "source": 999_999, "box": [0.1, 0.1, 0.2, 0.2]}
    ],
    "nothing": lambda r, t: [],
    "not objects": lambda r, t: ["Apple"],
    "too many regions": lambda r, t: (
        [{"tag": t["Apple"], "source": None, "box": [0.1, 0.1, 0.2, 0.2]}] * 301
    ),
}


@pytest.mark.parametrize("case", BAD_DETECTION_LABELS)
def test_an_invalid_accept_changes_nothing(detection_project, annotator, case):
    review = review_of(detection_project)
    labels = BAD_DETECTION_LABELS[case](review, detection_project.tags)

    with pytest.raises(InvalidLabels) as raised:
        accept(review, annotator, labels)

    assert raised.value.problems
    review.refresh_from_db()
    assert review.state == ReviewState.TO_REVIEW
    assert review.version == 0
    assert not ApprovedLabel.objects.exists()


@pytest.mark.parametrize("raw", ["", "{", "null", '{"tag": 1}', "[NaN]"])
def test_it_refuses_labels_that_are_not_a_json_list(detection_project, annotator, raw):
    review = review_of(detection_project)

    with pytest.raises(InvalidLabels):
        decide(review.pk, annotator, "accept", 0, raw, timezone.now())


def test_it_refuses_a_tag_of_another_project(
    detection_project, classification_project, annotator
):
    review = review_of(detection_project)
    foreign = classification_project.tags["Apple"]

    with pytest.raises(InvalidLabels, match="not in this project"):
        accept(
            review,
            annotator,
            [{"tag": foreign, "source": None, "box": [0.1, 0.1, 0.2, 0.2]}],
        )


def test_it_refuses_a_tag_removed_on_the_service(detection_project, annotator):
    review = review_of(detection_project)
    Tag.objects.filter(pk=detection_project.tags["Cherry"]).update(
        removed_at=timezone.now()
    )

    with pytest.raises(InvalidLabels, match="not in this project"):
        accept(
            review,
            annotator,
            [label(review, detection_project.tags["Cherry"], [0.7, 0.1, 0.1, 0.1])],
        )


def test_it_refuses_a_negative_tag_with_a_regular_one(
    classification_project, annotator
):
    review = review_of(classification_project)
    tags = classification_project.tags

    with pytest.raises(InvalidLabels, match="negative tag cannot go with"):
        accept(
            review,
            annotator,
            [label(review, tags["Apple"]), label(review, tags["Nothing"], source=None)],
        )


def test_a_multiclass_item_takes_exactly_one_tag(classification_project, annotator):
    review = review_of(classification_project)
    tags = classification_project.tags

    with pytest.raises(InvalidLabels, match="exactly one tag"):
        accept(
            review,
            annotator,
            [label(review, tags["Apple"]), label(review, tags["Pear"])],
        )

    saved = accept(review, annotator, [label(review, tags["Pear"])])
    assert saved.approved_labels.get().tag_id == uuid.UUID(tags["Pear"])


def test_a_classification_label_has_no_box(classification_project, annotator):
    review = review_of(classification_project)

    with pytest.raises(InvalidLabels, match="classifies images"):
        accept(
            review,
            annotator,
            [label(review, classification_project.tags["Apple"], [0, 0, 1, 1])],
        )


def test_a_second_reviewer_is_not_given_a_claimed_item(
    detection_project, annotator, other
):
    now = timezone.now()
    project = detection_project.project

    first = claim_next(project, annotator, QueueFilters(), now)
    second = claim_next(project, other, QueueFilters(), now)

    assert first is not None and second is not None
    assert first.pk != second.pk
    assert claim(Review.objects.get(pk=first.pk), other, now) is False


def test_an_abandoned_lease_expires(detection_project, annotator, other):
    review = review_of(detection_project)
    now = timezone.now()
    claim(review, annotator, now)

    assert claim(review, other, now + LEASE + timedelta(seconds=1)) is True


def test_holding_a_new_item_releases_the_previous_one(detection_project, annotator):
    now = timezone.now()
    first, second = review_of(detection_project, 0), review_of(detection_project, 1)

    claim(first, annotator, now)
    claim(second, annotator, now)

    first.refresh_from_db()
    assert first.leased_by is None


def test_it_refuses_to_save_over_someone_elses_lease(
    detection_project, annotator, other
):
    review = review_of(detection_project)
    claim(review, annotator, timezone.now())

    with pytest.raises(LeaseHeld, match="ann is reviewing"):
        decide(review.pk, other, "reject", 0, "", timezone.now())


def test_a_stale_save_is_refused_naming_who_changed_it(
    detection_project, annotator, other
):
    review = review_of(detection_project)
    first = timezone.now().replace(hour=9, minute=41, second=7)
    decide(review.pk, annotator, "reject", 0, "", first)

    with pytest.raises(VersionConflict, match="ann changed this item") as raised:
        decide(review.pk, other, "skip", 0, "", first + timedelta(minutes=1))

    assert "at 09:41:07 UTC" in str(raised.value)
    assert "Nothing was saved" in str(raised.value)
    review.refresh_from_db()
    assert (review.state, review.decided_by) == (ReviewState.REJECTED, annotator)


def test_undo_puts_the_item_back_to_review(detection_project, annotator):
    review = review_of(detection_project)
    apple = detection_project.tags["Apple"]
    accept(review, annotator, [label(review, apple, [0.1, 0.1, 0.2, 0.2])])

    undone = undo(review.pk, annotator, timezone.now())

    assert undone.state == ReviewState.TO_REVIEW
    assert undone.leased_by == annotator
    assert not undone.approved_labels.exists()


def test_only_the_decider_can_undo(detection_project, annotator, other):
    review = review_of(detection_project)
    decide(review.pk, annotator, "reject", 0, "", timezone.now())

    with pytest.raises(ReviewError):
        undo(review.pk, other, timezone.now())


def test_bulk_accept_keeps_boxes_at_the_threshold(detection_project, annotator):
    result = bulk_accept(
        detection_project.project,
        QueueFilters(),
        0.6,
        annotator,
        timezone.now(),
        sample_share=0.5,
        rng=random.Random(4),
    )

    assert result.accepted == 4
    assert result.left == 0
    counts = [
        review.approved_labels.count()
        for review in Review.objects.filter(state=ReviewState.APPROVED)
    ]
    # Apple (0.95) everywhere; Banana (0.52, 0.62, 0.72, 0.82) on three.
    assert sorted(counts) == [1, 2, 2, 2]
    assert Review.objects.filter(bulk_accepted=True).count() == 4
    assert Review.objects.filter(audit_sample=True).count() == result.sampled


def test_bulk_accept_leaves_items_with_nothing_at_the_threshold(
    classification_project, annotator
):
    result = bulk_accept(
        classification_project.project,
        QueueFilters(),
        0.75,
        annotator,
        timezone.now(),
    )

    assert (result.accepted, result.left) == (2, 1)
    tags = {str(label.tag_id) for label in ApprovedLabel.objects.all()}
    assert tags == {
        classification_project.tags["Apple"],
        classification_project.tags["Pear"],
    }


def test_bulk_accept_skips_items_someone_is_reviewing(
    detection_project, annotator, other
):
    claim(review_of(detection_project), other, timezone.now())

    result = bulk_accept(
        detection_project.project, QueueFilters(), 0.5, annotator, timezone.now()
    )

    assert result.accepted == 3


def test_the_accept_command_prints_what_it_did(detection_project, annotator, capsys):
    call_command(
        "accept_predictions",
        project=str(detection_project.project.pk),
        min_probability=0.9,
        username="ann",
    )

    out = capsys.readouterr().out
    assert "Accepted 4 predictions; left 0" in out
    assert Review.objects.filter(decided_by=annotator).count() == 4
