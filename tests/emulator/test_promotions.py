"""CreateImagesFromPredictions, the tagged images it makes, and DeletePrediction."""

from datetime import timedelta

import pytest

from tests.emulator.conftest import NOW, region


def test_it_creates_a_new_training_image_from_a_prediction(emulator, api, shelf):
    entry = {"id": shelf.predictions[0], "regions": [region(shelf.tags[0])]}

    response = api.promote(shelf.id, [entry], metadata={"reviewer": "ann"})

    summary = response.json()
    (result,) = summary["images"]
    assert response.status_code == 200
    assert summary["isBatchSuccessful"] is True
    assert (result["sourceUrl"], result["status"]) == (shelf.predictions[0], "OK")
    assert result["image"]["id"] != shelf.predictions[0]
    assert result["image"]["regions"][0]["tagName"] == "Apple"
    assert result["image"]["metadata"] == {"reviewer": "ann"}
    assert emulator.state.tagged_images(shelf.id)[0]["id"] == result["image"]["id"]


def test_it_applies_batch_tags_to_every_image(api, fruit):
    entries = [{"id": prediction_id} for prediction_id in fruit.predictions[:2]]

    summary = api.promote(fruit.id, entries, tagIds=[fruit.tags[1]]).json()

    tags = [image["image"]["tags"] for image in summary["images"]]
    assert [[tag["tagName"] for tag in image_tags] for image_tags in tags] == [
        ["Pear"],
        ["Pear"],
    ]


def test_it_answers_207_when_one_image_fails(api, shelf):
    entries = [
        {"id": shelf.predictions[0], "tagIds": [shelf.tags[0]]},
        {"id": "00000000-0000-0000-0000-000000000000", "tagIds": [shelf.tags[0]]},
    ]

    response = api.promote(shelf.id, entries)

    assert response.status_code == 207
    assert response.json()["isBatchSuccessful"] is False
    statuses = [(i["status"], i["image"] is None) for i in response.json()["images"]]
    assert statuses == [("OK", False), ("ErrorSource", True)]


def test_it_answers_ok_duplicate_with_the_image_already_made(api, shelf):
    entry = {"id": shelf.predictions[0], "tagIds": [shelf.tags[0]]}
    first = api.promote(shelf.id, [entry]).json()["images"][0]

    response = api.promote(shelf.id, [entry])

    again = response.json()["images"][0]
    assert response.status_code == 200
    assert again["status"] == "OKDuplicate"
    assert again["image"]["id"] == first["image"]["id"]


def test_it_reports_error_source_for_an_expired_prediction(emulator, api, shelf):
    old = NOW - timedelta(days=31)
    expired = emulator.state.add_prediction(shelf.id, shelf.iterations[0], [], old)

    response = api.promote(shelf.id, [{"id": expired, "tagIds": [shelf.tags[0]]}])

    assert response.json()["images"][0]["status"] == "ErrorSource"


@pytest.mark.parametrize(
    ("batch", "code"),
    [
        ({"images": []}, "BadRequestImageBatch"),
        ({"images": None}, "BadRequestImageBatch"),
        ({"images": [{"id": "p"}] * 65}, "BadRequestExceededBatchSize"),
        ({"metadata": {f"k{n}": "v" for n in range(11)}}, "BadRequestImageMetadataKey"),
        ({"metadata": {"k" * 129: "v"}}, "BadRequestImageMetadataKey"),
        ({"metadata": {"k": "v" * 257}}, "BadRequestImageMetadataValue"),
        ({"tagIds": ["00000000-0000-0000-0000-000000000000"]}, "NotFoundTag"),
        (
            {"images": [{"id": "p", "regions": [{"left": 0.1}]}]},
            "BadRequestImageRegions",
        ),
    ],
)
def test_it_refuses_a_batch_that_breaks_the_rules(api, shelf, batch, code):
    body = {"images": [{"id": shelf.predictions[0]}], **batch}

    response = api.post(f"/projects/{shelf.id}/images/predictions", json=body)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_it_refuses_more_than_twenty_batch_tags(emulator, api, shelf):
    tags = [emulator.state.add_tag(shelf.id, f"T{n}")["id"] for n in range(21)]

    response = api.promote(shelf.id, [{"id": shelf.predictions[0]}], tagIds=tags)

    assert response.status_code == 400
    assert response.json()["code"] == "BadRequestExceedTagPerImageLimit"


def test_it_refuses_an_unknown_tag_in_a_region(api, shelf):
    entry = {"id": shelf.predictions[0], "regions": [region("unknown")]}

    response = api.promote(shelf.id, [entry])

    assert response.json()["code"] == "NotFoundTag"


