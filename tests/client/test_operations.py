"""Every operation of the client, over HTTP against the emulator."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from reviewer.customvision import limits
from reviewer.customvision.errors import NotFoundError
from reviewer.customvision.types import (
    BatchImage,
    ImageBatch,
    Project,
    Region,
    StoredPrediction,
    TagFilter,
)

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def shelves(emulator):
    """A detection project with two tags, two iterations and seven predictions."""
    state = emulator.state
    project = state.add_project("Shelves & <Aisles>")
    bottle = state.add_tag(project["id"], 'Bottle "0.5l"')
    can = state.add_tag(project["id"], "Can")
    first = state.add_iteration(project["id"], "Iteration 1")
    second = state.add_iteration(project["id"], "Iteration 2")
    for number, chance in enumerate([0.95, 0.1, 0.5, 0.7, 0.3, 0.55, 0.85]):
        iteration = first if number < 4 else second
        labels = [{"tag_id": bottle["id"], "probability": chance, "box": BOX}]
        if number % 2:
            labels.append({"tag_id": can["id"], "probability": 0.6, "box": None})
        state.add_prediction(
            project["id"],
            iteration["id"],
            labels,
            created=START + timedelta(minutes=number),
        )
    return {
        "project": project["id"],
        "bottle": bottle["id"],
        "can": can["id"],
        "first": first["id"],
        "second": second["id"],
    }


BOX = (0.1, 0.2, 0.3, 0.4)


def all_predictions(cv_client, project_id, **query) -> list[StoredPrediction]:
    pages = list(cv_client.query_predictions(project_id, **query))
    return [prediction for page in pages for prediction in page.predictions]


def calls(emulator, operation: str) -> list:
    return [entry for entry in emulator.request_log if entry[2] == operation]


def test_it_lists_projects_and_reads_one(cv_client, shelves):
    projects = cv_client.get_projects()
    project = cv_client.get_project(shelves["project"])

    assert [p.id for p in projects] == [shelves["project"]]
    assert isinstance(project, Project)
    assert project.name == "Shelves & <Aisles>"
    assert project.status == "Succeeded"
    assert project.created.tzinfo is not None


def test_it_reads_the_project_kind_from_its_domain(cv_client, shelves):
    project = cv_client.get_project(shelves["project"])

    domain = cv_client.get_domain(project.domain_id)

    assert domain.type == limits.DOMAIN_OBJECT_DETECTION
    assert domain in cv_client.get_domains()


def test_it_lists_tags_and_iterations(cv_client, shelves):
    tags = cv_client.get_tags(shelves["project"])
    iterations = cv_client.get_iterations(shelves["project"])

    assert {tag.name for tag in tags} == {'Bottle "0.5l"', "Can"}
    assert {tag.type for tag in tags} == {limits.TAG_REGULAR}
    assert [i.name for i in iterations] == ["Iteration 1", "Iteration 2"]
    assert all(i.publish_name for i in iterations)


def test_it_raises_not_found_for_an_unknown_project(cv_client, emulator):
    with pytest.raises(NotFoundError) as caught:
        cv_client.get_project(str(uuid.uuid4()))

    assert caught.value.code == "NotFoundProject"
    assert not caught.value.retryable
    assert len(calls(emulator, "GetProject")) == 1


@pytest.mark.parametrize(
    ("order", "sort_key"),
    [
        (limits.ORDER_NEWEST, lambda p: -p.created.timestamp()),
        (limits.ORDER_OLDEST, lambda p: p.created.timestamp()),
        (limits.ORDER_SUGGESTED, None),
    ],
)
def test_it_pages_to_the_end_in_each_order(
    cv_client, emulator, shelves, order, sort_key
):
    emulator.config.page_size = 3

    pages = list(cv_client.query_predictions(shelves["project"], order_by=order))

    assert [len(page.predictions) for page in pages] == [3, 3, 1]
    assert pages[-1].is_last
    predictions = [p for page in pages for p in page.predictions]
    assert len({p.id for p in predictions}) == 7
    if sort_key:
        assert predictions == sorted(predictions, key=sort_key)
    assert len(calls(emulator, "QueryPredictions")) == 3


def test_it_sends_back_the_token_it_was_given(cv_client, emulator, shelves):
    emulator.config.page_size = 4

    first, second = cv_client.query_predictions(shelves["project"])

    assert first.token["continuation"]
    assert first.token["session"]
    assert second.is_last


def test_it_filters_by_iteration_and_time_window(cv_client, emulator, shelves):
    emulator.config.page_size = 2

    by_iteration = all_predictions(
        cv_client, shelves["project"], iteration_id=shelves["second"]
    )
    in_window = all_predictions(
        cv_client,
        shelves["project"],
        start_time=START + timedelta(minutes=1),
        end_time=START + timedelta(minutes=3, seconds=30),
        order_by=limits.ORDER_OLDEST,
    )

    assert len(by_iteration) == 3
    assert {p.iteration_id for p in by_iteration} == {shelves["second"]}
    assert [p.created for p in in_window] == [
        START + timedelta(minutes=minute) for minute in (1, 2, 3)
    ]


def test_it_filters_by_tag_thresholds(cv_client, emulator, shelves):
    emulator.config.page_size = 2
    confident = TagFilter(shelves["bottle"], min_threshold=0.8)

    found = all_predictions(cv_client, shelves["project"], tag_filters=[confident])

    assert sorted(p.labels[0].probability for p in found) == [0.85, 0.95]


def test_it_limits_a_page_with_max_count(cv_client, shelves):
    first = next(cv_client.query_predictions(shelves["project"], max_count=2))

    assert len(first.predictions) == 2


def test_it_refuses_more_than_two_tag_filters_before_sending(cv_client, emulator):
    filters = [TagFilter(str(uuid.uuid4())) for _ in range(3)]

    with pytest.raises(ValueError):
        cv_client.query_predictions(str(uuid.uuid4()), tag_filters=filters)

    assert emulator.request_log == []


def test_it_reads_boxes_and_labels_of_a_prediction(cv_client, shelves):
    predictions = all_predictions(
        cv_client, shelves["project"], order_by=limits.ORDER_OLDEST
    )

    second = predictions[1]
    bottle = next(label for label in second.labels if label.tag_id == shelves["bottle"])
    can = next(label for label in second.labels if label.tag_id == shelves["can"])
    assert (bottle.box.left, bottle.box.top, bottle.box.width, bottle.box.height) == BOX
    assert can.box is None
    assert bottle.tag_name == 'Bottle "0.5l"'
    assert second.resized_image_uri.startswith("http")


def promote(cv_client, shelves, prediction_ids, **batch) -> object:
    images = tuple(
        BatchImage(pid, regions=(Region(shelves["bottle"], *BOX),))
        for pid in prediction_ids
    )
    return cv_client.create_images_from_predictions(
        shelves["project"], ImageBatch(images, **batch)
    )


def test_it_promotes_a_batch_and_matches_results_by_source_url(
    cv_client, emulator, shelves
):
    predictions = all_predictions(cv_client, shelves["project"])
    ids = [p.id for p in predictions[:3]]

    summary = promote(cv_client, shelves, ids, metadata={"review": "7"})

    assert summary.http_status == 200
    assert summary.is_batch_successful
    assert set(summary.results) == set(ids)
    assert all(r.status == limits.STATUS_OK for r in summary.results.values())
    created = {
        image["id"] for image in emulator.state.tagged_images(shelves["project"])
    }
    assert {r.image_id for r in summary.results.values()} == created
    assert created.isdisjoint(ids)
    assert json.loads(summary.request_body)["images"][0]["id"] == ids[0]
    assert json.loads(summary.response_body)["isBatchSuccessful"] is True
    assert summary.duration_ms >= 0
    assert summary.missing_ids() == ()


def test_it_reads_each_image_status_on_207(cv_client, shelves):
    real = all_predictions(cv_client, shelves["project"])[0].id
    gone = str(uuid.uuid4())

    summary = promote(cv_client, shelves, [gone, real])

    assert summary.http_status == 207
    assert not summary.is_batch_successful
    assert summary.results[real].status == limits.STATUS_OK
    assert summary.results[gone].status == limits.STATUS_ERROR_SOURCE
    assert summary.results[gone].image_id is None
    assert [r.prediction_id for r in summary.failed()] == [gone]


def test_it_treats_a_second_promotion_as_ok_duplicate(cv_client, shelves):
    prediction_id = all_predictions(cv_client, shelves["project"])[0].id
    first = promote(cv_client, shelves, [prediction_id])

    again = promote(cv_client, shelves, [prediction_id])

    result = again.results[prediction_id]
    assert result.status == limits.STATUS_OK_DUPLICATE
    assert result.is_success
    assert result.image_id == first.results[prediction_id].image_id
    assert again.is_batch_successful


def test_it_deletes_predictions(cv_client, emulator, shelves):
    doomed = [p.id for p in all_predictions(cv_client, shelves["project"])[:2]]

    cv_client.delete_predictions(shelves["project"], doomed)

    left = {p.id for p in all_predictions(cv_client, shelves["project"])}
    assert len(left) == 5
    assert left.isdisjoint(doomed)
    assert calls(emulator, "DeletePrediction")[0][3] == 204


def test_it_refuses_to_delete_more_than_64_before_sending(cv_client, emulator):
    ids = [str(uuid.uuid4()) for _ in range(65)]

    with pytest.raises(ValueError):
        cv_client.delete_predictions(str(uuid.uuid4()), ids)

    assert emulator.request_log == []


def test_it_lists_and_counts_tagged_images(cv_client, shelves):
    ids = [p.id for p in all_predictions(cv_client, shelves["project"])[:3]]
    promote(cv_client, shelves, ids, metadata={"review": "7"})

    count = cv_client.get_tagged_image_count(shelves["project"])
    first_two = cv_client.get_tagged_images(shelves["project"], take=2)
    rest = cv_client.get_tagged_images(shelves["project"], take=2, skip=2)

    assert count == 3
    assert len(first_two) == 2
    assert len(rest) == 1
    image = rest[0]
    assert image.tag_ids == (shelves["bottle"],)
    assert image.regions[0].tag_id == shelves["bottle"]
    assert image.metadata == {"review": "7"}


def test_it_reads_images_by_id_after_promotion(cv_client, shelves):
    ids = [p.id for p in all_predictions(cv_client, shelves["project"])[:2]]
    summary = promote(cv_client, shelves, ids)
    image_ids = [result.image_id for result in summary.results.values()]

    images = cv_client.get_images_by_ids(
        shelves["project"], [*image_ids, str(uuid.uuid4())]
    )

    assert sorted(image.id for image in images) == sorted(image_ids)


def test_it_fetches_an_image_from_a_signed_link(cv_client, emulator, shelves):
    prediction = all_predictions(cv_client, shelves["project"])[0]

    image = cv_client.fetch_image(shelves["project"], prediction.thumbnail_uri)

    assert image.content_type == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")
    assert calls(emulator, "GetArtifact") == []


def test_it_fetches_a_relative_image_through_get_artifact(cv_client, emulator, shelves):
    emulator.config.relative_uris = True
    prediction = all_predictions(cv_client, shelves["project"])[0]

    image = cv_client.fetch_image(shelves["project"], prediction.original_image_uri)

    assert not prediction.original_image_uri.startswith("http")
    assert image.content_type == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert len(calls(emulator, "GetArtifact")) == 1
