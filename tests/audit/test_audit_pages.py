import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.models import PromotionRun, Review, ReviewState
from reviewer.services.promotion import execute_run, run_counts
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept, claim_next, decide
from tests.fixtures.projects import add_apple, sync

pytestmark = pytest.mark.django_db


def listed(client, project, query=""):
    url = reverse("reviewer:audit-items", args=[project.pk])
    response = client.get(f"{url}?{query}")
    return {str(review.pk) for review in response.context["page"]}


def test_it_filters_reviewed_items_by_receipt(client, lead, reviewed):
    client.force_login(lead)
    project, ids, tags = reviewed.project, reviewed.predictions, reviewed.tags

    assert len(listed(client, project)) == 4
    assert listed(
        client,
        project,
        f"relabelled_from={tags['Banana']}&relabelled_to={tags['Cherry']}",
    ) == {ids[0]}
    assert listed(client, project, f"relabelled_from={tags['Apple']}") == set()
    assert listed(client, project, "min_added=2") == {ids[1]}
    assert listed(client, project, "min_added=3") == set()
    assert listed(client, project, "unchanged=on") == {ids[2]}
    assert listed(client, project, f"reviewer={lead.pk}") == {ids[1]}
    today = timezone.now().date()
    assert listed(client, project, f"since={today}") == set(ids[:3])
    assert listed(client, project, f"until={today - timedelta(days=2)}") == {ids[3]}
    assert listed(client, project, "min_added=nope") == set(ids)


def test_it_filters_low_iou_bulk_and_sampled(
    client, lead, detection_project, annotator
):
    tags = detection_project.tags
    review = Review.objects.select_related("prediction").get(
        pk=detection_project.predictions[0]
    )
    apple = review.prediction.labels.get(tag_id=tags["Apple"]).pk
    moved = [{"tag": tags["Apple"], "source": apple, "box": [0.25, 0.25, 0.2, 0.2]}]
    decide(review.pk, annotator, "accept", 0, json.dumps(moved), timezone.now())
    bulk_accept(
        detection_project.project,
        QueueFilters(),
        0.5,
        annotator,
        timezone.now(),
        sample_share=1.0,
    )
    client.force_login(lead)
    project, ids = detection_project.project, detection_project.predictions

    assert listed(client, project, "low_iou=on") == {ids[0]}
    assert listed(client, project, "bulk=on") == set(ids[1:])
    assert listed(client, project, "sampled=on") == set(ids[1:])


def test_the_item_page_draws_both_boxes_and_the_receipt(client, lead, reviewed):
    client.force_login(lead)
    url = reverse(
        "reviewer:audit-item", args=[reviewed.project.pk, reviewed.predictions[0]]
    )

    html = client.get(url).content.decode()

    assert html.count('data-box="predicted"') == 3
    assert html.count('data-box="approved"') == 2
    assert 'data-correction="relabelled"' in html
    assert "1 relabelled" in html


# Queries a list page may make, however many rows it lists.
MAX_QUERIES = 10


def count_queries(client, url, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(MAX_QUERIES) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def approve_more(detection_project, annotator, emulator, cv_client, number) -> None:
    """Add predictions on the service, sync them, and bulk accept them all."""
    project = detection_project.project
    for _ in range(number):
        add_apple(emulator, detection_project)
    sync(cv_client, str(project.pk))
    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())


def test_the_audit_list_keeps_its_query_count_as_rows_grow(
    client,
    lead,
    detection_project,
    annotator,
    emulator,
    cv_client,
    django_assert_max_num_queries,
):
    url = reverse("reviewer:audit-items", args=[detection_project.project.pk])
    bulk_accept(
        detection_project.project, QueueFilters(), 0.5, annotator, timezone.now()
    )
    client.force_login(lead)
    few = count_queries(client, url, django_assert_max_num_queries)

    approve_more(detection_project, annotator, emulator, cv_client, 30)

    assert count_queries(client, url, django_assert_max_num_queries) == few


def test_promotion_pages_keep_their_query_count_as_outcomes_grow(
    client,
    lead,
    detection_project,
    annotator,
    emulator,
    cv_client,
    settings,
    django_assert_max_num_queries,
):
    settings.PROMOTION_RATE = 1000
    project = detection_project.project

    def promote_and_count(size: int) -> list[int]:
        run = PromotionRun.objects.create(project=project, requested_by=lead)
        assert run_counts(execute_run(cv_client, run))["promoted"] == size
        urls = [
            reverse("reviewer:promotions", args=[project.pk]),
            reverse("reviewer:promotion-run", args=[project.pk, run.pk]),
        ]
        return [
            count_queries(client, url, django_assert_max_num_queries) for url in urls
        ]

    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())
    client.force_login(lead)
    few = promote_and_count(4)
    approve_more(detection_project, annotator, emulator, cv_client, 30)

    assert promote_and_count(30) == few


def test_a_lead_judges_the_audit_sample_with_the_review_screen(
    client, lead, detection_project, annotator
):
    bulk_accept(
        detection_project.project,
        QueueFilters(),
        0.5,
        annotator,
        timezone.now(),
        sample_share=1.0,
    )
    sample = QueueFilters(state=ReviewState.APPROVED, audit_pending=True)
    now = timezone.now()
    first = claim_next(detection_project.project, lead, sample, now)
    labels = json.dumps(
        [
            {
                "tag": str(label.tag_id),
                "source": label.source_id,
                "box": list(label.box),
            }
            for label in first.approved_labels.all()
        ]
    )

    confirmed = decide(first.pk, lead, "accept", first.version, labels, now)
    second = claim_next(detection_project.project, lead, sample, now)
    corrected = decide(second.pk, lead, "reject", second.version, "", now)

    assert (confirmed.audit_verdict, confirmed.audited_by) == ("confirmed", lead)
    assert confirmed.bulk_accepted is True
    assert corrected.audit_verdict == "corrected"
    remaining = Review.objects.filter(audit_sample=True, audit_verdict="").count()
    assert remaining == 2
