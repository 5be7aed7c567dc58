"""The queue in Chromium: the lead's bulk accept asks first, then accepts."""

import pytest
from playwright.sync_api import expect

from reviewer.models import Review, ReviewState

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_bulk_accept_says_how_many_items_it_touches_before_accepting(
    page, log_in, lead, detection_project
):
    project = detection_project.project
    log_in("lee", "lee-password-1")
    page.goto(f"/projects/{project.pk}/")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Bulk accept").click()
    expect(page.locator('[data-count="to_review"]')).to_have_text("4")
    assert "Accept 4 items still to review" in asked[0]
    assert not Review.objects.filter(state=ReviewState.APPROVED).exists()

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_label("Keep labels with probability at least").fill("0.9")
    page.get_by_role("button", name="Bulk accept").click()

    expect(page.get_by_role("status")).to_contain_text("Accepted 4 items")
    expect(page.locator('[data-count="approved"]')).to_have_text("4")
    assert (
        Review.objects.filter(state=ReviewState.APPROVED, bulk_accepted=True).count()
        == 4
    )
