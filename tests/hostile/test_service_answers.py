"""Malformed, truncated, wrongly typed or huge answers leave the cache as it was."""

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.errors import CustomVisionError, MalformedResponseError
from reviewer.models import Project, SyncRun
from reviewer.services.projects import sync_projects
from reviewer.services.sync import run_sync_run
from tests.hostile.world import cache

pytestmark = pytest.mark.django_db

BOX = {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}
# A number to find in an answer's text and replace with what JSON cannot say.
MARK = 0.314159


@pytest.fixture
def service_client(service):
    client = CustomVisionClient(service.endpoint, "key", read_timeout=5, retries=0)
    yield client
    client.close()


def label(detection_project, **changes: object) -> dict:
    """One predicted Apple box, as the service sends it."""
    return {
        "tagId": detection_project.tags["Apple"],
        "tagName": "Apple",
        "tagType": "Regular",
        "probability": 0.9,
        "boundingBox": BOX,
    } | changes


def stored(detection_project, **changes: object) -> dict:
    """One new stored prediction of the cached project, as the service sends it."""
    return {
        "id": str(uuid4()),
        "project": str(detection_project.project.pk),
        "iteration": detection_project.iteration,
        "domain": str(uuid4()),
        "created": datetime.now(UTC).isoformat(),
        "resizedImageUri": "https://blob.example/r.jpg?sig=x",
        "thumbnailUri": "https://blob.example/t.jpg?sig=x",
        "originalImageUri": "https://blob.example/o.jpg?sig=x",
        "predictions": [label(detection_project)],
    } | changes


def page(*results: object, **token: object) -> str:
    """A QueryPredictions answer: the results and a last-page token."""
    return json.dumps(
        {"results": list(results), "token": {"continuation": None} | token}
    )


def with_label(**changes: object):
    return lambda project: page(
        stored(project, predictions=[label(project, **changes)])
    )


def with_box(**changes: object):
    return with_label(boundingBox=BOX | changes)


def with_prediction(**changes: object):
    return lambda project: page(stored(project, **changes))


def remote_tag(**changes: object) -> dict:
    """A new tag as GetTags describes it."""
    tag = {"id": str(uuid4()), "name": "Kiwi", "type": "Regular", "imageCount": 0}
    return tag | changes


def remote_project(project: Project, **changes: object) -> dict:
    """The cached project as GetProjects describes it."""
    return {
        "id": str(project.pk),
        "name": project.name,
        "description": None,
        "settings": {"domainId": str(project.domain_id), "classificationType": None},
        "status": "Succeeded",
        "created": "2024-01-01T00:00:00Z",
        "lastModified": "2024-01-01T00:00:00Z",
        "thumbnailUri": None,
    } | changes


