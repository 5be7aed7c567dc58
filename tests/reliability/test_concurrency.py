"""Several people at once: stale saves are refused, promotion plans a clean snapshot."""

import json
import threading
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reviewer.models import (
    ApprovedLabel,
    Batch,
    Outcome,
    PredictedLabel,
    PromotionRun,
    Review,
    ReviewState,
)
from reviewer.roles import ANNOTATORS
from reviewer.services.promotion import plan
from reviewer.services.queue import QueueFilters
from reviewer.services.review import VersionConflict, bulk_accept, decide
from tests.fixtures.projects import sync

ITEMS = 240
ANNOTATORS_AT_ONCE = 3


def labels_json(review_pk, keep: int | None = None) -> str:
    """The item's predicted boxes, as the review screen posts them."""
    labels = PredictedLabel.objects.filter(prediction_id=review_pk).order_by("pk")
    return json.dumps(
        [
            {"tag": str(label.tag_id), "source": label.pk, "box": list(label.box)}
            for label in labels[:keep]
        ]
    )


def snapshot(review_pk) -> list:
    return sorted(
        (str(label.tag_id), label.left, label.top, label.width, label.height)
        for label in ApprovedLabel.objects.filter(review_id=review_pk)
    )


@pytest.mark.django_db
def test_the_second_of_two_saves_gets_the_version_conflict(
    detection_project, annotator, lead
):
    pk = detection_project.predictions[0]
    opened = Review.objects.get(pk=pk).version
    decide(pk, annotator, "accept", opened, labels_json(pk, keep=1), timezone.now())
    kept = snapshot(pk)

    with pytest.raises(VersionConflict, match="ann changed this item"):
        decide(pk, lead, "reject", opened, "", timezone.now())

    review = Review.objects.get(pk=pk)
    assert (review.state, review.decided_by) == (ReviewState.APPROVED, annotator)
    assert review.version == opened + 1
    assert snapshot(pk) == kept


