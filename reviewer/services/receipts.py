"""Correction receipts: what a reviewer changed relative to the model, line by line."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from reviewer.models import Correction, PredictedLabel, Project, ProjectKind, Review

Box = tuple[float, float, float, float]
# Boxes are compared with this tolerance: a browser rounds what it sends back.
SAME_BOX = 1e-4
LOW_IOU = 0.5


@dataclass(frozen=True)
class Approval:
    """One approved label as the receipt sees it."""

    tag_id: UUID
    source_id: int | None
    box: Box | None


def iou(first: Box, second: Box) -> float:
    """Return the intersection over union of two boxes (left, top, width, height)."""
    left = max(first[0], second[0])
    top = max(first[1], second[1])
    right = min(first[0] + first[2], second[0] + second[2])
    bottom = min(first[1] + first[3], second[1] + second[3])
    overlap = max(right - left, 0) * max(bottom - top, 0)
    union = first[2] * first[3] + second[2] * second[3] - overlap
    return overlap / union if union > 0 else 0.0


def corrections(
    project: Project, predicted: Iterable[PredictedLabel], approved: list[Approval]
) -> list[Correction]:
    """Compare the approved labels with the prediction; return unsaved receipt lines."""
    by_id = {label.pk: label for label in predicted}
    if project.kind == ProjectKind.MULTICLASS:
        return [_multiclass_line(by_id.values(), approval) for approval in approved]
    lines = [_line(approval, by_id.get(approval.source_id)) for approval in approved]
    used = {approval.source_id for approval in approved}
    lines += [
        Correction(
            kind=Correction.Kind.DELETED,
            predicted=label,
            from_tag_id=label.tag_id,
            probability=label.probability,
        )
        for label in by_id.values()
        if label.pk not in used and label.probability >= project.default_threshold
    ]
    return lines


def _line(approval: Approval, source: PredictedLabel | None) -> Correction:
    if source is None:
        return Correction(kind=Correction.Kind.ADDED, to_tag_id=approval.tag_id)

    overlap = None
    kind = Correction.Kind.UNCHANGED
    if source.box and approval.box:
        overlap = iou(source.box, approval.box)
        if _moved(source.box, approval.box):
            kind = Correction.Kind.MOVED
    if source.tag_id != approval.tag_id:
        kind = Correction.Kind.RELABELLED
    return Correction(
        kind=kind,
        predicted=source,
        from_tag_id=source.tag_id,
        to_tag_id=approval.tag_id,
        probability=source.probability,
        iou=overlap,
    )


def _moved(before: Box, after: Box) -> bool:
    return any(abs(a - b) > SAME_BOX for a, b in zip(before, after, strict=True))


def _multiclass_line(predicted, approval: Approval) -> Correction:
    """In multiclass the model's answer is its top tag: kept, or relabelled."""
    top = max(predicted, key=lambda label: label.probability, default=None)
    if top is None:
        return Correction(kind=Correction.Kind.ADDED, to_tag_id=approval.tag_id)
    same = top.tag_id == approval.tag_id
    return Correction(
        kind=Correction.Kind.UNCHANGED if same else Correction.Kind.RELABELLED,
        predicted=top,
        from_tag_id=top.tag_id,
        to_tag_id=approval.tag_id,
        probability=top.probability,
    )


def summary(lines: list[Correction]) -> dict:
    """Count the lines by kind, with the lowest IoU of a box that was kept."""
    counts = Counter(line.kind for line in lines)
    ious = [line.iou for line in lines if line.iou is not None]
    return {
        **{kind: counts.get(kind, 0) for kind in Correction.Kind.values},
        "min_iou": round(min(ious), 3) if ious else None,
    }


def is_change(receipt: dict) -> bool:
    """Tell whether a receipt shows any change to what the model said."""
    return any(
        receipt.get(kind) for kind in Correction.Kind.values if kind != "unchanged"
    )


def store(
    reviews_and_lines: list[tuple[Review, list[Correction]]], replace: bool = True
) -> None:
    """Replace the receipts of the given reviews with their new lines.

    `replace=False` skips deleting old lines, for reviews known to have none.
    """
    if replace:
        Correction.objects.filter(
            review__in=[review for review, _ in reviews_and_lines]
        ).delete()
    for review, lines in reviews_and_lines:
        for line in lines:
            line.review = review
    Correction.objects.bulk_create(
        line for _, lines in reviews_and_lines for line in lines
    )
