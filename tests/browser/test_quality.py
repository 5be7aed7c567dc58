import json

from django.utils import timezone
from playwright.sync_api import expect

from reviewer.models import PredictedLabel
from reviewer.services.review import decide


def accept_with_banana_as_cherry(prediction_id, tags, user) -> None:
    """Accept an item keeping its apple and calling its banana a cherry."""
    labels = PredictedLabel.objects.filter(prediction_id=prediction_id)
    kept = [
        {
            "tag": str(
                tags["Cherry" if label.tag.name == "Banana" else label.tag.name]
            ),
            "source": label.pk,
            "box": list(label.box),
        }
        for label in labels
        if label.tag.name != "Cherry"
    ]
    decide(prediction_id, user, "accept", 0, json.dumps(kept), timezone.now())


def test_a_lead_opens_model_quality_from_the_queue(
    page, log_in, lead, annotator, detection_project
):
    for prediction_id in detection_project.predictions[:2]:
        accept_with_banana_as_cherry(prediction_id, detection_project.tags, annotator)
    decide(detection_project.predictions[2], annotator, "reject", 0, "", timezone.now())
    log_in("lee", "lee-password-1")
    page.goto(f"/projects/{detection_project.project.pk}/")

    page.get_by_role("link", name="Model quality").click()

    expect(page.get_by_role("heading", name="Model quality")).to_be_visible()
    chart = page.get_by_role("img", name="Acceptance rate per tag")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.quality-chart-bar")).to_have_count(2)
    tags = page.get_by_role("table", name="Per tag")
    expect(tags.locator('tr[data-tag="Apple"] td').nth(2)).to_have_text("100 %")
    expect(tags.locator('tr[data-tag="Banana"] td').nth(2)).to_have_text("0 %")
    matrix = page.get_by_role("table", name="Relabelled")
    expect(matrix.locator('tr[data-tag="Banana"]')).to_contain_text("2")
    reviewers = page.get_by_role("table", name="All iterations")
    expect(reviewers.locator('tr[data-reviewer="ann"] td').first).to_have_text("3")


def test_an_annotator_cannot_open_model_quality(
    page, log_in, annotator, detection_project
):
    log_in("ann", "ann-password-1")

    response = page.goto(f"/projects/{detection_project.project.pk}/quality/")

    assert response.status == 403
