import json
import re
import uuid
from html import unescape

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from reviewer.customvision.types import CreateSummary, ImageResult
from reviewer.models import Batch, PromotionRun
from reviewer.services.promotion import execute_run, plan, record_answer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_promotion(settings):
    settings.PROMOTION_RATE = 1000


def run_page(client, run) -> str:
    url = reverse("reviewer:promotion-run", args=[run.project_id, run.pk])
    return client.get(url).content.decode()


def body(html: str, which: str) -> str:
    """The text of the run page's one request or response body, as a reader sees it."""
    [text] = re.findall(rf'<pre data-body="{which}">(.*?)</pre>', html, re.DOTALL)
    return unescape(text)


def shown(moment) -> str:
    return dateformat.format(timezone.localtime(moment), "H:i:s")


def test_the_run_page_shows_each_batch_call_with_its_bodies_and_times(
    client, lead, approved, cv_client
):
    run = execute_run(cv_client, PromotionRun.objects.create(project=approved.project))
    batch = Batch.objects.get(run=run)
    client.force_login(lead)

    html = run_page(client, run)

    assert json.loads(body(html, "request")) == batch.request_body
    assert json.loads(body(html, "response")) == json.loads(batch.response_body)
    assert '\n  "images": [' in body(html, "request")
    assert html.count("<details>") == 2
    for moment in (batch.first_sent_at, batch.last_sent_at, batch.answered_at):
        assert shown(moment) in html
    audit_item = reverse(
        "reviewer:audit-item", args=[approved.project.pk, approved.predictions[0]]
    )
    assert f'href="{audit_item}"' in html


def test_the_run_page_shows_a_body_that_is_not_json_as_inert_text(
    client, lead, approved, cv_client
):
    run = execute_run(cv_client, PromotionRun.objects.create(project=approved.project))
    Batch.objects.filter(run=run).update(response_body="<b>Bad gateway</b>")
    client.force_login(lead)

    html = run_page(client, run)

    assert "<b>Bad gateway</b>" not in html
    assert body(html, "response") == "<b>Bad gateway</b>"


@pytest.fixture
def every_outcome(approved, lead):
    """One run whose four images were promoted, left to retry, to fix, and refused."""
    run = PromotionRun.objects.create(project=approved.project, requested_by=lead)
    plan(run, timezone.now())
    batch = Batch.objects.get(run=run)
    promoted, retry, fix, terminal = approved.predictions
    statuses = {
        promoted: "OK",
        retry: "ErrorStorage",
        fix: "ErrorTagLimitExceed",
        terminal: "ErrorSource",
    }
    record_answer(
        batch,
        CreateSummary(
            http_status=207,
            is_batch_successful=False,
            results={
                pid: ImageResult(
                    pid, status, str(uuid.uuid4()) if pid == promoted else None
                )
                for pid, status in statuses.items()
            },
            request_body=json.dumps(batch.request_body),
            response_body="{}",
            duration_ms=5,
            sent_ids=tuple(statuses),
        ),
    )
    return run


def next_steps(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]+)" data-next-step="(\w+)">', html)


@pytest.mark.parametrize("page", ["promotion-run", "promotions"])
def test_failed_rows_link_to_the_action_that_fixes_them(
    client, lead, approved, every_outcome, page
):
    project = approved.project
    fix = approved.predictions[2]
    client.force_login(lead)
    args = [project.pk, every_outcome.pk] if page == "promotion-run" else [project.pk]

    html = client.get(reverse(f"reviewer:{page}", args=args)).content.decode()

    assert html.count("data-outcome=") == 4
    assert sorted(next_steps(html)) == sorted(
        [
            (reverse("reviewer:promotion-manifest", args=[project.pk]), "retry"),
            (reverse("reviewer:review-item", args=[project.pk, fix]), "fix"),
        ]
    )
