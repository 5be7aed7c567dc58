"""Throttling, latency, and failures on purpose."""

import time

import pytest
import requests


def test_it_throttles_beyond_the_rate_limit_with_retry_after(emulator, api):
    emulator.config.rps_limit = 2

    responses = [api.get("/domains") for _ in range(5)]

    throttled = [r for r in responses if r.status_code == 429]
    assert len(throttled) >= 2
    assert int(throttled[0].headers["Retry-After"]) >= 1
    assert throttled[0].json()["error"]["code"] == "429"


def test_it_answers_injected_failures_then_recovers(emulator, api):
    emulator.inject(status=503, count=2)

    statuses = [api.get("/domains").status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


def test_it_injects_only_into_the_named_operation(emulator, api, shelf):
    emulator.inject(status=500, operation="QueryPredictions")

    projects = api.get("/projects")
    query = api.query(shelf.id)

    assert projects.status_code == 200
    assert query.status_code == 500
    assert query.json()["code"] == "ErrorUnknown"


def test_it_sends_retry_after_with_an_injected_429(emulator, api):
    emulator.inject(status=429, retry_after=7)

    response = api.get("/domains")

    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"]["code"] == "429"


def test_it_fails_a_share_of_requests_at_random(emulator, api):
    emulator.config.fail_rate = 0.5

    statuses = [api.get("/domains").status_code for _ in range(40)]

    assert 5 < statuses.count(503) < 35
    assert statuses.count(503) + statuses.count(200) == 40


def test_it_loses_the_answer_but_keeps_the_image(emulator, api, shelf):
    emulator.drop_next()
    entry = {"id": shelf.predictions[0], "tagIds": [shelf.tags[0]]}

    with pytest.raises(requests.ConnectionError):
        api.promote(shelf.id, [entry])

    assert len(emulator.state.tagged_images(shelf.id)) == 1
    assert emulator.request_log[-1][2:] == ("CreateImagesFromPredictions", None)
    assert api.promote(shelf.id, [entry]).json()["images"][0]["status"] == "OKDuplicate"


def test_it_drops_only_promotions_at_the_drop_rate(emulator, api, shelf):
    emulator.config.drop_rate = 1.0
    entry = {"id": shelf.predictions[0], "tagIds": [shelf.tags[0]]}

    with pytest.raises(requests.ConnectionError):
        api.promote(shelf.id, [entry])

    assert api.get("/projects").status_code == 200


def test_it_waits_the_configured_latency(emulator, api):
    emulator.config.latency_ms = 120
    started = time.perf_counter()

    api.get("/domains")

    assert time.perf_counter() - started >= 0.12


def test_it_forgets_faults_and_settings_on_reset(emulator, api):
    emulator.inject(status=503, count=5)
    emulator.config.fail_rate = 1.0

    emulator.reset()

    assert api.get("/domains").status_code == 200
    assert emulator.request_log == [
        ("GET", "/customvision/v3.3/training/domains", "GetDomains", 200)
    ]


def test_it_answers_a_set_image_status_once_and_creates_the_rest(emulator, api, shelf):
    emulator.fail_image(shelf.predictions[0], "ErrorStorage")
    entries = [{"id": p, "tagIds": [shelf.tags[0]]} for p in shelf.predictions[:2]]

    first = api.promote(shelf.id, entries)
    again = api.promote(shelf.id, entries)

    assert first.status_code == 207
    assert first.json()["isBatchSuccessful"] is False
    results = [(i["sourceUrl"], i["status"]) for i in first.json()["images"]]
    assert results == [
        (shelf.predictions[0], "ErrorStorage"),
        (shelf.predictions[1], "OK"),
    ]
    assert first.json()["images"][0]["image"] is None
    assert [i["status"] for i in again.json()["images"]] == ["OK", "OKDuplicate"]


def test_it_keeps_a_set_image_status_through_a_refused_batch(emulator, api, shelf):
    emulator.fail_image(shelf.predictions[0], "ErrorImageSize")
    entry = {"id": shelf.predictions[0], "tagIds": [shelf.tags[0]]}

    refused = api.promote(shelf.id, [entry], tagIds=["unknown"])
    answered = api.promote(shelf.id, [entry])

    assert refused.status_code == 400
    assert answered.json()["images"][0]["status"] == "ErrorImageSize"


def test_it_will_not_set_a_success_as_an_image_failure(emulator, shelf):
    with pytest.raises(ValueError, match="OKDuplicate is a success"):
        emulator.fail_image(shelf.predictions[0], "OKDuplicate")


def test_it_names_the_code_of_an_injected_service_error(emulator, api, shelf):
    emulator.inject(
        status=404, operation="CreateImagesFromPredictions", code="NotFoundProject"
    )

    response = api.promote(shelf.id, [{"id": shelf.predictions[0]}])

    assert response.status_code == 404
    assert response.json()["code"] == "NotFoundProject"
