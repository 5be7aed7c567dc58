import csv
import io
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviewer.models import Outcome, PromotionRun, Review
from reviewer.services.exports import (
    CSV_COLUMNS,
    promotion_outcomes,
    promotions_csv,
)


def download(client, project, **query):
    response = client.get(
        reverse("reviewer:promotions-export", args=[project.pk]), query
    )
    assert response.status_code == 200
    return response, b"".join(response.streaming_content).decode()


def rows_of(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == CSV_COLUMNS
    return list(reader)


def regions_of(cell: str) -> set[tuple[str, tuple[float, ...]]]:
    regions = set()
    for region in cell.split(";"):
        name, _, box = region.partition("@")
        regions.add((name, tuple(float(value) for value in box.split(","))))
    return regions


def approved_regions(review: Review) -> set[tuple[str, tuple[float, ...]]]:
    return {
        (label.tag.name, tuple(round(value, 4) for value in label.box))
        for label in review.approved_labels.select_related("tag")
    }


@pytest.mark.django_db(transaction=True)
def test_each_row_matches_the_outcome_ledger(client, lead, promoted):
    client.force_login(lead)

    response, text = download(client, promoted.project)

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="promotions-shelf-products-co-{today}.csv"'
    )
    ledger = Outcome.objects.select_related("review__decided_by").order_by(
        "recorded_at", "pk"
    )
    rows = rows_of(text)
    assert len(rows) == len(ledger) == 4
    for row, outcome in zip(rows, ledger, strict=True):
        review = outcome.review
        assert row["prediction_id"] == str(review.pk)
        assert row["project"] == 'Shelf <products> & "co"'
        assert regions_of(row["labels"]) == approved_regions(review)
        assert row["reviewer"] == "ann"
        approved_at = datetime.fromisoformat(row["approved_at"])
        assert approved_at == review.decided_at.replace(microsecond=0)
        assert row["batch"] == str(outcome.batch_id or "")
        assert row["status"] == outcome.status
        assert row["training_image_id"] == str(outcome.training_image_id or "")
        assert row["message"] == outcome.message


@pytest.mark.django_db(transaction=True)
def test_a_row_kept_back_by_preflight_has_no_batch_and_says_why(client, lead, promoted):
    client.force_login(lead)

    rows = rows_of(download(client, promoted.project)[1])

    (kept_back,) = [
        row for row in rows if row["prediction_id"] == str(promoted.broken.pk)
    ]
    assert kept_back["batch"] == kept_back["training_image_id"] == ""
    assert kept_back["status"] == "PreflightFailed"
    assert "no size" in kept_back["message"]
    promoted_rows = [row for row in rows if row["status"] == "OK"]
    assert len(promoted_rows) == 3
    assert all(row["batch"] and row["training_image_id"] for row in promoted_rows)


@pytest.mark.django_db(transaction=True)
def test_the_filters_of_the_promotions_page_narrow_the_rows(
    client, lead, annotator, promoted
):
    client.force_login(lead)
    project = promoted.project
    Review.objects.filter(pk=promoted.broken.pk).update(decided_by=lead)
    cherry = project.tags.get(name="Cherry")
    today = timezone.localdate()

    def count(**query) -> int:
        return len(rows_of(download(client, project, **query)[1]))

    assert count(outcome="promoted") == 3
    assert count(outcome="fix") == 1
    assert count(reviewer=annotator.pk) == 3
    assert count(reviewer=lead.pk) == 1
    assert count(tag=cherry.pk) == 1
    assert count(since=today.isoformat(), until=today.isoformat()) == 4
    assert count(since=(today + timedelta(days=1)).isoformat()) == 0
    assert count(until=(today - timedelta(days=1)).isoformat()) == 0


@pytest.mark.django_db(transaction=True)
def test_the_csv_holds_the_rows_the_promotions_page_shows(client, lead, promoted):
    client.force_login(lead)
    project = promoted.project
    query = {"outcome": "promoted", "tag": project.tags.get(name="Cherry").pk}

    page = client.get(reverse("reviewer:promotions", args=[project.pk]), query)
    rows = rows_of(download(client, project, **query)[1])

    shown = sorted(str(outcome.review_id) for outcome in page.context["page"])
    assert (
        shown == [row["prediction_id"] for row in rows] == [str(promoted.added_to.pk)]
    )


@pytest.mark.django_db(transaction=True)
def test_invalid_filters_are_ignored(client, lead, promoted):
    client.force_login(lead)

    _, text = download(
        client,
        promoted.project,
        outcome="everything",
        reviewer="ann",
        tag="not-a-tag",
        since="yesterday",
        until="2024-13-45",
    )

    assert len(rows_of(text)) == 4


def record_outcomes(project, lead, runs: int) -> None:
    """Write a ledger by hand: one outcome per review and run."""
    reviews = list(Review.objects.filter(project=project))
    for _ in range(runs):
        run = PromotionRun.objects.create(project=project, requested_by=lead)
        Outcome.objects.bulk_create(
            Outcome(
                run=run,
                review=review,
                kind=Outcome.Kind.PROMOTED,
                status="OK",
                recorded_at=timezone.now(),
            )
            for review in reviews
        )


def queries_for_csv(project) -> int:
    """Count the queries of one CSV export, once every line is written."""
    with CaptureQueriesContext(connection) as queries:
        lines = list(promotions_csv(promotion_outcomes(project)))
    assert len(lines) == 1 + Outcome.objects.filter(review__project=project).count()
    return len(queries)


@pytest.mark.django_db
def test_the_csv_takes_as_many_queries_for_many_rows_as_for_few(approved, lead):
    project = approved.project
    record_outcomes(project, lead, runs=1)
    few = queries_for_csv(project)

    record_outcomes(project, lead, runs=5)
    many = queries_for_csv(project)

    assert few == many == 2


@pytest.mark.django_db
def test_a_cell_that_a_spreadsheet_would_run_is_defused(approved, lead):
    project = approved.project
    project.name = "@SUM(A1:A9)"
    project.save()
    project.tags.filter(name="Apple").update(name='=HYPERLINK("http://x.test")')
    review = Review.objects.filter(project=project).first()
    run = PromotionRun.objects.create(project=project, requested_by=lead)
    Outcome.objects.create(
        run=run,
        review=review,
        kind=Outcome.Kind.TERMINAL,
        status="+Unknown",
        message="-1+2",
        recorded_at=timezone.now(),
    )

    (row,) = rows_of("".join(promotions_csv(promotion_outcomes(project))))

    assert row["project"] == "'@SUM(A1:A9)"
    assert row["labels"].startswith("'=HYPERLINK(")
    assert row["status"] == "'+Unknown"
    assert row["message"] == "'-1+2"
    assert row["prediction_id"] == str(review.pk)
