"""The client's request bodies and the emulator's answers keep to the v3.3 shapes."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests

from reviewer.customvision import limits
from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.errors import (
    AuthenticationError,
    NotFoundError,
    ThrottledError,
)
from reviewer.customvision.types import BatchImage, ImageBatch, Region, TagFilter
from tests.contract import schemas

OPERATIONS = (
    ("GET", "/projects", "GetProjects"),
    ("GET", "/projects/{id}", "GetProject"),
    ("GET", "/domains", "GetDomains"),
    ("GET", "/domains/{id}", "GetDomain"),
    ("GET", "/projects/{id}/tags", "GetTags"),
    ("GET", "/projects/{id}/iterations", "GetIterations"),
    ("POST", "/projects/{id}/predictions/query", "QueryPredictions"),
    ("POST", "/projects/{id}/images/predictions", "CreateImagesFromPredictions"),
    ("DELETE", "/projects/{id}/predictions", "DeletePrediction"),
    ("GET", "/projects/{id}/images/tagged", "GetTaggedImages"),
    ("GET", "/projects/{id}/images/tagged/count", "GetTaggedImageCount"),
    ("GET", "/projects/{id}/images/id", "GetImagesByIds"),
    ("GET", "/projects/{id}/artifacts", "GetArtifact"),
)


def operation_of(method: str, path: str) -> str:
    """Name the operation a request reached."""
    for route_method, template, operation in OPERATIONS:
        pattern = limits.API_PREFIX + template.replace("{id}", "[^/]+")
        if method == route_method and re.fullmatch(pattern, path):
            return operation
    raise AssertionError(f"the client called an unknown operation: {method} {path}")


class ContractCheck:
    """A response hook validating every body on the wire against its schema."""

    def __init__(self) -> None:
        self.covered: set[str] = set()
        self.errors_seen: set[str] = set()

    def attach(self, client: CustomVisionClient) -> CustomVisionClient:
        """Watch every answer the client's session receives."""
        client.session.hooks["response"].append(self)
        return client

    def __call__(self, response: requests.Response, *args, **kwargs) -> None:
        """Validate one request body and its answer."""
        path = urlsplit(response.request.url).path
        if not path.startswith(limits.API_PREFIX):
            return

        operation = operation_of(response.request.method, path)
        self.covered.add(operation)
        if operation in schemas.REQUEST_BODIES:
            body = json.loads(response.request.body)
            jsonschema.validate(body, schemas.REQUEST_BODIES[operation])

        if not response.ok:
            jsonschema.validate(response.json(), schemas.ERROR)
            self.errors_seen.add(_error_shape(response.json()))
        elif schemas.ANSWERS[operation] is not None:
            jsonschema.validate(response.json(), schemas.ANSWERS[operation])


def _error_shape(body: dict) -> str:
    return "gateway" if "error" in body else "service"


@pytest.fixture
def check():
    return ContractCheck()


@pytest.fixture
def watched(emulator, check):
    client = CustomVisionClient(
        emulator.endpoint, emulator.config.training_key, backoff=0
    )
    yield check.attach(client)
    client.close()


def detection_and_classification(client: CustomVisionClient) -> tuple:
    """Return the seeded detection and classification projects."""
    kinds = {domain.id: domain.type for domain in client.get_domains()}
    ready = [p for p in client.get_projects() if p.status == "Succeeded"]
    detection = next(
        p for p in ready if kinds[p.domain_id] == limits.DOMAIN_OBJECT_DETECTION
    )
    classification = next(
        p for p in ready if kinds[p.domain_id] == limits.DOMAIN_CLASSIFICATION
    )
    return detection, classification


def review_detection(client: CustomVisionClient, project_id: str) -> list:
    """Read a detection project's tags, iterations and filtered predictions."""
    tags = client.get_tags(project_id)
    iterations = client.get_iterations(project_id)
    pages = client.query_predictions(
        project_id,
        iteration_id=iterations[-1].id,
        start_time=datetime.now(UTC) - timedelta(days=20),
        end_time=datetime.now(UTC),
        order_by=limits.ORDER_SUGGESTED,
        tag_filters=[TagFilter(tags[0].id, 0.2, 1.0)],
    )
    return [prediction for page in pages for prediction in page.predictions]


def promote_with_regions(client: CustomVisionClient, project_id: str, found) -> None:
    """Promote predictions as drawn, plus one the service no longer keeps."""
    images = [
        BatchImage(
            prediction.id,
            regions=tuple(
                Region(label.tag_id, *_box(label.box))
                for label in prediction.labels
                if label.box and label.probability >= 0.5
            ),
        )
        for prediction in found
        if any(label.box and label.probability >= 0.5 for label in prediction.labels)
    ][:3]
    images.append(BatchImage(str(uuid.uuid4()), tag_ids=(found[0].labels[0].tag_id,)))
    batch = ImageBatch(tuple(images), metadata={"review": "contract"})

    summary = client.create_images_from_predictions(project_id, batch)

    assert summary.http_status == 207
    assert summary.missing_ids() == ()


def _box(box) -> tuple[float, float, float, float]:
    return (box.left, box.top, box.width, box.height)


def promote_with_tags(client: CustomVisionClient, project_id: str) -> None:
    """Promote classification predictions with a batch-level tag."""
    page = next(client.query_predictions(project_id, order_by=limits.ORDER_OLDEST))
    regular = next(t for t in client.get_tags(project_id) if t.type == "Regular")
    images = tuple(BatchImage(p.id) for p in page.predictions[:2])

    summary = client.create_images_from_predictions(
        project_id, ImageBatch(images, tag_ids=(regular.id,))
    )

    assert summary.is_batch_successful


def test_every_body_on_the_wire_matches_the_contract(emulator, watched, check):
    emulator.seed_demo()
    emulator.config.page_size = 10
    detection, classification = detection_and_classification(watched)
    watched.get_project(detection.id)
    watched.get_domain(detection.domain_id)

    found = review_detection(watched, detection.id)
    queries = [
        entry for entry in emulator.request_log if entry[2] == "QueryPredictions"
    ]
    assert len(queries) > 1
    promote_with_regions(watched, detection.id, found)
    promote_with_tags(watched, classification.id)
    tagged = watched.get_tagged_images(detection.id, take=2)
    assert watched.get_images_by_ids(detection.id, [image.id for image in tagged])
    assert watched.get_tagged_image_count(detection.id) >= 3
    watched.fetch_image(detection.id, found[3].thumbnail_uri)
    emulator.config.relative_uris = True
    relative = next(watched.query_predictions(detection.id)).predictions[0]
    watched.fetch_image(detection.id, relative.thumbnail_uri)
    watched.delete_predictions(detection.id, [found[4].id, found[5].id])

    assert check.covered == set(schemas.ANSWERS)


def test_both_error_shapes_match_the_contract(emulator, watched, check):
    project = emulator.state.add_project("Errors")
    wrong_key = check.attach(CustomVisionClient(emulator.endpoint, "not-the-key"))
    no_retry = check.attach(
        CustomVisionClient(emulator.endpoint, emulator.config.training_key, retries=0)
    )
    emulator.inject(status=429, count=1, operation="GetTags", retry_after=1)

    with pytest.raises(NotFoundError):
        watched.get_project(str(uuid.uuid4()))
    with pytest.raises(AuthenticationError):
        wrong_key.get_projects()
    with pytest.raises(ThrottledError):
        no_retry.get_tags(project["id"])

    assert check.errors_seen == {"service", "gateway"}
