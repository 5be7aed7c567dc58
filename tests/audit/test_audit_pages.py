import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviewer.models import Review, ReviewState
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept, claim_next, decide

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


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_audit_lists_keep_their_query_count_as_rows_grow(
    client, lead, detection_project, annotator, emulator, cv_client
):
    from tests.fixtures.projects import sync

    project = detection_project.project
    urls = [
        reverse("reviewer:audit-items", args=[project.pk]),
        reverse("reviewer:promotions", args=[project.pk]),
    ]
    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())
    client.force_login(lead)
    few = [count_queries(client, url) for url in urls]
    for _ in range(30):
        emulator.state.add_prediction(
            str(project.pk),
            detection_project.iteration,
            [
                {
                    "tag_id": detection_project.tags["Apple"],
                    "probability": 0.9,
                    "box": (0.1, 0.1, 0.2, 0.2),
                }
            ],
        )
    sync(cv_client, str(project.pk))
    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())

    assert [count_queries(client, url) for url in urls] == few


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
