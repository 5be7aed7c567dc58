"""Reading answers and writing bodies, without a server."""

import contextlib
import copy
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.customvision.errors import MalformedResponseError
from reviewer.customvision.types import (
    BatchImage,
    CreateSummary,
    ImageBatch,
    PredictionPage,
    Project,
    Region,
    StoredPrediction,
    Tag,
    TagFilter,
    TaggedImage,
    format_time,
    parse_time,
)

TAG = "b5f7e6a2-3d1c-4c8e-9f0a-1a2b3c4d5e6f"
PROJECT = {
    "id": "p1",
    "name": "Shelves & <things>",
    "description": None,
    "settings": {"domainId": "d1", "classificationType": "Multilabel"},
    "created": "2020-11-06T17:46:18.0288105",
    "lastModified": "2020-11-06T17:46:18Z",
    "thumbnailUri": None,
    "status": "Importing",
}
TAGGED_IMAGE = {
    "id": "i1",
    "created": "2020-11-06T17:46:18Z",
    "tags": [{"tagId": TAG, "tagName": "Can", "created": "2020-11-06T17:46:18Z"}],
    "regions": [{"tagId": TAG, "left": 0.1, "top": 0.2, "width": 0.3, "height": 0.4}],
    "metadata": {"review": "7"},
}
SUMMARY_FACTS = {
    "http_status": 207,
    "request_body": "{}",
    "response_body": "{}",
    "duration_ms": 5,
    "sent_ids": ("p1", "p2", "p3"),
}


def stored_prediction(**fields: object) -> dict:
    answer = {
        "id": "11111111-1111-1111-1111-111111111111",
        "project": "22222222-2222-2222-2222-222222222222",
        "iteration": "33333333-3333-3333-3333-333333333333",
        "domain": "44444444-4444-4444-4444-444444444444",
        "created": "2020-11-06T17:46:18.0288105",
        "resizedImageUri": "https://blob.example/r.jpg?se=2020&sig=abc",
        "thumbnailUri": "https://blob.example/t.jpg?se=2020&sig=abc",
        "originalImageUri": "https://blob.example/o.jpg?se=2020&sig=abc",
        "predictions": [
            {
                "probability": 8.79471951e-13,
                "tagId": TAG,
                "tagName": 'Caf\u00e9 "A" & <b>',
                "boundingBox": {"left": 0.1, "top": 0.2, "width": 0.3, "height": 0.4},
            }
        ],
    }
    return answer | fields


def test_it_reads_a_time_without_zone_and_seven_digits_as_utc():
    moment = parse_time("2020-11-06T17:46:18.0288105")

    assert moment == datetime(2020, 11, 6, 17, 46, 18, 28810, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-11-06T17:46:18Z", datetime(2020, 11, 6, 17, 46, 18, tzinfo=UTC)),
        (
            "2020-11-06T17:46:18.5+02:00",
            datetime(2020, 11, 6, 15, 46, 18, 500000, tzinfo=UTC),
        ),
        ("2020-11-06T17:46:18.0288105Z", datetime(2020, 11, 6, 17, 46, 18, 28810, UTC)),
    ],
)
def test_it_reads_times_with_z_or_an_offset(text, expected):
    assert parse_time(text) == expected


def test_it_refuses_a_time_that_is_not_iso_8601():
    with pytest.raises(MalformedResponseError):
        parse_time("last Tuesday")


def test_it_writes_times_in_utc_with_z():
    plus_two = timezone(timedelta(hours=2))

    assert format_time(datetime(2024, 1, 2, 5, 0, tzinfo=plus_two)) == (
        "2024-01-02T03:00:00Z"
    )
    assert format_time(datetime(2024, 1, 2, 3, 0)) == "2024-01-02T03:00:00Z"


def test_it_reads_probabilities_in_exponent_notation_and_missing_tag_type():
    prediction = StoredPrediction.from_json(stored_prediction())

    label = prediction.labels[0]
    assert label.probability == pytest.approx(8.79471951e-13)
    assert label.tag_type is None
    assert label.tag_name == 'Caf\u00e9 "A" & <b>'
    assert label.box is not None
    assert label.box.width == pytest.approx(0.3)


def test_it_reads_a_classification_label_without_a_box():
    answer = stored_prediction(
        predictions=[{"probability": 1, "tagId": TAG, "tagType": "Regular"}]
    )

    label = StoredPrediction.from_json(answer).labels[0]

    assert label.box is None
    assert label.probability == 1.0
    assert label.tag_type == "Regular"


@pytest.mark.parametrize(
    "fields",
    [
        {"id": None},
        {"created": 12},
        {"predictions": None},
        {"predictions": [{"tagId": TAG, "probability": "0.5"}]},
        {"predictions": [{"tagId": TAG, "probability": True}]},
        {"predictions": [{"tagId": TAG, "probability": 0.5, "boundingBox": []}]},
        {"predictions": ["not an object"]},
    ],
)
def test_it_refuses_wrong_types_and_missing_fields(fields):
    with pytest.raises(MalformedResponseError):
        StoredPrediction.from_json(stored_prediction(**fields))


def test_it_treats_a_null_continuation_as_the_last_page():
    token = {"session": "1", "continuation": None, "maxCount": 0, "tags": None}

    page = PredictionPage.from_json({"token": token, "results": []})

    assert page.is_last
    assert page.predictions == ()


def test_it_refuses_a_token_whose_continuation_is_not_text():
    with pytest.raises(MalformedResponseError):
        PredictionPage.from_json({"token": {"continuation": 5}, "results": []})


