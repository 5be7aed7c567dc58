"""Retries for reads, none for creates, and what errors say, against the emulator."""

import logging
import time
import uuid

import pytest

from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.errors import (
    AuthenticationError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from reviewer.customvision.types import BatchImage, ImageBatch

CLIENT_LOGGER = "reviewer.customvision.client"


@pytest.fixture
def shelves(emulator):
    """A project with one tag and one stored prediction."""
    state = emulator.state
    project = state.add_project("Shelves")
    tag = state.add_tag(project["id"], "Bottle")
    iteration = state.add_iteration(project["id"], "Iteration 1")
    label = {"tag_id": tag["id"], "probability": 0.9, "box": (0.1, 0.1, 0.2, 0.2)}
    prediction = state.add_prediction(project["id"], iteration["id"], [label])
    return {"project": project["id"], "tag": tag["id"], "prediction": prediction}


def batch_for(shelves) -> ImageBatch:
    return ImageBatch((BatchImage(shelves["prediction"], tag_ids=(shelves["tag"],)),))


def attempts(emulator, operation: str) -> list:
    return [entry for entry in emulator.request_log if entry[2] == operation]


def test_it_retries_a_read_on_503(cv_client, emulator, shelves):
    emulator.inject(status=503, count=2, operation="GetProjects")

    projects = cv_client.get_projects()

    assert [p.id for p in projects] == [shelves["project"]]
    assert [entry[3] for entry in attempts(emulator, "GetProjects")] == [503, 503, 200]


def test_it_retries_a_read_whose_connection_was_dropped(cv_client, emulator, shelves):
    emulator.drop_next(count=1, operation="GetProjects")

    projects = cv_client.get_projects()

    assert [p.id for p in projects] == [shelves["project"]]
    assert len(attempts(emulator, "GetProjects")) == 2


def test_it_honours_retry_after_on_429(cv_client, emulator, shelves):
    emulator.inject(status=429, count=1, operation="GetTags", retry_after=1)
    started = time.monotonic()

    tags = cv_client.get_tags(shelves["project"])

    assert time.monotonic() - started >= 1
    assert [tag.id for tag in tags] == [shelves["tag"]]
    assert len(attempts(emulator, "GetTags")) == 2


def test_it_retries_a_prediction_query_and_a_delete(cv_client, emulator, shelves):
    emulator.inject(status=502, count=1, operation="QueryPredictions")
    emulator.inject(status=504, count=1, operation="DeletePrediction")

    pages = list(cv_client.query_predictions(shelves["project"]))
    cv_client.delete_predictions(shelves["project"], [shelves["prediction"]])

    assert len(pages[0].predictions) == 1
    assert len(attempts(emulator, "QueryPredictions")) == 2
    assert len(attempts(emulator, "DeletePrediction")) == 2


def test_it_gives_up_after_its_retries(emulator, shelves):
    client = CustomVisionClient(
        emulator.endpoint, emulator.config.training_key, retries=2, backoff=0
    )
    emulator.inject(status=503, count=5, operation="GetProjects")

    with pytest.raises(ServiceError) as caught:
        client.get_projects()

    assert caught.value.retryable
    assert caught.value.status == 503
    assert len(attempts(emulator, "GetProjects")) == 3


def test_it_never_retries_a_create_on_503(cv_client, emulator, shelves):
    emulator.inject(status=503, count=1, operation="CreateImagesFromPredictions")

    with pytest.raises(ServiceError) as caught:
        cv_client.create_images_from_predictions(shelves["project"], batch_for(shelves))

    assert caught.value.retryable
    assert not caught.value.outcome_unknown
    assert caught.value.operation == "CreateImagesFromPredictions"
    assert len(attempts(emulator, "CreateImagesFromPredictions")) == 1
    assert emulator.state.tagged_images(shelves["project"]) == []


def test_it_reports_retry_after_on_a_throttled_create(cv_client, emulator, shelves):
    emulator.inject(
        status=429, count=1, operation="CreateImagesFromPredictions", retry_after=7
    )
    started = time.monotonic()

    with pytest.raises(ThrottledError) as caught:
        cv_client.create_images_from_predictions(shelves["project"], batch_for(shelves))

    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 7
    assert caught.value.retryable
    assert caught.value.code == "429"
    assert len(attempts(emulator, "CreateImagesFromPredictions")) == 1


def test_it_says_a_dropped_create_has_an_unknown_outcome(cv_client, emulator, shelves):
    emulator.drop_next(count=1, operation="CreateImagesFromPredictions")

    with pytest.raises(TransportError) as caught:
        cv_client.create_images_from_predictions(shelves["project"], batch_for(shelves))

    assert caught.value.outcome_unknown
    assert caught.value.retryable
    assert len(attempts(emulator, "CreateImagesFromPredictions")) == 1
    assert len(emulator.state.tagged_images(shelves["project"])) == 1


def test_it_times_out_a_slow_answer(emulator, shelves):
    client = CustomVisionClient(
        emulator.endpoint, emulator.config.training_key, read_timeout=0.1, retries=0
    )
    emulator.config.latency_ms = 400

    with pytest.raises(TransportError) as caught:
        client.get_projects()

    assert caught.value.outcome_unknown
    assert caught.value.status is None


def test_it_refuses_a_wrong_key_without_retrying(emulator, shelves, caplog):
    client = CustomVisionClient(emulator.endpoint, "wrong-key-9f3a", backoff=0)

    with (
        caplog.at_level(logging.DEBUG, logger=CLIENT_LOGGER),
        pytest.raises(AuthenticationError) as caught,
    ):
        client.get_projects()

    assert caught.value.status == 401
    assert caught.value.message
    assert not caught.value.retryable
    assert len(emulator.request_log) == 1
    assert "wrong-key-9f3a" not in caplog.text
    assert "wrong-key-9f3a" not in str(caught.value)


def test_it_logs_one_info_line_per_call_without_the_key(
    cv_client, emulator, shelves, caplog
):
    emulator.inject(status=503, count=1, operation="GetProject")
    emulator.inject(status=500, count=1, operation="CreateImagesFromPredictions")
    key = emulator.config.training_key

    with caplog.at_level(logging.DEBUG, logger=CLIENT_LOGGER):
        cv_client.get_project(shelves["project"])
        with pytest.raises(ServiceError) as caught:
            cv_client.create_images_from_predictions(
                shelves["project"], batch_for(shelves)
            )

    ours = [r for r in caplog.records if r.name == CLIENT_LOGGER]
    infos = [r for r in ours if r.levelno == logging.INFO]
    assert [r.getMessage().split(" -> ")[0] for r in infos] == [
        "customvision GetProject GET /projects/{projectId}",
        "customvision CreateImagesFromPredictions POST /projects/{projectId}"
        "/images/predictions",
    ]
    assert infos[0].getMessage().split(" -> ")[1].startswith("200 in ")
    assert infos[1].getMessage().split(" -> ")[1].startswith("500 in ")
    assert any(r.levelno == logging.WARNING for r in ours)
    assert key not in caplog.text
    assert key not in str(caught.value)


def test_it_keeps_signed_queries_out_of_the_log(cv_client, emulator, shelves, caplog):
    prediction = next(cv_client.query_predictions(shelves["project"])).predictions[0]
    query = prediction.original_image_uri.split("?")[1]

    with caplog.at_level(logging.DEBUG, logger=CLIENT_LOGGER):
        cv_client.fetch_image(shelves["project"], prediction.original_image_uri)

    assert query not in caplog.text
    assert "/blobs/" in caplog.text


def test_it_names_an_unknown_error_kind_in_the_log(emulator, caplog):
    client = CustomVisionClient(
        emulator.endpoint, emulator.config.training_key, read_timeout=0.1, retries=0
    )
    emulator.config.latency_ms = 300

    with (
        caplog.at_level(logging.INFO, logger=CLIENT_LOGGER),
        pytest.raises(TransportError),
    ):
        client.get_domain(str(uuid.uuid4()))

    ours = [r for r in caplog.records if r.name == CLIENT_LOGGER]
    assert ours[0].getMessage().split(" -> ")[1].startswith("TransportError")
