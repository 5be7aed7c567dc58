"""Names from the service render as text on every page and in every export."""

import csv
import html
import io
import json
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.models import Batch, Outcome, PromotionRun, Review
from reviewer.services.exports import FORMULA_STARTS
from reviewer.services.review import decide
from tests.fixtures.projects import sync

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
PROJECT = f"=1+1 {IMAGE} & 'co'"
TAGS = [SCRIPT, IMAGE, "@SUM(1) & \"quoted\" 'too'", "+cmd|' /C calc'!A0"]
ITERATION = f"{SCRIPT} iteration"
MESSAGE = f'=HYPERLINK("http://evil.example/?{SCRIPT}")'
# What must never reach a page unescaped.
ACTIVE = ("<script>alert", "<img src=x", "onerror=alert(1)>")


@pytest.fixture
def hostile(emulator, cv_client, cv_settings, lead):
    """A detection project whose names are attacks, reviewed and promoted once."""
    state = emulator.state
    remote = state.add_project(PROJECT)
    tags = [state.add_tag(remote["id"], name)["id"] for name in TAGS]
    iteration = state.add_iteration(remote["id"], ITERATION)["id"]
    for first in (0, 2):
        boxes = [(0.1, 0.1, 0.2, 0.2), (0.5, 0.5, 0.2, 0.2)]
        state.add_prediction(
            remote["id"],
            iteration,
            [
                {"tag_id": tags[first + number], "probability": 0.9, "box": box}
                for number, box in enumerate(boxes)
            ],
        )
    project = sync(cv_client, remote["id"])
    reviews = list(Review.objects.filter(project=project).order_by("pk"))
    for review in reviews:
        _relabel_and_add(review, tags, lead)
    run = _promotion(project, reviews[0], lead)
    return SimpleNamespace(project=project, review=reviews[0], run=run)


def _relabel_and_add(review: Review, tags: list[str], lead) -> None:
    """Relabel the first box to a formula-like tag, and add a box of another."""
    first = review.prediction.labels.order_by("pk").first()
    labels = [
        {"tag": tags[3], "source": first.pk, "box": [0.1, 0.1, 0.2, 0.2]},
        {"tag": tags[2], "source": None, "box": [0.6, 0.1, 0.1, 0.1]},
    ]
    decide(review.pk, lead, "accept", 0, json.dumps(labels), timezone.now())


def _promotion(project, review: Review, lead) -> PromotionRun:
    """One finished run whose single outcome carries the service's hostile message."""
    run = PromotionRun.objects.create(
        project=project, requested_by=lead, status=PromotionRun.Status.FINISHED
    )
    batch = Batch.objects.create(run=run, project=project, request_body={})
    Outcome.objects.create(
        run=run,
        batch=batch,
        review=review,
        kind=Outcome.Kind.FIX,
        status="ErrorRegionLimitExceed",
        message=MESSAGE,
        recorded_at=timezone.now(),
    )
    return run


PAGES = [
    ("project-list", ()),
    ("project-queue", ("project",)),
    ("review-item", ("project", "review")),
    ("audit-items", ("project",)),
    ("audit-item", ("project", "review")),
    ("promotion-manifest", ("project",)),
    ("promotions", ("project",)),
    ("promotion-run", ("project", "run")),
    ("project-quality", ("project",)),
]


@pytest.mark.parametrize(("name", "roles"), PAGES, ids=[name for name, _ in PAGES])
def test_names_from_the_service_render_as_text(client, lead, hostile, name, roles):
    client.force_login(lead)
    ids = [getattr(hostile, role).pk for role in roles]

    page = client.get(reverse(f"reviewer:{name}", args=ids)).content.decode()

    assert not [active for active in ACTIVE if active in page]
    assert html.escape(IMAGE) in page


@pytest.mark.parametrize(
    "name", ["review-item", "audit-item", "promotions", "promotion-run"]
)
def test_tag_names_and_messages_are_shown_escaped(client, lead, hostile, name):
    client.force_login(lead)
    roles = dict(PAGES)[name]
    ids = [getattr(hostile, role).pk for role in roles]

    page = client.get(reverse(f"reviewer:{name}", args=ids)).content.decode()

    assert html.escape(SCRIPT) in page


def test_the_review_data_block_escapes_names_and_keeps_them_whole(
    client, lead, hostile
):
    client.force_login(lead)
    url = reverse("reviewer:review-item", args=[hostile.project.pk, hostile.review.pk])

    page = client.get(url).content.decode()

    block = re.search(
        r'<script id="review-data" type="application/json">(.*?)</script>',
        page,
        re.DOTALL,
    )
    assert block is not None
    assert "<" not in block.group(1)
    assert {tag["name"] for tag in json.loads(block.group(1))["tags"]} == set(TAGS)


def test_the_promotions_csv_guards_every_cell_against_formulas(client, lead, hostile):
    client.force_login(lead)
    url = reverse("reviewer:promotions-export", args=[hostile.project.pk])

    response = client.get(url)

    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["project"] == "'" + PROJECT
    assert rows[0]["message"] == "'" + MESSAGE
    assert rows[0]["labels"].startswith("'")
    assert not [cell for cell in rows[0].values() if cell.startswith(FORMULA_STARTS)]
