import json
import re

import pytest
from playwright.sync_api import expect

from reviewer.models import PromotionRun, Review, ReviewState

pytestmark = pytest.mark.browser


def test_a_lead_promotes_and_sees_each_image_outcome(
    page, log_in, lead, approved, run_worker
):
    log_in("lee", "lee-password-1")
    page.goto(f"/projects/{approved.project.pk}/")

    page.get_by_role("link", name="Promote approved…").click()
    expect(page.locator('[data-figure="approved"]')).to_have_text("4")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Promote", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("queued, waiting for a worker")
    expect(page.get_by_label("Promotion progress")).to_be_visible()

    log = run_worker()

    run = PromotionRun.objects.get()
    assert run.status == PromotionRun.Status.FINISHED, log
    expect(page.get_by_role("status")).to_contain_text(
        "finished: 4 promoted", timeout=15_000
    )
    expect(page.get_by_label("Promotion progress")).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"Promotion #\d+")).click()
    expect(page.locator('tr[data-outcome="promoted"]')).to_have_count(4)
    assert set(Review.objects.values_list("state", flat=True)) == {ReviewState.PROMOTED}


def test_an_annotator_can_neither_open_nor_start_a_promotion(
    page, log_in, annotator, approved
):
    log_in("ann", "ann-password-1")
    project_url = f"/projects/{approved.project.pk}/"

    opened = page.goto(project_url + "promotion/")
    page.goto(project_url)
    headers = json.loads(page.locator("body").get_attribute("hx-headers"))
    started = page.request.post(project_url + "promotion/start", headers=headers)

    assert opened.status == 403
    assert started.status == 403
    # A missing or wrong token is refused too; this refusal must be the role's.
    assert "CSRF" not in started.text()
    assert not PromotionRun.objects.exists()
