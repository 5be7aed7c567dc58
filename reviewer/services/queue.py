"""Reads behind the queue: filters, orders, counts and the next item to review."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from reviewer.models import (
    RETENTION,
    PredictedLabel,
    Project,
    Review,
    ReviewState,
)

ORDERS = {
    "suggested": "Suggested (most uncertain first)",
    "newest": "Newest",
    "oldest": "Oldest",
    "expiring": "Expiring soonest",
}
EXPIRY_CHOICES = {
    "": "Any expiry",
    "7": "Expires within 7 days",
    "3": "Expires within 3 days",
    "1": "Expires within a day",
    "expired": "Expired",
}
PAGE_SIZE = 48


@dataclass(frozen=True)
class QueueFilters:
    """Validated filters; the default shows what is left to review."""

    state: str = ReviewState.TO_REVIEW
    iteration_id: UUID | None = None
    tag_id: UUID | None = None
    min_probability: float | None = None
    max_probability: float | None = None
    expiry: str = ""
    order: str = "suggested"
    audit_pending: bool = False

    @property
    def filters_labels(self) -> bool:
        return bool(self.tag_id) or (self.min_probability, self.max_probability) != (
            None,
            None,
        )


def matching_reviews(
    project: Project, filters: QueueFilters, now: datetime
) -> QuerySet[Review]:
    """Return the project's reviews that match the filters, in the chosen order."""
    reviews = Review.objects.filter(
        project=project, prediction__removed_at=None, state=filters.state
    )
    reviews = _filter_expiry(reviews, filters.expiry, now)
    if filters.iteration_id:
        reviews = reviews.filter(prediction__iteration_id=filters.iteration_id)
    if filters.filters_labels:
        reviews = reviews.filter(Exists(_matching_labels(filters)))
    if filters.audit_pending:
        reviews = reviews.filter(audit_sample=True, audit_verdict="")
    return _order(reviews, filters.order)


def _filter_expiry(reviews: QuerySet[Review], expiry: str, now: datetime):
    if expiry == "expired":
        return reviews.filter(predicted_at__lte=now - RETENTION)

    reviews = reviews.filter(predicted_at__gt=now - RETENTION)
    if expiry:
        days = timedelta(days=int(expiry))
        reviews = reviews.filter(predicted_at__lte=now - RETENTION + days)
    return reviews


def _matching_labels(filters: QueueFilters) -> QuerySet[PredictedLabel]:
    labels = PredictedLabel.objects.filter(prediction_id=OuterRef("prediction_id"))
    if filters.tag_id:
        labels = labels.filter(tag_id=filters.tag_id)
    if filters.min_probability is not None:
        labels = labels.filter(probability__gte=filters.min_probability)
    if filters.max_probability is not None:
        labels = labels.filter(probability__lte=filters.max_probability)
    return labels


def _order(reviews: QuerySet[Review], order: str) -> QuerySet[Review]:
    # Each order walks one of Review's indexes from the project's first item.
    if order == "newest":
        return reviews.order_by("-predicted_at", "-pk")
    if order in ("oldest", "expiring"):
        return reviews.order_by("predicted_at", "pk")
    return reviews.order_by("uncertainty", "pk")


@dataclass(frozen=True)
class StateCount:
    key: str
    label: str
    number: int
    query: str


def state_counts(project: Project, now: datetime) -> list[StateCount]:
    """Count the project's live items by state; expired ones left unreviewed apart."""
    live = Q(predicted_at__gt=now - RETENTION)
    rows = (
        Review.objects.filter(project=project, prediction__removed_at=None)
        .values("state")
        .annotate(live=Count("pk", filter=live), total=Count("pk"))
    )
    counts = dict.fromkeys(ReviewState.values, 0)
    expired = 0
    for row in rows:
        done = row["state"] == ReviewState.PROMOTED
        counts[row["state"]] = row["total"] if done else row["live"]
        if row["state"] == ReviewState.TO_REVIEW:
            expired = row["total"] - row["live"]
    return [
        *(
            StateCount(state, label, counts[state], f"state={state}")
            for state, label in ReviewState.choices
        ),
        StateCount("expired", "Expired", expired, "expiry=expired"),
    ]


def with_thumbnail_data(reviews: QuerySet[Review]) -> QuerySet[Review]:
    """Load what each queue row shows, in a fixed number of queries."""
    return reviews.select_related(
        "prediction", "prediction__iteration", "decided_by"
    ).prefetch_related("prediction__labels__tag")
