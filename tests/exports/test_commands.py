import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from reviewer.models import Outcome
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_export_promotions_writes_the_ledger_as_csv(promoted):
    project = promoted.project
    today = timezone.localdate()

    text = run("export_promotions", "--project", str(project.pk))
    since_today = run("export_promotions", "--since", today.isoformat())
    since_tomorrow = run(
        "export_promotions", "--since", (today + timedelta(days=1)).isoformat()
    )

    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["prediction_id"] for row in rows] == [
        str(outcome.review_id)
        for outcome in Outcome.objects.order_by("recorded_at", "pk")
    ]
    assert since_today == text
    assert len(list(csv.DictReader(io.StringIO(since_tomorrow)))) == 0


@pytest.mark.django_db(transaction=True)
def test_no_export_holds_the_training_key(client, lead, emulator, promoted):
    key = emulator.config.training_key
    project = promoted.project
    client.force_login(lead)

    exported = [
        run("export_promotions"),
        run("export_labels", "--project", str(project.pk), "--format", "coco"),
    ]
    for name in ("promotions-export", "labels-export"):
        response = client.get(reverse(f"reviewer:{name}", args=[project.pk]))
        exported.append(b"".join(response.streaming_content).decode())

    assert key
    assert all(text and key not in text for text in exported)


@pytest.mark.django_db
def test_export_labels_writes_coco_for_detection(approved):
    text = run(
        "export_labels", "--project", str(approved.project.pk), "--format", "coco"
    )

    coco = json.loads(text)
    assert len(coco["images"]) == 4
    assert len(coco["annotations"]) == 8


@pytest.mark.django_db
def test_export_labels_writes_jsonl_for_classification(
    annotator, classification_project
):
    project = classification_project.project
    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())

    text = run("export_labels", "--project", str(project.pk), "--format", "jsonl")

    assert [json.loads(line)["tags"] for line in text.splitlines()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export_promotions", "--since", "31/05/2024"], "--since must be a day"),
        (["export_promotions", "--project", "nope"], "must be a UUID"),
        (
            [
                "export_promotions",
                "--project",
                "00000000-0000-0000-0000-000000000000",
            ],
            "run sync_predictions first",
        ),
        (["export_labels", "--project", "nope", "--format", "coco"], "must be a UUID"),
    ],
)
def test_the_commands_explain_a_bad_argument(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


@pytest.mark.django_db
def test_export_labels_refuses_a_format_that_does_not_fit_the_project(approved):
    with pytest.raises(CommandError, match="export its labels as coco"):
        run("export_labels", "--project", str(approved.project.pk), "--format", "jsonl")