ANSWERS = [
    pytest.param(
        lambda project: page(stored(project))[:150], "not JSON", id="truncated-json"
    ),
    pytest.param(lambda project: "", "not JSON", id="empty-body"),
    pytest.param(
        lambda project: "<html><body>Service Unavailable</body></html>",
        "not JSON",
        id="html-page-with-200",
    ),
    pytest.param(lambda project: "[]", "should be an object", id="answer-a-list"),
    pytest.param(
        lambda project: json.dumps({"results": "many", "token": {}}),
        "results should be a list",
        id="results-a-string",
    ),
    pytest.param(
        lambda project: json.dumps({"results": []}),
        "token should be an object",
        id="token-missing",
    ),
    pytest.param(
        lambda project: page(continuation=7),
        "continuation should be a string",
        id="continuation-a-number",
    ),
    pytest.param(with_prediction(id=None), "id should be a string", id="id-missing"),
    pytest.param(with_prediction(id="img-1"), "UUID", id="id-not-a-uuid"),
    pytest.param(with_prediction(iteration="last"), "UUID", id="iteration-not-a-uuid"),
    pytest.param(
        with_prediction(created="yesterday"), "ISO 8601", id="created-not-a-time"
    ),
    pytest.param(
        with_prediction(predictions={"tagId": 1}),
        "predictions should be a list",
        id="labels-an-object",
    ),
    pytest.param(
        with_label(probability="high"), "should be a number", id="probability-high"
    ),
    pytest.param(
        with_label(probability=1.5), "between 0 and 1", id="probability-above-one"
    ),
    pytest.param(
        with_label(probability=-0.1), "between 0 and 1", id="probability-negative"
    ),
    pytest.param(with_label(tagId="Apple"), "UUID", id="tag-id-not-a-uuid"),
    pytest.param(with_label(tagName=7), "should be a string", id="tag-name-a-number"),
    pytest.param(with_box(left=float("nan")), "finite", id="box-with-nan"),
    pytest.param(with_box(width=float("inf")), "finite", id="box-with-infinity"),
    pytest.param(
        lambda project: with_box(top=MARK)(project).replace(str(MARK), "1e999"),
        "finite",
        id="box-with-1e999",
    ),
    pytest.param(
        lambda project: with_label(probability=MARK)(project).replace(str(MARK), "NaN"),
        "finite",
        id="probability-nan",
    ),
    pytest.param(with_box(height="0.2"), "should be a number", id="box-text"),
    pytest.param(
        with_label(boundingBox=[0.1, 0.1, 0.2, 0.2]),
        "boundingBox should be an object",
        id="box-a-list",
    ),
    pytest.param(
        lambda project: page(stored(project, thumbnailUri="x" * 5_000_000)),
        "too large",
        id="5-mb-page",
    ),
    pytest.param(
        lambda project: page(
            stored(project), stored(project), stored(project, predictions=None)
        ),
        "predictions should be a list",
        id="later-item-malformed",
    ),
]


@pytest.mark.parametrize(("answer", "says"), ANSWERS)
def test_a_sync_refuses_a_bad_page_and_keeps_the_cache(
    detection_project, service, service_client, answer, says
):
    service.reply(200, answer(detection_project))
    before = cache()
    run = SyncRun.objects.create(project=detection_project.project)

    with pytest.raises(MalformedResponseError) as refusal:
        run_sync_run(service_client, run)

    assert says in str(refusal.value)
    assert "QueryPredictions" in str(refusal.value)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error == str(refusal.value)
    assert run.added == 0
    assert cache() == before


def test_a_sync_refuses_a_body_cut_short_of_its_length(
    detection_project, service, service_client
):
    body = page(stored(detection_project))
    service.reply(200, body[:100], content_length=len(body))
    before = cache()
    run = SyncRun.objects.create(project=detection_project.project)

    with pytest.raises(CustomVisionError):
        run_sync_run(service_client, run)

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert cache() == before


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        pytest.param("[{", "not JSON", id="truncated"),
        pytest.param('"Apple"', "should be a list", id="a-string"),
        pytest.param('[{"id": 5}]', "should be a string", id="id-a-number"),
        pytest.param(
            '[{"id": "t1", "name": "x", "type": "Regular", "imageCount": 0}]',
            "UUID",
            id="id-not-a-uuid",
        ),
        pytest.param(
            json.dumps([remote_tag(imageCount=1.5)]),
            "imageCount should be an integer",
            id="image-count-a-fraction",
        ),
        pytest.param(
            json.dumps([remote_tag(name="<b>" * 100)]),
            "longer than 255",
            id="name-huge",
        ),
    ],
)
def test_a_project_sync_refuses_garbage_tags_and_keeps_the_cache(
    detection_project, service, service_client, tags, says
):
    project = detection_project.project
    domain = {
        "id": str(project.domain_id),
        "name": "General",
        "type": "ObjectDetection",
    }
    service.reply(200, json.dumps([domain]))
    service.reply(200, json.dumps([remote_project(project, name="Renamed")]))
    service.reply(200, tags)
    before = cache()

    with pytest.raises(MalformedResponseError) as refusal:
        sync_projects(service_client, only=[str(project.pk)])

    assert says in str(refusal.value)
    assert "GetTags" in str(refusal.value)
    assert cache() == before
