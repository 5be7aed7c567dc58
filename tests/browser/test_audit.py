import csv
import io

from playwright.sync_api import expect

from reviewer.models import Outcome, PromotionRun
from reviewer.services.promotion import execute_run


def test_a_lead_finds_a_relabel_sees_both_boxes_and_exports_the_ledger(
    page, log_in, lead, reviewed, cv_client, settings
):
    settings.PROMOTION_RATE = 1000
    project = reviewed.project
    execute_run(
        cv_client, PromotionRun.objects.create(project=project, requested_by=lead)
    )
    log_in("lee", "lee-password-1")
    page.goto(f"/projects/{project.pk}/")

    page.get_by_role("link", name="Reviewed items").click()
    page.get_by_label("Relabelled", exact=True).check()
    results = page.locator("#audit-results tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("1 relabelled")
    results.get_by_role("link").click()

    expect(page.locator('rect[data-box="predicted"]')).to_have_count(3)
    expect(page.locator('rect[data-box="approved"]')).to_have_count(2)
    expect(page.locator('tr[data-correction="relabelled"]')).to_contain_text("Cherry")

    page.goto(f"/projects/{project.pk}/promotions/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))

    ledger = {
        str(outcome.review_id): outcome
        for outcome in Outcome.objects.exclude(kind=Outcome.Kind.PENDING)
    }
    assert sorted(row["prediction_id"] for row in rows) == sorted(ledger)
    for row in rows:
        outcome = ledger[row["prediction_id"]]
        assert row["status"] == outcome.status
        assert row["training_image_id"] == str(outcome.training_image_id or "")
        assert row["batch"] == str(outcome.batch_id)
