"""Hand-built projects, reviews and receipt lines, for figures with known answers."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

from reviewer.models import (
    Correction,
    Iteration,
    PredictedLabel,
    Prediction,
    Project,
    ProjectKind,
    Review,
    ReviewState,
    Tag,
)

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    kind: str
    from_tag: str | None
    to_tag: str | None
    probability: float | None


def kept(tag: str, probability: float) -> Line:
    return Line(Correction.Kind.UNCHANGED, tag, tag, probability)


def moved(tag: str, probability: float) -> Line:
    return Line(Correction.Kind.MOVED, tag, tag, probability)


def relabelled(tag: str, to: str, probability: float) -> Line:
    return Line(Correction.Kind.RELABELLED, tag, to, probability)


def deleted(tag: str, probability: float) -> Line:
    return Line(Correction.Kind.DELETED, tag, None, probability)


def added(tag: str) -> Line:
    return Line(Correction.Kind.ADDED, None, tag, None)


def make_shop(name: str = "Shop", kind: str = ProjectKind.OBJECT_DETECTION):
    """Make a project with the tags Apple, Banana, Cherry and two iterations."""
    project = Project.objects.create(
        id=uuid.uuid4(), name=name, kind=kind, domain_id=uuid.uuid4()
    )
    tags = {
        name: Tag.objects.create(id=uuid.uuid4(), project=project, name=name)
        for name in ("Apple", "Banana", "Cherry")
    }
    iterations = [
        Iteration.objects.create(
            id=uuid.uuid4(), project=project, name=f"Iteration {number}"
        )
        for number in (1, 2)
    ]
    return SimpleNamespace(project=project, tags=tags, iterations=iterations)


def make_item(
    shop,
    lines: Sequence[Line] = (),
    *,
    by=None,
    at: datetime = MONDAY,
    state: str = ReviewState.APPROVED,
    bulk: bool = False,
    iteration: Iteration | None = None,
    hidden: Sequence[tuple[str, float]] = (),
) -> Review:
    """Make one decided item whose receipt is `lines`; `hidden` labels have no line."""
    prediction = Prediction.objects.create(
        id=uuid.uuid4(),
        project=shop.project,
        iteration=iteration,
        created=at,
        uris_fetched_at=at,
    )
    review = Review.objects.create(
        prediction=prediction,
        project=shop.project,
        predicted_at=at,
        state=state,
        decided_by=by,
        decided_at=at,
        bulk_accepted=bulk,
        changed=any(line.kind != Correction.Kind.UNCHANGED for line in lines),
    )
    for tag, probability in hidden:
        _predict(prediction, shop.tags[tag], probability)
    Correction.objects.bulk_create(
        Correction(
            review=review,
            kind=line.kind,
            predicted=(
                _predict(prediction, shop.tags[line.from_tag], line.probability)
                if line.from_tag
                else None
            ),
            from_tag=shop.tags.get(line.from_tag),
            to_tag=shop.tags.get(line.to_tag),
            probability=line.probability,
        )
        for line in lines
    )
    return review


def _predict(prediction: Prediction, tag: Tag, probability: float) -> PredictedLabel:
    return PredictedLabel.objects.create(
        prediction=prediction, tag=tag, probability=probability
    )
