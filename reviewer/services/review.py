"""The annotator's decisions: leases, validated labels, versioned saves, undo."""

import json
import math
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from reviewer.customvision import limits
from reviewer.models import (
    ApprovedLabel,
    Correction,
    PredictedLabel,
    Prediction,
    Project,
    ProjectKind,
    Review,
    ReviewState,
    Tag,
)
from reviewer.services import receipts
from reviewer.services.queue import QueueFilters, matching_reviews
from reviewer.services.receipts import Approval

LEASE = timedelta(minutes=5)
DECIDABLE = (
    ReviewState.TO_REVIEW,
    ReviewState.SKIPPED,
    ReviewState.APPROVED,
    ReviewState.REJECTED,
    ReviewState.FAILED,
)
UNDOABLE = (ReviewState.APPROVED, ReviewState.REJECTED, ReviewState.SKIPPED)
ACTIONS = {
    "accept": ReviewState.APPROVED,
    "reject": ReviewState.REJECTED,
    "skip": ReviewState.SKIPPED,
}


class ReviewError(Exception):
    """A decision that cannot be saved; the message says why, for the annotator."""


class InvalidLabels(ReviewError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


class VersionConflict(ReviewError):
    def __init__(self, review: Review) -> None:
        self.review = review
        who = review.decided_by.get_username() if review.decided_by else "someone"
        when = f" at {review.decided_at:%H:%M:%S} UTC" if review.decided_at else ""
        super().__init__(
            f"{who} changed this item{when} after you opened it "
            f"(it is now {review.get_state_display().lower()}). "
            "Nothing was saved; reload it to see their version."
        )


class LeaseHeld(ReviewError):
    def __init__(self, review: Review) -> None:
        self.review = review
        super().__init__(
            f"{review.leased_by.get_username()} is reviewing this item until "
            f"{review.lease_expires_at:%H:%M:%S} UTC."
        )


def _free_for(user, now: datetime) -> Q:
    return Q(leased_by=None) | Q(lease_expires_at__lt=now) | Q(leased_by=user)


def claim(review: Review, user, now: datetime) -> bool:
    """Take the lease on an item unless someone else holds a live one."""
    claimed = (
        Review.objects.filter(pk=review.pk)
        .filter(_free_for(user, now))
        .update(leased_by=user, lease_expires_at=now + LEASE)
    )
    if claimed:
        Review.objects.filter(leased_by=user).exclude(pk=review.pk).update(
            leased_by=None, lease_expires_at=None
        )
        review.leased_by, review.lease_expires_at = user, now + LEASE
    return bool(claimed)


def claim_next(
    project: Project,
    user,
    filters: QueueFilters,
    now: datetime,
    passed: tuple = (),
) -> Review | None:
    """Claim the first item matching the filters that nobody else is reviewing."""
    candidates = (
        matching_reviews(project, filters, now)
        .filter(_free_for(user, now))
        .exclude(pk__in=passed)
    )
    for review in candidates[:20]:
        if claim(review, user, now):
            return review
    return None


def peek_next(
    project: Project, user, filters: QueueFilters, now: datetime, passed: tuple
) -> Review | None:
    """Return the item that would come next, without claiming it (to prefetch)."""
    return (
        matching_reviews(project, filters, now)
        .filter(_free_for(user, now))
        .exclude(pk__in=passed)
        .select_related("prediction")
        .first()
    )


def parse_labels(
    raw: str,
    project: Project,
    predicted: list[PredictedLabel],
    tags: dict[UUID, Tag],
) -> list[Approval]:
    """Read the posted labels and check every rule the service enforces.

    `predicted` are the item's predicted labels and `tags` the project's live tags.
    """
    try:
        items = json.loads(raw)
    except (TypeError, ValueError):
        raise InvalidLabels(["The labels were not sent as JSON."]) from None
    if not isinstance(items, list):
        raise InvalidLabels(["The labels must be a list."])

    limit = (
        limits.MAX_REGIONS_PER_IMAGE
        if project.is_object_detection
        else limits.MAX_TAGS_PER_IMAGE
    )
    if len(items) > limit:
        raise InvalidLabels([f"{len(items)} labels is over the limit of {limit}."])

    sources = {label.pk for label in predicted}
    problems: list[str] = []
    labels = [
        label
        for number, item in enumerate(items, start=1)
        if (label := _read_label(number, item, project, tags, sources, problems))
    ]
    problems += _check_combination(project, labels, tags)
    if problems:
        raise InvalidLabels(problems)
    return labels


def _read_label(
    number: int,
    item: object,
    project: Project,
    tags: dict[UUID, Tag],
    sources: set[int],
    problems: list[str],
) -> Approval | None:
    name = f"Label {number}"
    if not isinstance(item, dict):
        problems.append(f"{name} is not an object.")
        return None

    tag = tags.get(_uuid(item.get("tag")))
    if tag is None:
        problems.append(f"{name} has a tag that is not in this project.")
        return None

    source = item.get("source")
    if source is not None and not (_is_integer(source) and source in sources):
        problems.append(f"{name} ({tag.name}) points at a box of another image.")
        return None

    box = _read_box(f"{name} ({tag.name})", item.get("box"), project, problems)
    if project.is_object_detection and tag.type == limits.TAG_NEGATIVE:
        problems.append(f"{name} uses the negative tag {tag.name} on a box.")
        return None
    if box is False:
        return None
    return Approval(tag_id=tag.pk, source_id=source, box=box)


def _read_box(name: str, raw: object, project: Project, problems: list[str]):
    """Return a checked box, None for classification, or False when invalid."""
    if not project.is_object_detection:
        if raw is not None:
            problems.append(f"{name} has a box, but this project classifies images.")
            return False
        return None

    if not (isinstance(raw, list) and len(raw) == 4 and all(map(_is_number, raw))):
        problems.append(
            f"{name} needs a box of four numbers: left, top, width, height."
        )
        return False

    left, top, width, height = (_as_float(value) for value in raw)
    if not all(math.isfinite(value) for value in (left, top, width, height)):
        problems.append(f"{name} has a coordinate that is not a number.")
    elif width <= 0 or height <= 0:
        problems.append(f"{name} must have a positive width and height.")
    elif not _inside(left, top, width, height):
        problems.append(f"{name} reaches outside the image.")
    else:
        return (left, top, min(width, 1 - left), min(height, 1 - top))
    return False


def _inside(left: float, top: float, width: float, height: float) -> bool:
    """Tell whether a box starts in the image and ends at most a rounding past it."""
    return (
        0 <= left < 1
        and 0 <= top < 1
        and left + width <= 1 + 1e-9
        and top + height <= 1 + 1e-9
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_float(value: int | float) -> float:
    """Return the number as a float; an integer too big for one is infinite."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _check_combination(
    project: Project, labels: list[Approval], tags: dict[UUID, Tag]
) -> list[str]:
    if not labels:
        what = "a box" if project.is_object_detection else "a tag"
        return [f"Add {what} before accepting, or reject the image."]

    types = {tags[label.tag_id].type for label in labels}
    if limits.TAG_NEGATIVE in types and len(labels) > 1:
        return ["A negative tag cannot go with other tags on the same image."]
    distinct = {label.tag_id for label in labels}
    if project.kind == ProjectKind.MULTICLASS and len(labels) > 1:
        return ["A multiclass project takes exactly one tag per image."]
    if not project.is_object_detection and len(distinct) < len(labels):
        return ["A tag is listed twice."]
    return []


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def decide(
    prediction_id: UUID,
    user,
    action: str,
    version: int,
    raw_labels: str,
    now: datetime,
) -> Review:
    """Save a decision on one item if nobody changed it since it was opened."""
    _check_action(action)
    with transaction.atomic():
        (review,) = _locked(Review.objects.filter(pk=prediction_id))
        _check_decidable(review, user, version, now)
        tags = _tags(review.project) if action == "accept" else []
        predicted = _predicted_labels([review.pk], tags) if action == "accept" else {}
        _save_decision(review, action, raw_labels, predicted, tags, user, now)
    return review


@dataclass(frozen=True)
class Card:
    """One item as the review screen shows it."""

    prediction: Prediction
    labels: list[PredictedLabel]
    tags: list[Tag]
    following: Review | None


@dataclass(frozen=True)
class Decision:
    """A saved decision and the item claimed after it, if any is left."""

    review: Review
    next: Card | None


def decide_and_claim_next(
    project_id: UUID,
    prediction_id: UUID,
    user,
    action: str,
    version: int,
    raw_labels: str,
    filters: QueueFilters,
    now: datetime,
) -> Decision:
    """Save a decision and claim the next matching item, in a fixed few queries."""
    _check_action(action)
    with transaction.atomic():
        # The user's other leases come too, locked, to be released with the decision.
        rows = _locked(
            Review.objects.filter(
                Q(pk=prediction_id, project_id=project_id) | Q(leased_by=user)
            )
        )
        review = next((row for row in rows if row.pk == prediction_id), None)
        if review is None:
            raise Review.DoesNotExist(f"No item {prediction_id} in {project_id}.")
        _check_decidable(review, user, version, now)

        # Locked, so other reviewers skip them until this commits.
        upcoming = list(
            matching_reviews(review.project, filters, now)
            .filter(_free_for(user, now))
            .exclude(pk=review.pk)
            .select_related("prediction__iteration")
            .select_for_update(skip_locked=True, of=("self",))[:2]
        )
        for item in upcoming:
            item.project = item.prediction.project = review.project
        tags = _tags(review.project)
        predicted = _predicted_labels(
            [review.pk, *(item.pk for item in upcoming)], tags
        )
        _save_decision(review, action, raw_labels, predicted, tags, user, now)
        held = [row.pk for row in rows if row is not review]
        _move_lease(user, upcoming[0] if upcoming else None, held, now)

    if not upcoming:
        return Decision(review, None)
    following = upcoming[1] if len(upcoming) > 1 else None
    card = Card(upcoming[0].prediction, predicted[upcoming[0].pk], tags, following)
    return Decision(review, card)


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ReviewError(f"Unknown decision {action!r}.")


def _locked(reviews) -> list[Review]:
    """Load reviews for a decision, locking their rows until it is saved."""
    # Who decided or holds it is read only to explain a refusal.
    return list(reviews.select_related("project").select_for_update(of=("self",)))


def _move_lease(user, claimed: Review | None, held: list[UUID], now: datetime) -> None:
    """Give the user the lease on the next item; release any other they held."""
    if claimed is not None:
        claimed.leased_by, claimed.lease_expires_at = user, now + LEASE
        Review.objects.filter(pk=claimed.pk).update(
            leased_by=user, lease_expires_at=claimed.lease_expires_at
        )
    if held:
        Review.objects.filter(pk__in=held).update(leased_by=None, lease_expires_at=None)


def _tags(project: Project) -> list[Tag]:
    """Every tag of the project, those the service removed included."""
    return list(project.tags.all())


def _save_decision(
    review: Review,
    action: str,
    raw_labels: str,
    predicted: dict[UUID, list[PredictedLabel]],
    tags: list[Tag],
    user,
    now: datetime,
) -> None:
    """Validate and write a decision on a locked review."""
    project = review.project
    lines: list[Correction] = []
    labels: list[Approval] = []
    if action == "accept":
        live = {tag.pk: tag for tag in tags if tag.removed_at is None}
        labels = parse_labels(raw_labels, project, predicted[review.pk], live)
        lines = receipts.corrections(project, predicted[review.pk], labels)
    receipt = receipts.summary(lines) if action == "accept" else {}
    # An item still to review has neither approved labels nor a receipt to replace.
    fresh = review.state == ReviewState.TO_REVIEW
    fields = {
        "state": ACTIONS[action],
        "version": review.version + 1,
        "decided_by": user,
        "decided_at": now,
        "leased_by": None,
        "lease_expires_at": None,
        "bulk_accepted": False,
        "changed": receipts.is_change(receipt),
        "receipt": receipt,
        "failure_reason": "",
        **_audit_verdict(review, user, action, labels, now),
    }
    for name, value in fields.items():
        setattr(review, name, value)

    Review.objects.filter(pk=review.pk).update(**fields)
    _replace_approved_labels(review, labels, fresh)
    receipts.store([(review, lines)], replace=not fresh)


def _audit_verdict(
    review: Review, user, action: str, labels: list[Approval], now: datetime
) -> dict:
    """Record a lead's verdict on a sampled bulk acceptance: confirmed or corrected."""
    judging = (
        review.audit_sample
        and not review.audit_verdict
        and review.state == ReviewState.APPROVED
        and user.has_perm("reviewer.audit")
    )
    if not judging:
        return {}
    before = {
        (label.tag_id, label.source_id, label.box)
        for label in review.approved_labels.all()
    }
    after = {(label.tag_id, label.source_id, label.box) for label in labels}
    same = action == "accept" and before == after
    return {
        "audit_verdict": "confirmed" if same else "corrected",
        "audited_by": user,
        "audited_at": now,
        "bulk_accepted": review.bulk_accepted,
    }


def _check_decidable(review: Review, user, version: int, now: datetime) -> None:
    if review.version != version or review.state not in DECIDABLE:
        raise VersionConflict(review)
    lease_live = review.lease_expires_at and review.lease_expires_at > now
    if lease_live and review.leased_by_id not in (None, user.pk):
        raise LeaseHeld(review)


def _replace_approved_labels(
    review: Review, labels: list[Approval], fresh: bool = False
) -> None:
    if not fresh:
        review.approved_labels.all().delete()
    ApprovedLabel.objects.bulk_create(
        ApprovedLabel(
            review=review,
            tag_id=label.tag_id,
            source_id=label.source_id,
            **_box_fields(label.box),
        )
        for label in labels
    )


def _box_fields(box: tuple[float, float, float, float] | None) -> dict:
    left, top, width, height = box or (None, None, None, None)
    return {"left": left, "top": top, "width": width, "height": height}


def undo(prediction_id: UUID, user, now: datetime) -> Review:
    """Put the user's own last decision back to review, and hand them the item."""
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=prediction_id)
        if review.decided_by_id != user.pk or review.state not in UNDOABLE:
            raise ReviewError("Only your own last decision can be undone.")
        review.approved_labels.all().delete()
        Review.objects.filter(pk=review.pk).update(
            state=ReviewState.TO_REVIEW,
            version=F("version") + 1,
            decided_by=None,
            decided_at=None,
            bulk_accepted=False,
            audit_sample=False,
            changed=False,
            receipt={},
        )
        receipts.store([(review, [])])
        review.refresh_from_db()
        claim(review, user, now)
    return review


@dataclass(frozen=True)
class BulkResult:
    accepted: int
    left: int
    sampled: int


def bulk_candidates(project: Project, filters: QueueFilters, user, now: datetime):
    """The items a bulk accept would touch: matching, to review, free for the user."""
    to_review = replace(filters, state=ReviewState.TO_REVIEW)
    return matching_reviews(project, to_review, now).filter(_free_for(user, now))


def bulk_accept(
    project: Project,
    filters: QueueFilters,
    min_probability: float,
    user,
    now: datetime,
    sample_share: float | None = None,
    rng: random.Random | None = None,
) -> BulkResult:
    """Accept every matching item as predicted, keeping labels at the threshold."""
    share = settings.AUDIT_SAMPLE_SHARE if sample_share is None else sample_share
    rng = rng or random.Random()
    candidates = bulk_candidates(project, filters, user, now)
    ids = list(candidates.values_list("pk", flat=True))
    batch = _BulkAccept(project, min_probability, user, now, share, rng, _tags(project))
    results = [
        batch.accept(ids[start : start + BULK_CHUNK])
        for start in range(0, len(ids), BULK_CHUNK)
    ]
    return BulkResult(
        accepted=sum(result.accepted for result in results),
        left=sum(result.left for result in results),
        sampled=sum(result.sampled for result in results),
    )


BULK_CHUNK = 500


@dataclass(frozen=True)
class _BulkAccept:
    project: Project
    min_probability: float
    user: object
    now: datetime
    share: float
    rng: random.Random
    tags: list[Tag]

    @transaction.atomic
    def accept(self, ids: list[UUID]) -> BulkResult:
        """Accept one chunk of items, locking them while it writes."""
        reviews = list(
            Review.objects.select_for_update()
            .filter(pk__in=ids, state=ReviewState.TO_REVIEW)
            .filter(_free_for(self.user, self.now))
        )
        predicted = _predicted_labels([review.pk for review in reviews], self.tags)
        kept = {
            pk: as_predicted(self.project, self._at_threshold(labels))
            for pk, labels in predicted.items()
        }
        approved = [review for review in reviews if kept.get(review.pk)]
        lines = {
            review.pk: receipts.corrections(
                self.project, predicted[review.pk], _as_approvals(kept[review.pk])
            )
            for review in approved
        }
        for review in approved:
            review.state = ReviewState.APPROVED
            review.version += 1
            review.decided_by = self.user
            review.decided_at = self.now
            review.bulk_accepted = True
            review.audit_sample = self.rng.random() < self.share
            review.receipt = receipts.summary(lines[review.pk])
            review.changed = receipts.is_change(review.receipt)
            review.leased_by = review.lease_expires_at = None
        _store_bulk(approved, kept)
        receipts.store([(review, lines[review.pk]) for review in approved])
        return BulkResult(
            accepted=len(approved),
            left=len(reviews) - len(approved),
            sampled=sum(review.audit_sample for review in approved),
        )

    def _at_threshold(self, labels: list[PredictedLabel]) -> list[PredictedLabel]:
        return [label for label in labels if label.probability >= self.min_probability]


def _as_approvals(labels: list[PredictedLabel]) -> list[Approval]:
    return [Approval(label.tag_id, label.pk, label.box) for label in labels]


def _predicted_labels(
    ids: list[UUID], tags: list[Tag]
) -> dict[UUID, list[PredictedLabel]]:
    """Load every predicted label of the given predictions, by prediction.

    `tags` are the project's, every one, removed or not; each label gets its own.
    """
    by_id = {tag.pk: tag for tag in tags}
    by_prediction: dict[UUID, list[PredictedLabel]] = {pk: [] for pk in ids}
    for label in PredictedLabel.objects.filter(prediction_id__in=ids):
        label.tag = by_id[label.tag_id]
        by_prediction[label.prediction_id].append(label)
    return by_prediction


def _store_bulk(approved: list[Review], kept: dict[UUID, list[PredictedLabel]]) -> None:
    ApprovedLabel.objects.filter(review__in=approved).delete()
    Review.objects.bulk_update(
        approved,
        [
            "state",
            "version",
            "decided_by",
            "decided_at",
            "bulk_accepted",
            "audit_sample",
            "changed",
            "receipt",
            "leased_by",
            "lease_expires_at",
        ],
    )
    ApprovedLabel.objects.bulk_create(
        ApprovedLabel(
            review=review,
            tag_id=label.tag_id,
            source=label,
            left=label.left,
            top=label.top,
            width=label.width,
            height=label.height,
        )
        for review in approved
        for label in kept[review.pk]
    )


def as_predicted(
    project: Project, labels: list[PredictedLabel]
) -> list[PredictedLabel]:
    """Choose what bulk accept approves from the labels at the threshold."""
    if project.kind == ProjectKind.MULTICLASS:
        return sorted(labels, key=lambda label: -label.probability)[:1]
    regular = [label for label in labels if label.tag.type != limits.TAG_NEGATIVE]
    if project.is_object_detection or len(labels) > 1:
        return regular
    return labels
