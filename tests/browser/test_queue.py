"""The queue in Chromium: the lead's bulk accept asks first, then accepts."""

import uuid

import pytest
from playwright.sync_api import expect

from reviewer.models import Review, ReviewState

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def open_queue_as_lead(page, log_in, project) -> None:
    log_in("lee", "lee-password-1")
    page.goto(f"/projects/{project.pk}/")


def bulk_accept(page, asked: list[str], confirm: bool) -> None:
    """Press Bulk accept, note the confirmation it asks and answer it."""

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if confirm else dialog.dismiss()

    page.once("dialog", answer)
    page.get_by_role("button", name="Bulk accept").click()


def test_bulk_accept_says_how_many_items_it_touches_before_accepting(
    page, log_in, lead, detection_project
):
    open_queue_as_lead(page, log_in, detection_project.project)
    asked: list[str] = []

    bulk_accept(page, asked, confirm=False)
    expect(page.locator('[data-count="to_review"]')).to_have_text("4")
    assert "Accept 4 items still to review" in asked[0]
    assert not Review.objects.filter(state=ReviewState.APPROVED).exists()

    page.get_by_label("Keep labels with probability at least").fill("0.9")
    bulk_accept(page, asked, confirm=True)

    expect(page.get_by_role("status")).to_contain_text("Accepted 4 items")
    expect(page.locator('[data-count="approved"]')).to_have_text("4")
    assert (
        Review.objects.filter(state=ReviewState.APPROVED, bulk_accepted=True).count()
        == 4
    )


def test_bulk_accept_follows_a_filter_changed_in_place(
    page, log_in, lead, detection_project
):
    open_queue_as_lead(page, log_in, detection_project.project)
    asked: list[str] = []

    # htmx swaps the list without a page load; the actions must move with it.
    page.get_by_label("Expiry").select_option(label="Expires within 7 days")
    expect(page.get_by_text("1 matching item.")).to_be_visible()
    bulk_accept(page, asked, confirm=True)

    expect(page.get_by_role("status")).to_contain_text("Accepted 1 items")
    assert "Accept 1 item still to review" in asked[0]
    assert list(
        Review.objects.filter(state=ReviewState.APPROVED).values_list("pk", flat=True)
    ) == [uuid.UUID(detection_project.predictions[3])]
    start = page.get_by_role("link", name="Start reviewing")
    assert "expiry=7" in start.get_attribute("href")
