"""How the model fared against its reviewers, read from the receipts; reads only.

The figures, as the quality page and the README define them:

- A reviewed image is an item a person accepted: approved, in a batch, promoted or
  failed to promote, and not bulk accepted. Rejected items carry no receipt, and a
  bulk accept is the command's word rather than a person's.
- A judged label is a predicted label whose receipt line says it was kept unchanged,
  moved, relabelled or deleted. Accepted means kept with its tag (unchanged or moved);
  the acceptance rate is accepted / judged.
- Added per image is the number of labels of a tag that reviewers added, over the
  number of reviewed images.
- The suggested threshold is read from the judged labels at or above the project's
  default threshold (below it a dropped label leaves no line, so the share kept would
  flatter the model): the lowest probability p such that, of those labels with a
  probability of p or more, there are at least 20 and at least 95 % were kept
  unchanged. None when no probability qualifies.
- A reviewer's decisions are the items they last accepted or rejected by hand (skips
  and bulk accepts aside). Items per hour is decisions over active time: the gaps
  between their consecutive decisions, each capped at 5 minutes, plus 5 minutes for
  the first. A low-probability item has no predicted label at 0.5 or above; the
  rubber-stamp share is, of those they accepted, the share accepted unchanged.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import groupby, pairwise
from operator import itemgetter
from typing import NamedTuple
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from reviewer.models import (
    Correction,
    Iteration,
    PredictedLabel,
    Project,
    Review,
    ReviewState,
    Tag,
)

ACCEPTED_STATES = (
    ReviewState.APPROVED,
    ReviewState.IN_BATCH,
    ReviewState.PROMOTED,
    ReviewState.FAILED,
)
DECIDED_STATES = (*ACCEPTED_STATES, ReviewState.REJECTED)
JUDGED = (
    Correction.Kind.UNCHANGED,
    Correction.Kind.MOVED,
    Correction.Kind.RELABELLED,
    Correction.Kind.DELETED,
)
UNCHANGED_SHARE = Fraction(95, 100)
MIN_SAMPLE = 20
# A longer pause between two decisions counts as this much work: a break, not review.
GAP_CAP = timedelta(minutes=5)
# An item is low-probability when none of its predicted labels reaches this.
LOW_PROBABILITY = 0.5


@dataclass(frozen=True, kw_only=True)
class TagQuality:
    """What reviewers did with one tag's labels; `tag` is None for every tag at once."""

    tag: Tag | None
    unchanged: int
    moved: int
    relabelled: int
    deleted: int
    added: int
    reviewed_images: int
    threshold_sample: int
    suggested_threshold: float | None

    @property
    def judged(self) -> int:
        return self.unchanged + self.moved + self.relabelled + self.deleted

    @property
    def accepted(self) -> int:
        return self.unchanged + self.moved

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.judged if self.judged else None

    @property
    def added_per_image(self) -> float | None:
        return self.added / self.reviewed_images if self.reviewed_images else None

    @property
    def too_few_to_suggest(self) -> bool:
        return self.threshold_sample < MIN_SAMPLE


@dataclass(frozen=True)
class ModelQuality:
    overall: TagQuality
    tags: list[TagQuality]


class RelabelMatrix(NamedTuple):
    """Relabel counts; a row is a predicted tag, a column the tag approved instead."""

    tags: list[Tag]
    rows: list[tuple[Tag, list[int]]]


@dataclass(frozen=True)
class ReviewerQuality:
    """One person's pace and how often they accepted the model as it was."""

    name: str
    decided: int
    active_seconds: float
    approved: int
    approved_unchanged: int
    low_approved: int
    low_approved_unchanged: int

    @property
    def items_per_hour(self) -> float | None:
        if not self.active_seconds:
            return None
        return self.decided * 3600 / self.active_seconds

    @property
    def unchanged_share(self) -> float | None:
        return self.approved_unchanged / self.approved if self.approved else None

    @property
    def low_unchanged_share(self) -> float | None:
        if not self.low_approved:
            return None
        return self.low_approved_unchanged / self.low_approved


@dataclass(frozen=True)
class QualityReport:
    iterations: list[Iteration]
    iteration: Iteration | None
    model: ModelQuality
    relabels: RelabelMatrix
    reviewers: list[ReviewerQuality]


def quality_report(project: Project, iteration_id: UUID | None) -> QualityReport:
    """Gather the quality page's figures; an iteration not of the project means all."""
    iterations = list(project.iterations.all())
    iteration = next((it for it in iterations if it.pk == iteration_id), None)
    return QualityReport(
        iterations=iterations,
        iteration=iteration,
        model=model_quality(project, iteration),
        relabels=relabel_matrix(project, iteration),
        reviewers=reviewer_quality(project),
    )


