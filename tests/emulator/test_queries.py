"""QueryPredictions: paging, orders, filters and the shape of results."""

import re
from datetime import timedelta

import pytest

from tests.emulator.conftest import NOW, build_project


@pytest.mark.parametrize("order", ["Newest", "Oldest", "Suggested"])
def test_it_pages_to_the_end_in_every_order(api, shelf, order):
    first = api.query(shelf.id, orderBy=order, maxCount=3).json()
    results = api.query_all(shelf.id, orderBy=order, maxCount=3)

    assert len(first["results"]) == 3
    assert first["token"]["continuation"]
    assert sorted(result["id"] for result in results) == sorted(shelf.predictions)


def test_it_orders_newest_and_oldest_by_creation(api, shelf):
    newest = [result["id"] for result in api.query_all(shelf.id, orderBy="Newest")]
    oldest = [result["id"] for result in api.query_all(shelf.id, orderBy="Oldest")]

    assert newest == shelf.predictions
    assert oldest == shelf.predictions[::-1]


def test_it_suggests_the_least_certain_predictions_first(api, shelf):
    results = api.query_all(shelf.id, orderBy="Suggested")

    tops = [result["predictions"][0]["probability"] for result in results]
    assert tops == [0.5, 0.4, 0.6, 0.3, 0.7, 0.8, 0.9]


def test_it_caps_the_page_at_its_own_page_size(emulator, api, shelf):
    emulator.config.page_size = 2

    answer = api.query(shelf.id, maxCount=100).json()

    assert len(answer["results"]) == 2


def test_it_neither_repeats_nor_skips_when_predictions_arrive_while_paging(
    emulator, api, shelf
):
    first = api.query(shelf.id, orderBy="Newest", maxCount=3).json()
    emulator.state.add_prediction(shelf.id, shelf.iterations[0], [])
    rest = api.query_all(shelf.id, **first["token"])

    seen = [result["id"] for result in first["results"] + rest]
    assert seen == shelf.predictions


def test_it_filters_by_iteration(api, shelf):
    results = api.query_all(shelf.id, iterationId=shelf.iterations[1])

    assert [result["id"] for result in results] == shelf.predictions[1::2]


def test_it_filters_by_a_time_window(api, shelf):
    start = (NOW - timedelta(hours=2, minutes=30)).isoformat()
    end = (NOW - timedelta(minutes=30)).isoformat()

    results = api.query_all(shelf.id, startTime=start, endTime=end)

    assert [result["id"] for result in results] == shelf.predictions[1:3]


def test_it_filters_by_tag_probability(api, shelf):
    tags = [{"id": shelf.tags[0], "minThreshold": 0.45, "maxThreshold": 0.75}]

    results = api.query_all(shelf.id, tags=tags)

    assert [result["id"] for result in results] == shelf.predictions[2:5:2]


def test_it_refuses_more_than_two_tag_filters(api, shelf):
    tags = [{"id": tag_id, "minThreshold": 0.1} for tag_id in shelf.tags * 2]

    response = api.query(shelf.id, tags=tags[:3])

    assert response.status_code == 400
    assert response.json()["code"] == "BadRequestPredictionTagsExceededCount"


@pytest.mark.parametrize(
    "token",
    [{"orderBy": "Loudest"}, {"continuation": "not-ours"}, {"startTime": "soon"}],
)
def test_it_refuses_a_token_it_cannot_read(api, shelf, token):
    response = api.query(shelf.id, **token)

    assert response.status_code == 400
    assert response.json()["code"] == "BadRequestPredictionInvalidQueryParameters"


def test_it_forgets_predictions_older_than_thirty_days(emulator, api, shelf):
    old = NOW - timedelta(days=30, minutes=1)
    emulator.state.add_prediction(shelf.id, shelf.iterations[0], [], old)

    assert len(api.query_all(shelf.id)) == len(shelf.predictions)


def test_it_returns_every_token_field_and_null_on_the_last_page(api, shelf):
    token = api.query(shelf.id, maxCount=50).json()["token"]

    assert set(token) == {
        "session",
        "continuation",
        "maxCount",
        "orderBy",
        "tags",
        "iterationId",
        "startTime",
        "endTime",
        "application",
    }
    assert token["continuation"] is None
    assert token["tags"] is None
    assert 0 < len(token["session"]) <= 16


def test_it_describes_each_stored_prediction(api, shelf):
    result = api.query(shelf.id, maxCount=1).json()["results"][0]

    assert result["id"] == shelf.predictions[0]
    assert result["project"] == shelf.id
    assert result["iteration"] == shelf.iterations[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}", result["created"])
    assert result["predictions"][0]["boundingBox"] == {
        "left": 0.1,
        "top": 0.2,
        "width": 0.3,
        "height": 0.4,
    }
    assert result["predictions"][0]["tagName"] == "Apple"


def test_it_gives_classification_predictions_no_box(api, fruit):
    results = api.query_all(fruit.id)

    assert {p["boundingBox"] for r in results for p in r["predictions"]} == {None}


def test_it_answers_like_the_live_service_with_demo_data(emulator, api):
    project_id = emulator.seed_demo()["object_detection"]

    response = api.query(project_id, maxCount=50)

    predictions = [p for r in response.json()["results"] for p in r["predictions"]]
    assert re.search(rb'"probability": \d(\.\d+)?e-\d\d', response.content)
    assert any("tagType" not in prediction for prediction in predictions)
    assert any("tagType" in prediction for prediction in predictions)


def test_it_pages_a_large_project_without_gaps(emulator, api):
    project = build_project(emulator, predictions=120)

    results = api.query_all(project.id, orderBy="Suggested", maxCount=50)

    assert len({result["id"] for result in results}) == 120
