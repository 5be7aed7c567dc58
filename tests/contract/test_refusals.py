"""The emulator's 400 answers to requests over the API's limits keep to the contract.

The client refuses these requests before sending them, so they go out as raw HTTP.
"""

import uuid

import jsonschema
import pytest

from reviewer.customvision import limits
from tests.contract import schemas
from tests.emulator.conftest import Api, build_project, region


@pytest.fixture
def api(emulator) -> Api:
    return Api(emulator.endpoint, emulator.config.training_key)


@pytest.fixture
def project(emulator):
    return build_project(emulator, predictions=2)


def promote(api: Api, project, images: int = 1, **batch):
    """Ask to promote the project's first prediction, padded with unknown ids."""
    entries = [{"id": project.predictions[0], "regions": [region(project.tags[0])]}]
    entries += [{"id": str(uuid.uuid4())} for _ in range(images - 1)]
    return api.promote(project.id, entries, **batch)


def too_many_images(api, project):
    return promote(api, project, images=limits.MAX_BATCH_IMAGES + 1)


def too_many_batch_tags(api, project):
    tag_ids = [str(uuid.uuid4()) for _ in range(limits.MAX_BATCH_TAGS + 1)]
    return promote(api, project, tagIds=tag_ids)


def too_many_tag_filters(api, project):
    tags = [
        {"id": str(uuid.uuid4()), "minThreshold": 0.1, "maxThreshold": 1.0}
        for _ in range(limits.MAX_QUERY_TAG_FILTERS + 1)
    ]
    return api.query(project.id, tags=tags)


def too_many_metadata_pairs(api, project):
    metadata = {f"key{n}": "value" for n in range(limits.MAX_METADATA_PAIRS + 1)}
    return promote(api, project, metadata=metadata)


def too_long_a_metadata_key(api, project):
    key = "k" * (limits.MAX_METADATA_KEY_LENGTH + 1)
    return promote(api, project, metadata={key: "value"})


def too_long_a_metadata_value(api, project):
    value = "v" * (limits.MAX_METADATA_VALUE_LENGTH + 1)
    return promote(api, project, metadata={"reviewer": value})


@pytest.mark.parametrize(
    ("send", "code"),
    [
        (too_many_images, "BadRequestExceededBatchSize"),
        (too_many_batch_tags, "BadRequestExceedTagPerImageLimit"),
        (too_many_tag_filters, "BadRequestPredictionTagsExceededCount"),
        (too_many_metadata_pairs, "BadRequestImageMetadataKey"),
        (too_long_a_metadata_key, "BadRequestImageMetadataKey"),
        (too_long_a_metadata_value, "BadRequestImageMetadataValue"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_a_request_over_a_limit_is_refused_with_a_contract_error(
    emulator, api, project, send, code
):
    response = send(api, project)

    assert response.status_code == 400
    body = response.json()
    jsonschema.validate(body, schemas.ERROR)
    assert body["code"] == code
    assert emulator.state.tagged_images(project.id) == []
