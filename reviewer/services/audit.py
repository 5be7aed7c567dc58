"""Reads for the lead: reviewed items by what changed, and promotion outcomes."""

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from reviewer.models import (
    Batch,
    Correction,
    Outcome,
    Project,
    PromotionRun,
    Review,
    ReviewState,
)
from reviewer.services.receipts import LOW_IOU

DECIDED = [
    ReviewState.APPROVED,
    ReviewState.REJECTED,
    ReviewState.IN_BATCH,
    ReviewState.PROMOTED,
    ReviewState.FAILED,
]
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """What the lead narrows reviewed items or outcomes down to."""

    relabelled: bool = False
    relabelled_from: UUID | None = None
    relabelled_to: UUID | None = None
    min_added: int | None = None
    unchanged: bool = False
    low_iou: bool = False
    reviewer_id: int | None = None
    since: date | None = None
    until: date | None = None
    bulk: bool = False
    sampled: bool = False
    outcome: str = ""
    tag_id: UUID | None = None


def reviewed_items(project: Project, filters: AuditFilters) -> QuerySet[Review]:
    """Return the project's decided items matching the receipt filters, newest first."""
    reviews = Review.objects.filter(project=project, state__in=DECIDED)
    reviews = _decided_between(reviews, filters, "decided_at")
    if filters.relabelled or filters.relabelled_from or filters.relabelled_to:
        relabels = Correction.objects.filter(
            review=OuterRef("pk"), kind=Correction.Kind.RELABELLED
        )
        if filters.relabelled_from:
            relabels = relabels.filter(from_tag_id=filters.relabelled_from)
        if filters.relabelled_to:
            relabels = relabels.filter(to_tag_id=filters.relabelled_to)
        reviews = reviews.filter(Exists(relabels))
    if filters.min_added:
        added = (
            Correction.objects.filter(review=OuterRef("pk"), kind="added")
            .values("review")
            .annotate(number=Count("pk"))
            .filter(number__gte=filters.min_added)
        )
        reviews = reviews.filter(Exists(added))
    if filters.unchanged:
        reviews = reviews.exclude(state=ReviewState.REJECTED).filter(changed=False)
    if filters.low_iou:
        reviews = reviews.filter(
            Exists(Correction.objects.filter(review=OuterRef("pk"), iou__lt=LOW_IOU))
        )
    if filters.reviewer_id:
        reviews = reviews.filter(decided_by_id=filters.reviewer_id)
    if filters.bulk:
        reviews = reviews.filter(bulk_accepted=True)
    if filters.sampled:
        reviews = reviews.filter(audit_sample=True)
    return reviews.select_related("prediction", "decided_by", "audited_by").order_by(
        "-decided_at", "pk"
    )


def _decided_between(queryset: QuerySet, filters: AuditFilters, field: str):
    if filters.since:
        start = datetime.combine(
            filters.since, time.min, tzinfo=timezone.get_current_timezone()
        )
        queryset = queryset.filter(**{f"{field}__gte": start})
    if filters.until:
        end = datetime.combine(
            filters.until, time.max, tzinfo=timezone.get_current_timezone()
        )
        queryset = queryset.filter(**{f"{field}__lte": end})
    return queryset


def promotion_outcomes(project: Project, filters: AuditFilters) -> QuerySet[Outcome]:
    """Return the project's recorded image outcomes matching the filters."""
    outcomes = Outcome.objects.filter(run__project=project).exclude(
        kind=Outcome.Kind.PENDING
    )
    outcomes = _decided_between(outcomes, filters, "recorded_at")
    if filters.outcome:
        outcomes = outcomes.filter(kind=filters.outcome)
    if filters.tag_id:
        outcomes = outcomes.filter(review__approved_labels__tag_id=filters.tag_id)
    if filters.reviewer_id:
        outcomes = outcomes.filter(review__decided_by_id=filters.reviewer_id)
    return (
        outcomes.distinct()
        .select_related("review__decided_by", "batch", "run")
        .order_by("-recorded_at", "pk")
    )


def recent_runs(project: Project) -> list[PromotionRun]:
    """Return the project's latest runs, each with its counts by outcome."""
    counts = {
        kind: Count("outcomes", filter=Q(outcomes__kind=kind))
        for kind in Outcome.Kind.values
    }
    return list(
        project.promotion_runs.select_related("requested_by").annotate(**counts)[:20]
    )


@dataclass(frozen=True)
class BatchCall:
    """One batch of a run with the bodies it sent and received, laid out to read."""

    batch: Batch
    request: str
    response: str


def run_batches(run: PromotionRun) -> list[BatchCall]:
    """Return the run's batches, each with its request and response indented."""
    return [
        BatchCall(
            batch=batch,
            request=_indented(batch.request_body),
            response=_readable(batch.response_body),
        )
        for batch in run.batches.all()
    ]


def _indented(body: object) -> str:
    return json.dumps(body, indent=2, ensure_ascii=False)


def _readable(text: str) -> str:
    """Indent a stored body that is JSON; keep any other text as it was stored."""
    try:
        return _indented(json.loads(text))
    except ValueError:
        return text


def pending_audits(project: Project) -> int:
    """Count the bulk-accepted items sampled for audit that no lead has judged."""
    return Review.objects.filter(
        project=project, audit_sample=True, audit_verdict=""
    ).count()
