import json

import pytest
from django.utils import timezone

from reviewer.models import Correction, Review
from reviewer.services.queue import QueueFilters
from reviewer.services.receipts import iou
from reviewer.services.review import bulk_accept, decide

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ((0, 0, 1, 1), (0, 0, 1, 1), 1.0),
        ((0, 0, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5), 0.0),
        ((0, 0, 0.4, 0.4), (0.2, 0.2, 0.4, 0.4), 0.04 / 0.28),
        ((0.1, 0.1, 0.2, 0.2), (0.1, 0.1, 0.2, 0.1), 0.5),
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),
    ],
)
def test_iou_of_hand_built_boxes(first, second, expected):
    assert iou(first, second) == pytest.approx(expected)


def sources(review: Review) -> dict[str, int]:
    return {
        label.tag.name: label.pk
        for label in review.prediction.labels.select_related("tag")
    }


def accept(review, user, labels):
    return decide(
        review.pk, user, "accept", review.version, json.dumps(labels), timezone.now()
    )


def lines(review) -> list[tuple]:
    return sorted(
        (
            line.kind,
            getattr(line.from_tag, "name", None),
            getattr(line.to_tag, "name", None),
        )
        for line in Correction.objects.filter(review=review).select_related(
            "from_tag", "to_tag"
        )
    )


def test_a_receipt_counts_each_kind_of_change(detection_project, annotator):
    tags = detection_project.tags
    review = Review.objects.select_related("prediction").get(
        pk=detection_project.predictions[0]
    )
    source = sources(review)

    saved = accept(
        review,
        annotator,
        [
            # Apple kept but moved: IoU of (0.1,0.1,0.2,0.2) and (0.1,0.1,0.2,0.1).
            {
                "tag": tags["Apple"],
                "source": source["Apple"],
                "box": [0.1, 0.1, 0.2, 0.1],
            },
            # Banana relabelled Cherry in place.
            {
                "tag": tags["Cherry"],
                "source": source["Banana"],
                "box": [0.5, 0.5, 0.3, 0.3],
            },
            # A box the model missed.
            {"tag": tags["Apple"], "source": None, "box": [0.0, 0.8, 0.1, 0.1]},
        ],
    )

    assert lines(saved) == [
        ("added", None, "Apple"),
        ("moved", "Apple", "Apple"),
        ("relabelled", "Banana", "Cherry"),
    ]
    assert saved.receipt == {
        "unchanged": 0,
        "moved": 1,
        "relabelled": 1,
        "deleted": 0,
        "added": 1,
        "min_iou": 0.5,
    }
    assert saved.changed is True


def test_a_dropped_box_above_the_threshold_is_a_false_positive(
    detection_project, annotator
):
    tags = detection_project.tags
    review = Review.objects.select_related("prediction").get(
        pk=detection_project.predictions[0]
    )

    saved = accept(
        review,
        annotator,
        [
            {
                "tag": tags["Apple"],
                "source": sources(review)["Apple"],
                "box": [0.1, 0.1, 0.2, 0.2],
            }
        ],
    )

    # Banana (0.52) was shown and dropped; Cherry (0.05) was below the threshold.
    assert lines(saved) == [
        ("deleted", "Banana", None),
        ("unchanged", "Apple", "Apple"),
    ]


def test_a_multiclass_swap_is_one_relabel(classification_project, annotator):
    tags = classification_project.tags
    review = Review.objects.select_related("prediction").get(
        pk=classification_project.predictions[0]
    )

    saved = accept(
        review,
        annotator,
        [{"tag": tags["Pear"], "source": sources(review)["Pear"], "box": None}],
    )

    assert lines(saved) == [("relabelled", "Apple", "Pear")]
    assert saved.receipt["relabelled"] == 1


def test_bulk_accept_receipts_show_only_kept_labels(detection_project, annotator):
    bulk_accept(
        detection_project.project, QueueFilters(), 0.9, annotator, timezone.now()
    )

    review = Review.objects.get(pk=detection_project.predictions[0])
    assert review.receipt["unchanged"] == 1
    assert review.receipt["deleted"] == 1
    assert review.changed is True
