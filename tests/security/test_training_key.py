import csv
import io
import json
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from reviewer.customvision.client import CustomVisionClient
from reviewer.models import Batch, PromotionRun, SyncRun
from reviewer.services.promotion import execute_run
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept
from tests.fixtures.projects import sync

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "cv-key-7Q2mZ9xR4tW1sV8pL3nK6"


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
    with pytest.raises(Exception, match="refused the training key"):
        execute_run(cv_client, failed)
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
    out = io.StringIO()
    call_command("export_promotions", project=str(project.pk), stdout=out)
    texts.append(out.getvalue())
    texts.append(caplog.text)
    texts.extend(PromotionRun.objects.values_list("error", flat=True))
    texts.extend(SyncRun.objects.values_list("error", flat=True))
    for batch in Batch.objects.all():
        texts += [json.dumps(batch.request_body), batch.response_body, batch.error]

    assert any("refused the training key" in text for text in texts)
    assert len(list(csv.reader(io.StringIO(texts[9])))) > 1
    assert [text for text in texts if KEY in text] == []


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()