def model_quality(project: Project, iteration: Iteration | None = None) -> ModelQuality:
    """Count what reviewers did with the model's labels, per tag and overall."""
    lines = _lines(project, iteration)
    kinds: dict[UUID, Counter[str]] = defaultdict(Counter)
    # An added line has no predicted tag: it counts for the tag that was added.
    for row in lines.values("kind", tag_id=Coalesce("from_tag", "to_tag")).annotate(
        number=Count("pk")
    ):
        kinds[row["tag_id"]][row["kind"]] = row["number"]

    judged: dict[UUID, list[tuple[float, bool]]] = defaultdict(list)
    for tag_id, probability, kind in lines.filter(
        kind__in=JUDGED, probability__gte=project.default_threshold
    ).values_list("from_tag", "probability", "kind"):
        judged[tag_id].append((probability, kind == Correction.Kind.UNCHANGED))

    images = _reviewed(project, iteration).count()
    listed = [
        tag for tag in project.tags.all() if tag.removed_at is None or tag.pk in kinds
    ]
    return ModelQuality(
        overall=_tally(
            None,
            sum(kinds.values(), Counter()),
            [label for labels in judged.values() for label in labels],
            images,
        ),
        tags=[_tally(tag, kinds[tag.pk], judged[tag.pk], images) for tag in listed],
    )


def _tally(
    tag: Tag | None,
    kinds: Counter[str],
    judged: list[tuple[float, bool]],
    images: int,
) -> TagQuality:
    return TagQuality(
        tag=tag,
        unchanged=kinds[Correction.Kind.UNCHANGED],
        moved=kinds[Correction.Kind.MOVED],
        relabelled=kinds[Correction.Kind.RELABELLED],
        deleted=kinds[Correction.Kind.DELETED],
        added=kinds[Correction.Kind.ADDED],
        reviewed_images=images,
        threshold_sample=len(judged),
        suggested_threshold=suggested_threshold(judged),
    )


def suggested_threshold(judged: Iterable[tuple[float, bool]]) -> float | None:
    """Return the lowest probability whose labels at or above it were kept enough.

    `judged` holds (probability, kept unchanged) pairs. Labels of equal probability
    are taken together, since a threshold cannot split them.
    """
    best = None
    seen = unchanged = 0
    ordered = sorted(judged, key=itemgetter(0), reverse=True)
    for probability, labels in groupby(ordered, key=itemgetter(0)):
        for _, kept in labels:
            seen += 1
            unchanged += kept

        if seen >= MIN_SAMPLE and unchanged >= UNCHANGED_SHARE * seen:
            best = probability
    return best


def relabel_matrix(
    project: Project, iteration: Iteration | None = None
) -> RelabelMatrix:
    """Count relabelled labels from predicted tag to approved tag."""
    pairs = Counter(
        {
            (row["from_tag"], row["to_tag"]): row["number"]
            for row in _lines(project, iteration)
            .filter(kind=Correction.Kind.RELABELLED)
            .values("from_tag", "to_tag")
            .annotate(number=Count("pk"))
        }
    )

    involved = {tag_id for pair in pairs for tag_id in pair}
    tags = [tag for tag in project.tags.all() if tag.pk in involved]
    rows = [(tag, [pairs[tag.pk, column.pk] for column in tags]) for tag in tags]
    return RelabelMatrix(tags, rows)


def reviewer_quality(project: Project) -> list[ReviewerQuality]:
    """Sum up each person's accepts and rejects of the project, bulk accepts aside."""
    decisions = Review.objects.filter(
        project=project,
        state__in=DECIDED_STATES,
        bulk_accepted=False,
        decided_by__isnull=False,
        decided_at__isnull=False,
    )
    times: dict[int, list[datetime]] = defaultdict(list)
    for user_id, decided_at in decisions.order_by("decided_at").values_list(
        "decided_by", "decided_at"
    ):
        times[user_id].append(decided_at)

    approved = Q(state__in=ACCEPTED_STATES)
    unchanged = approved & Q(changed=False)
    confident = PredictedLabel.objects.filter(
        prediction=OuterRef("prediction"), probability__gte=LOW_PROBABILITY
    )
    low = ~Exists(confident)
    rows = (
        decisions.values("decided_by", "decided_by__username")
        .annotate(
            decided=Count("pk"),
            approved=Count("pk", filter=approved),
            approved_unchanged=Count("pk", filter=unchanged),
            low_approved=Count("pk", filter=approved & low),
            low_approved_unchanged=Count("pk", filter=unchanged & low),
        )
        .order_by("decided_by__username")
    )
    return [
        ReviewerQuality(
            name=row["decided_by__username"],
            decided=row["decided"],
            active_seconds=active_time(times[row["decided_by"]]).total_seconds(),
            approved=row["approved"],
            approved_unchanged=row["approved_unchanged"],
            low_approved=row["low_approved"],
            low_approved_unchanged=row["low_approved_unchanged"],
        )
        for row in rows
    ]


def active_time(times: list[datetime]) -> timedelta:
    """Sum the capped gaps between sorted decisions, plus one cap for the first."""
    if not times:
        return timedelta()
    gaps = (later - earlier for earlier, later in pairwise(times))
    return GAP_CAP + sum((min(gap, GAP_CAP) for gap in gaps), timedelta())


def _reviewed(project: Project, iteration: Iteration | None) -> QuerySet[Review]:
    reviews = Review.objects.filter(
        project=project, state__in=ACCEPTED_STATES, bulk_accepted=False
    )
    if iteration is not None:
        reviews = reviews.filter(prediction__iteration=iteration)
    return reviews


def _lines(project: Project, iteration: Iteration | None) -> QuerySet[Correction]:
    return Correction.objects.filter(review__in=_reviewed(project, iteration))