def test_it_reads_a_project_that_is_importing_without_thumbnail():
    project = Project.from_json(PROJECT)

    assert project.status == "Importing"
    assert project.thumbnail_uri is None
    assert project.domain_id == "d1"
    assert project.last_modified.tzinfo is UTC


def test_it_refuses_a_project_without_settings():
    with pytest.raises(MalformedResponseError):
        Project.from_json({"id": "p1", "name": "x", "settings": None})


def test_it_refuses_a_tag_whose_image_count_is_not_an_integer():
    with pytest.raises(MalformedResponseError):
        Tag.from_json({"id": "t", "name": "n", "type": "Regular", "imageCount": 1.5})


def test_it_reads_a_tagged_image_with_tags_regions_and_metadata():
    image = TaggedImage.from_json(TAGGED_IMAGE)

    assert image.tag_ids == (TAG,)
    assert image.regions == (Region(TAG, 0.1, 0.2, 0.3, 0.4),)
    assert image.metadata == {"review": "7"}


def test_it_reads_a_tagged_image_with_null_tags_regions_and_metadata():
    answer = {"id": "i1", "created": "2020-11-06T17:46:18Z", "tags": None}

    image = TaggedImage.from_json(answer)

    assert image.tag_ids == ()
    assert image.regions == ()
    assert image.metadata == {}


def test_it_writes_the_exact_create_batch_body():
    batch = ImageBatch(
        images=(
            BatchImage("p1", regions=(Region(TAG, 0.1, 0.2, 0.3, 0.4),)),
            BatchImage("p2", tag_ids=(TAG,)),
        ),
        tag_ids=(TAG,),
        metadata={"review": "42"},
    )

    assert batch.to_body() == {
        "images": [
            {
                "id": "p1",
                "tagIds": [],
                "regions": [
                    {"tagId": TAG, "left": 0.1, "top": 0.2, "width": 0.3, "height": 0.4}
                ],
            },
            {"id": "p2", "tagIds": [TAG], "regions": []},
        ],
        "tagIds": [TAG],
        "metadata": {"review": "42"},
    }
    assert batch.prediction_ids == ("p1", "p2")


def test_it_writes_a_tag_filter():
    assert TagFilter(TAG, 0.5).to_body() == {
        "id": TAG,
        "minThreshold": 0.5,
        "maxThreshold": 1.0,
    }


@pytest.mark.parametrize(
    "batch",
    [
        {"images": ()},
        {"images": tuple(BatchImage(f"p{n}") for n in range(65))},
        {"images": (BatchImage("p1"), BatchImage("p1"))},
        {"images": (BatchImage("p1", tag_ids=tuple(f"t{n}" for n in range(21))),)},
        {
            "images": (BatchImage("p1", tag_ids=tuple(f"t{n}" for n in range(15))),),
            "tag_ids": tuple(f"u{n}" for n in range(6)),
        },
        {"images": (BatchImage("p1", regions=(Region(TAG, 0, 0, 1, 1),) * 301),)},
        {"images": (BatchImage("p1"),), "metadata": {str(n): "v" for n in range(11)}},
        {"images": (BatchImage("p1"),), "metadata": {"k" * 129: "v"}},
        {"images": (BatchImage("p1"),), "metadata": {"k": "v" * 257}},
    ],
)
def test_it_refuses_a_batch_beyond_the_service_limits(batch):
    with pytest.raises(ValueError):
        ImageBatch(**batch)


def test_it_matches_results_by_source_url_not_position():
    answer = {
        "isBatchSuccessful": False,
        "images": [
            {"sourceUrl": "p2", "status": "ErrorSource", "image": None},
            {"sourceUrl": "p1", "status": "OKDuplicate", "image": {"id": "new-1"}},
        ],
    }

    summary = CreateSummary.from_json(answer, **SUMMARY_FACTS)

    assert summary.results["p1"].image_id == "new-1"
    assert summary.results["p1"].is_success
    assert summary.results["p2"].image_id is None
    assert [result.prediction_id for result in summary.failed()] == ["p2"]
    assert summary.missing_ids() == ("p3",)


def test_it_refuses_a_summary_without_is_batch_successful():
    with pytest.raises(MalformedResponseError):
        CreateSummary.from_json({"images": []}, **SUMMARY_FACTS)


MISSING = object()
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(["", "x", "2020-11-06T17:46:18Z", TAG]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(), inner),
    max_leaves=6,
)
VALID_ANSWERS = [
    (StoredPrediction.from_json, stored_prediction()),
    (PredictionPage.from_json, {"token": {}, "results": [stored_prediction()]}),
    (Project.from_json, PROJECT),
    (Tag.from_json, {"id": "t", "name": "n", "type": "Regular", "imageCount": 0}),
    (TaggedImage.from_json, TAGGED_IMAGE),
    (
        partial(CreateSummary.from_json, **SUMMARY_FACTS),
        {"isBatchSuccessful": True, "images": [{"sourceUrl": "p1", "status": "OK"}]},
    ),
]


def paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """List the path to every value inside a JSON value."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    if isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def replaced(value: object, path: tuple, new: object) -> object:
    """Return a copy of a JSON value with one inner value replaced or removed."""
    if not path:
        return new
    copied = copy.deepcopy(value)
    parent = copied
    for step in path[:-1]:
        parent = parent[step]
    if new is MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return copied


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_it_raises_only_malformed_for_a_damaged_answer(data):
    reader, valid = data.draw(st.sampled_from(VALID_ANSWERS))
    path = data.draw(st.sampled_from(paths(valid)[1:]))
    new = data.draw(st.just(MISSING) | JSON_VALUES)

    with contextlib.suppress(MalformedResponseError):
        reader(replaced(valid, path, new))
