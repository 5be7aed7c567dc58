import uuid

import pytest

from reviewer.models import Correction, PredictedLabel, Project, ProjectKind
from reviewer.services.receipts import Approval, corrections, iou, summary

APPLE, BANANA = uuid.uuid4(), uuid.uuid4()
DETECTION = Project(kind=ProjectKind.OBJECT_DETECTION, default_threshold=0.5)
MULTICLASS = Project(kind=ProjectKind.MULTICLASS, default_threshold=0.5)


def predicted(pk: int, tag: uuid.UUID, probability: float, box=None) -> PredictedLabel:
    left, top, width, height = box or (None, None, None, None)
    return PredictedLabel(
        pk=pk,
        tag_id=tag,
        probability=probability,
        left=left,
        top=top,
        width=width,
        height=height,
    )


def kinds(lines: list[Correction]) -> list[tuple]:
    return sorted((line.kind, line.probability) for line in lines)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ((0.1, 0.1, 0.2, 0.2), (0.1, 0.1, 0.2, 0.2), 1.0),
        ((0.0, 0.0, 0.5, 0.5), (0.25, 0.0, 0.5, 0.5), 1 / 3),
        ((0.0, 0.0, 1.0, 1.0), (0.0, 0.0, 0.5, 0.5), 0.25),
        ((0.0, 0.0, 0.2, 0.2), (0.2, 0.0, 0.2, 0.2), 0.0),
        ((0.0, 0.0, 0.2, 0.2), (0.5, 0.5, 0.2, 0.2), 0.0),
    ],
    ids=["same", "half-overlap", "inside", "touching", "apart"],
)
def test_iou_has_the_known_answer(first, second, expected):
    assert iou(first, second) == pytest.approx(expected)
    assert iou(second, first) == pytest.approx(expected)


def test_a_box_kept_as_predicted_is_unchanged_with_an_iou_of_one():
    box = (0.1, 0.1, 0.2, 0.2)

    [line] = corrections(
        DETECTION, [predicted(1, APPLE, 0.9, box)], [Approval(APPLE, 1, box)]
    )

    assert (line.kind, line.from_tag_id, line.to_tag_id) == (
        Correction.Kind.UNCHANGED,
        APPLE,
        APPLE,
    )
    assert line.iou == pytest.approx(1.0)


def test_a_moved_box_records_how_much_it_still_overlaps():
    [line] = corrections(
        DETECTION,
        [predicted(1, APPLE, 0.9, (0.1, 0.1, 0.2, 0.2))],
        [Approval(APPLE, 1, (0.2, 0.1, 0.2, 0.2))],
    )

    assert line.kind == Correction.Kind.MOVED
    assert line.iou == pytest.approx(1 / 3)


def test_a_box_given_another_tag_is_relabelled_from_the_predicted_tag():
    box = (0.1, 0.1, 0.2, 0.2)

    [line] = corrections(
        DETECTION, [predicted(1, APPLE, 0.8, box)], [Approval(BANANA, 1, box)]
    )

    assert (line.kind, line.from_tag_id, line.to_tag_id, line.probability) == (
        Correction.Kind.RELABELLED,
        APPLE,
        BANANA,
        0.8,
    )


def test_a_dropped_label_is_deleted_only_at_or_above_the_default_threshold():
    labels = [
        predicted(1, APPLE, 0.9, (0.1, 0.1, 0.2, 0.2)),
        predicted(2, APPLE, 0.5, (0.5, 0.5, 0.2, 0.2)),
        predicted(3, BANANA, 0.49, (0.7, 0.1, 0.1, 0.1)),
    ]

    lines = corrections(DETECTION, labels, [Approval(APPLE, 1, (0.1, 0.1, 0.2, 0.2))])

    assert kinds(lines) == [
        (Correction.Kind.DELETED, 0.5),
        (Correction.Kind.UNCHANGED, 0.9),
    ]


def test_a_drawn_box_is_added_with_no_predicted_label():
    [line] = corrections(DETECTION, [], [Approval(BANANA, None, (0, 0, 0.1, 0.1))])

    assert (line.kind, line.predicted, line.from_tag_id, line.to_tag_id) == (
        Correction.Kind.ADDED,
        None,
        None,
        BANANA,
    )


def test_a_multiclass_answer_other_than_the_top_tag_is_one_relabel():
    labels = [predicted(1, APPLE, 0.7), predicted(2, BANANA, 0.3)]

    [line] = corrections(MULTICLASS, labels, [Approval(BANANA, 2, None)])

    assert (line.kind, line.from_tag_id, line.to_tag_id, line.probability) == (
        Correction.Kind.RELABELLED,
        APPLE,
        BANANA,
        0.7,
    )


def test_a_multiclass_top_tag_kept_is_unchanged():
    labels = [predicted(1, APPLE, 0.7), predicted(2, BANANA, 0.3)]

    [line] = corrections(MULTICLASS, labels, [Approval(APPLE, 1, None)])

    assert (line.kind, line.probability) == (Correction.Kind.UNCHANGED, 0.7)


def test_the_summary_counts_lines_and_keeps_the_lowest_iou():
    lines = corrections(
        DETECTION,
        [
            predicted(1, APPLE, 0.9, (0.1, 0.1, 0.2, 0.2)),
            predicted(2, APPLE, 0.8, (0.0, 0.0, 0.5, 0.5)),
            predicted(3, BANANA, 0.6, (0.7, 0.7, 0.1, 0.1)),
        ],
        [
            Approval(APPLE, 1, (0.1, 0.1, 0.2, 0.2)),
            Approval(APPLE, 2, (0.25, 0.0, 0.5, 0.5)),
            Approval(BANANA, None, (0.0, 0.8, 0.1, 0.1)),
        ],
    )

    assert summary(lines) == {
        "unchanged": 1,
        "moved": 1,
        "relabelled": 0,
        "deleted": 1,
        "added": 1,
        "min_iou": 0.333,
    }