def test_it_answers_404_when_promoting_into_an_unknown_project(api):
    response = api.promote("00000000-0000-0000-0000-000000000000", [{"id": "p"}])

    assert response.status_code == 404
    assert response.json()["code"] == "NotFoundProject"


def test_it_reports_error_tag_limit_exceed_over_100_tags(emulator, api, fruit):
    tags = [emulator.state.add_tag(fruit.id, f"T{n}")["id"] for n in range(101)]

    response = api.promote(fruit.id, [{"id": fruit.predictions[0], "tagIds": tags}])

    assert response.json()["images"][0]["status"] == "ErrorTagLimitExceed"


def test_it_reports_error_region_limit_exceed_over_300_regions(api, shelf):
    entry = {"id": shelf.predictions[0], "regions": [region(shelf.tags[0])] * 301}

    response = api.promote(shelf.id, [entry])

    assert response.json()["images"][0]["status"] == "ErrorRegionLimitExceed"


def test_it_refuses_negative_and_regular_tags_on_one_image(api, fruit):
    entry = {"id": fruit.predictions[0], "tagIds": fruit.tags[::2]}

    response = api.promote(fruit.id, [entry])

    status = response.json()["images"][0]["status"]
    assert status == "ErrorNegativeAndRegularTagOnSameImage"


def test_it_lists_each_promoted_prediction_once(api, shelf):
    entries = [{"id": p, "tagIds": [shelf.tags[0]]} for p in shelf.predictions[:3]]
    api.promote(shelf.id, entries)
    api.promote(shelf.id, entries[:2])

    newest = api.get(f"/projects/{shelf.id}/images/tagged").json()
    oldest = api.get(
        f"/projects/{shelf.id}/images/tagged", params={"orderBy": "Oldest", "skip": 1}
    ).json()

    count = api.get(f"/projects/{shelf.id}/images/tagged/count").json()
    assert count == len(newest) == 3
    assert [image["id"] for image in oldest] == [i["id"] for i in newest[::-1][1:]]


def test_it_filters_tagged_images_by_tag(api, shelf):
    api.promote(shelf.id, [{"id": shelf.predictions[0], "tagIds": [shelf.tags[0]]}])
    api.promote(shelf.id, [{"id": shelf.predictions[1], "tagIds": [shelf.tags[1]]}])

    params = {"tagIds": shelf.tags[1]}
    images = api.get(f"/projects/{shelf.id}/images/tagged", params=params).json()
    count = api.get(f"/projects/{shelf.id}/images/tagged/count", params=params)

    assert [image["tags"][0]["tagName"] for image in images] == ["Pear"]
    assert count.json() == 1


def test_it_refuses_to_take_more_than_256_tagged_images(api, shelf):
    params = {"take": 257}

    response = api.get(f"/projects/{shelf.id}/images/tagged", params=params)

    assert response.status_code == 400


def test_it_counts_training_images_per_tag(api, shelf):
    api.promote(shelf.id, [{"id": shelf.predictions[0], "tagIds": [shelf.tags[1]]}])

    tags = api.get(f"/projects/{shelf.id}/tags").json()

    assert [tag["imageCount"] for tag in tags] == [0, 1]


def test_it_finds_training_images_by_id(api, shelf):
    entry = {"id": shelf.predictions[0], "tagIds": [shelf.tags[0]]}
    image = api.promote(shelf.id, [entry]).json()["images"][0]["image"]

    params = {"imageIds": f"{image['id']},unknown"}
    found = api.get(f"/projects/{shelf.id}/images/id", params=params).json()

    assert [i["id"] for i in found] == [image["id"]]


def test_it_deletes_predictions(api, shelf):
    params = {"ids": ",".join(shelf.predictions[:2])}

    response = api.delete(f"/projects/{shelf.id}/predictions", params=params)

    remaining = [result["id"] for result in api.query_all(shelf.id)]
    assert response.status_code == 204
    assert remaining == shelf.predictions[2:]
    promotion = api.promote(shelf.id, [{"id": shelf.predictions[0]}])
    assert promotion.json()["images"][0]["status"] == "ErrorSource"


@pytest.mark.parametrize(
    ("ids", "code"),
    [
        ("", "BadRequestPredictionIdsMissing"),
        (",".join(["x"] * 65), "BadRequestPredictionIdsExceededCount"),
    ],
)
def test_it_refuses_a_delete_without_ids_or_with_too_many(api, shelf, ids, code):
    response = api.delete(f"/projects/{shelf.id}/predictions", params={"ids": ids})

    assert response.status_code == 400
    assert response.json()["code"] == code