@pytest.mark.django_db
def test_a_stale_save_over_http_is_refused_with_409(
    client, detection_project, annotator, lead
):
    project = detection_project.project
    pk = detection_project.predictions[1]
    url = reverse("reviewer:review-decide", args=[project.pk, pk])
    form = {"action": "accept", "version": 0, "labels": labels_json(pk)}
    client.force_login(annotator)
    assert client.post(url, form, headers={"HX-Request": "true"}).status_code == 200

    client.force_login(lead)
    stale = client.post(
        url, {**form, "action": "reject"}, headers={"HX-Request": "true"}
    )

    assert stale.status_code == 409
    assert "ann changed this item" in stale.content.decode()
    assert Review.objects.get(pk=pk).state == ReviewState.APPROVED


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_at_once_never_overwrite_each_other(
    detection_project, annotator, lead
):
    pks = detection_project.predictions
    versions = {pk: Review.objects.get(pk=pk).version for pk in pks}
    results: dict[str, list] = {"ann": [], "lee": []}
    start = threading.Barrier(2)

    def save(user, action: str, keep: int | None) -> None:
        start.wait(timeout=10)
        try:
            for pk in pks:
                labels = labels_json(pk, keep)
                try:
                    decide(pk, user, action, versions[pk], labels, timezone.now())
                    results[user.username].append((pk, "saved"))
                except VersionConflict:
                    results[user.username].append((pk, "conflict"))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(annotator, "accept", 1)),
        threading.Thread(target=save, args=(lead, "reject", None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    for pk in pks:
        outcomes = sorted(
            outcome for name in results for key, outcome in results[name] if key == pk
        )
        assert outcomes == ["conflict", "saved"], pk
        winner = next(name for name in results if (pk, "saved") in results[name])
        review = Review.objects.get(pk=pk)
        assert review.decided_by.username == winner
        assert review.version == versions[pk] + 1
        expected = ReviewState.APPROVED if winner == "ann" else ReviewState.REJECTED
        assert review.state == expected
        assert len(snapshot(pk)) == (1 if winner == "ann" else 0)


@pytest.fixture
def busy_project(emulator, cv_client, cv_settings, annotator):
    """Half of the items approved by bulk accept, half still to review."""
    project_id = emulator.seed_synthetic(predictions=ITEMS, tags=10, boxes_per_image=3)
    project = sync(cv_client, project_id)
    # Bulk accept takes everything still to review: park half as skipped meanwhile.
    half = Review.objects.filter(project=project).order_by("pk")[: ITEMS // 2]
    Review.objects.exclude(pk__in=list(half.values_list("pk", flat=True))).update(
        state=ReviewState.SKIPPED
    )
    bulk_accept(project, QueueFilters(), 0.0, annotator, timezone.now(), sample_share=0)
    Review.objects.filter(state=ReviewState.SKIPPED).update(state=ReviewState.TO_REVIEW)
    return project


@pytest.mark.django_db(transaction=True)
def test_a_promotion_planned_while_annotators_approve_takes_a_clean_snapshot(
    busy_project, lead
):
    project = busy_project
    users = [
        get_user_model().objects.create_user(f"annotator-{number}")
        for number in range(ANNOTATORS_AT_ONCE)
    ]
    for user in users:
        user.groups.add(Group.objects.get(name=ANNOTATORS))
    to_review = list(
        Review.objects.filter(state=ReviewState.TO_REVIEW).values_list("pk", "version")
    )
    approved = list(
        Review.objects.filter(state=ReviewState.APPROVED).values_list("pk", "version")
    )
    # Each annotator approves its share of new items and relabels approved ones.
    shares = [
        [*to_review[number::ANNOTATORS_AT_ONCE], *approved[number::ANNOTATORS_AT_ONCE]]
        for number in range(ANNOTATORS_AT_ONCE)
    ]
    run = PromotionRun.objects.create(project=project, requested_by=lead)
    results: Counter[str] = Counter()
    unexpected: list[Exception] = []
    going = threading.Event()

    def approve(user, share) -> None:
        try:
            for number, (pk, version) in enumerate(share):
                if number == len(share) // 4:
                    going.set()
                labels = labels_json(pk, 2)
                try:
                    decide(pk, user, "accept", version, labels, timezone.now())
                    results["saved"] += 1
                except VersionConflict:
                    results["conflict"] += 1
        except Exception as error:
            unexpected.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(user, share))
        for user, share in zip(users, shares, strict=True)
    ]
    for thread in threads:
        thread.start()
    going.wait(timeout=30)
    planned = plan(run, timezone.now())
    for thread in threads:
        thread.join(timeout=120)

    assert not unexpected, unexpected
    assert planned and results["saved"]
    assert_batches_match_their_items(run)
    assert in_batch() == set(
        Outcome.objects.filter(run=run, batch__isnull=False).values_list(
            "review_id", flat=True
        )
    )
    batched = set(Outcome.objects.filter(run=run).values_list("review_id", flat=True))
    left = Review.objects.filter(project=project).exclude(pk__in=batched)
    assert set(left.values_list("state", flat=True)) <= {
        ReviewState.APPROVED,
        ReviewState.TO_REVIEW,
    }
    assert not left.filter(state=ReviewState.APPROVED, outcomes__isnull=False).exists()
    assert sum(results.values()) == ITEMS
    # An item approved after planning waits, approved, for the next run.
    still_approved = set(
        left.filter(state=ReviewState.APPROVED).values_list("pk", flat=True)
    )
    assert still_approved and results["conflict"]
    later = PromotionRun.objects.create(project=project, requested_by=lead)
    plan(later, timezone.now())
    assert (
        set(Outcome.objects.filter(run=later).values_list("review_id", flat=True))
        == still_approved
    )
    assert_batches_match_their_items(later)


def in_batch() -> set:
    return set(
        Review.objects.filter(state=ReviewState.IN_BATCH).values_list("pk", flat=True)
    )


def assert_batches_match_their_items(run: PromotionRun) -> None:
    """Each batch holds exactly its items, in a batch state, with their labels."""
    for batch in Batch.objects.filter(run=run):
        outcomes = batch.outcomes.all()
        body = {image["id"]: image for image in batch.request_body["images"]}
        assert set(body) == {str(outcome.review_id) for outcome in outcomes}
        for outcome in outcomes:
            review = outcome.review
            assert review.state == ReviewState.IN_BATCH
            regions = sorted(
                (r["tagId"], r["left"], r["top"], r["width"], r["height"])
                for r in body[str(review.pk)]["regions"]
            )
            assert regions == snapshot(review.pk), review.pk
