import csv
import io
import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.errors import AuthenticationError
from reviewer.models import (
    Batch,
    Prediction,
    PromotionRun,
    Review,
    ReviewState,
    SyncRun,
)
from reviewer.services.promotion import execute_run
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept
from reviewer.services.sync import run_sync_run
from tests.fixtures.projects import sync

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "cv-key-7Q2mZ9xR4tW1sV8pL3nK6"
HTMX = {"HX-Request": "true"}
REFUSED = "refused the training key"


def test_the_training_key_appears_nowhere_in_a_full_flow(
    emulator, client, lead, settings, caplog
):
    caplog.set_level(logging.DEBUG)
    emulator.config.training_key = KEY
    settings.CUSTOMVISION_TRAINING_KEY = KEY
    settings.CUSTOMVISION_ENDPOINT = emulator.endpoint
    settings.PROMOTION_RATE = 1000
    cv_client = CustomVisionClient(emulator.endpoint, KEY, backoff=0)
    ids = emulator.seed_demo()
    call_command("sync_predictions", stdout=io.StringIO())
    project = sync(cv_client, ids["object_detection"])
    bulk_accept(project, QueueFilters(), 0.5, lead, timezone.now())
    execute_run(cv_client, PromotionRun.objects.create(project=project))
    emulator.config.training_key = "another-key"
    failed = PromotionRun.objects.create(project=project)
    with pytest.raises(Exception, match=REFUSED):
        execute_run(cv_client, failed)
    failed_sync = SyncRun.objects.create(project=project)
    with pytest.raises(AuthenticationError):
        run_sync_run(cv_client, failed_sync)
    client.force_login(lead)
    prediction = project.predictions.first().pk
    pages = [
        reverse("reviewer:project-list"),
        reverse("reviewer:project-queue", args=[project.pk]),
        reverse("reviewer:review-item", args=[project.pk, prediction]),
        reverse("reviewer:promotion-manifest", args=[project.pk]),
        reverse("reviewer:promotions", args=[project.pk]),
        reverse("reviewer:promotion-run", args=[project.pk, failed.pk]),
        reverse("reviewer:audit-items", args=[project.pk]),
        reverse("reviewer:audit-item", args=[project.pk, prediction]),
        reverse("reviewer:project-quality", args=[project.pk]),
        reverse("reviewer:promotions-export", args=[project.pk]),
        reverse("reviewer:labels-export", args=[project.pk]),
    ]
    texts = [_body(client.get(url)) for url in pages]
    assert len(list(csv.reader(io.StringIO(texts[9])))) > 1
    texts += _fragments(client, project, failed_sync, failed)
    texts += _image_refusals(client, project)
    texts.append(_body(Client().get(reverse("login"))))
    out = io.StringIO()
    call_command("export_promotions", project=str(project.pk), stdout=out)
    texts.append(out.getvalue())
    texts.append(caplog.text)
    texts.extend(PromotionRun.objects.values_list("error", flat=True))
    texts.extend(SyncRun.objects.values_list("error", flat=True))
    for batch in Batch.objects.all():
        texts += [json.dumps(batch.request_body), batch.response_body, batch.error]

    assert any(REFUSED in text for text in texts)
    assert [text for text in texts if KEY in text] == []


def _fragments(client, project, failed_sync, failed_promotion) -> list[str]:
    """Collect what htmx swaps in: progress, a decision, its undo, the queue list."""
    sync_progress = client.get(
        reverse("reviewer:sync-progress", args=[project.pk, failed_sync.pk]),
        headers=HTMX,
    )
    promotion_progress = client.get(
        reverse("reviewer:promotion-progress", args=[project.pk, failed_promotion.pk]),
        headers=HTMX,
    )
    pending = Review.objects.filter(project=project, state=ReviewState.TO_REVIEW)
    review = pending.order_by("pk").first()
    item = [project.pk, review.pk]
    decision = client.post(
        reverse("reviewer:review-decide", args=item),
        {"action": "reject", "version": review.version},
        headers=HTMX,
    )
    undone = client.post(reverse("reviewer:review-undo", args=item), headers=HTMX)
    queue = client.get(
        reverse("reviewer:project-queue", args=[project.pk]),
        headers={**HTMX, "HX-Target": "queue-results"},
    )
    answers = [sync_progress, promotion_progress, decision, undone, queue]

    assert [answer.status_code for answer in answers] == [200] * 5
    fragments = [_body(answer) for answer in answers]
    assert not any("<html" in fragment for fragment in fragments)
    assert "Sync failed: Custom Vision refused the training key" in fragments[0]
    assert REFUSED in fragments[1]
    return fragments


def _image_refusals(client, project) -> list[str]:
    """Collect the image proxy's 403 for a foreign host and its 502 on a failure."""
    foreign, expired = project.predictions.order_by("pk")[:2]
    Prediction.objects.filter(pk=foreign.pk).update(
        thumbnail_uri="http://169.254.169.254/latest/meta-data"
    )
    # An old link needs a fresh one, which the service refuses with the wrong key.
    Prediction.objects.filter(pk=expired.pk).update(
        uris_fetched_at=timezone.now() - timedelta(days=2)
    )
    answers = [
        client.get(
            reverse(
                "reviewer:prediction-image",
                args=[project.pk, prediction.pk, "thumbnail"],
            )
        )
        for prediction in (foreign, expired)
    ]

    assert [answer.status_code for answer in answers] == [403, 502]
    return [_body(answer) for answer in answers]


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()
