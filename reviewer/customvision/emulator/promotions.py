"""CreateImagesFromPredictions: check a batch, then make training images."""

import uuid
from dataclasses import dataclass

from reviewer.customvision import limits
from reviewer.customvision.emulator.faults import Faults
from reviewer.customvision.emulator.images import ORIGINAL_SIZE
from reviewer.customvision.emulator.state import State
from reviewer.customvision.emulator.wire import ApiError, ticks_time

SUCCESSES = frozenset({limits.STATUS_OK, limits.STATUS_OK_DUPLICATE})
REGION_FIELDS = ("tagId", "left", "top", "width", "height")


@dataclass
class Outcome:
    """What became of one image of a batch."""

    prediction_id: str
    status: str
    image: dict | None = None


def create(
    state: State, faults: Faults, project_id: str, batch: object, now: float
) -> list[Outcome]:
    """Create one training image per entry, or refuse the whole batch.

    An entry whose prediction has a status set in `faults` gets that status instead.
    """
    with state.lock:
        state.project(project_id)
        entries, tag_ids, metadata = _checked(state, project_id, batch)
        forced = faults.image_statuses(entry["id"] for entry in entries)
        return [
            Outcome(entry["id"], forced[entry["id"]])
            if entry["id"] in forced
            else _create_one(state, project_id, entry, tag_ids, metadata, now)
            for entry in entries
        ]


def _checked(
    state: State, project_id: str, batch: object
) -> tuple[list[dict], list[str], dict | None]:
    if not isinstance(batch, dict) or not isinstance(batch.get("images"), list):
        raise _bad_batch("The batch needs a list of images.")
    entries, tag_ids = batch["images"], batch.get("tagIds") or []
    if not entries:
        raise _bad_batch("The batch has no images.")
    if len(entries) > limits.MAX_BATCH_IMAGES:
        raise ApiError(
            400,
            "BadRequestExceededBatchSize",
            f"A batch holds at most {limits.MAX_BATCH_IMAGES} images.",
        )
    # The 20 batch tags apply to every image, so the refusal names tags per image.
    if len(tag_ids) > limits.MAX_BATCH_TAGS:
        raise ApiError(
            400,
            "BadRequestExceedTagPerImageLimit",
            f"A batch applies at most {limits.MAX_BATCH_TAGS} tags.",
        )

    metadata = _checked_metadata(batch.get("metadata"))
    for entry in entries:
        _check_entry(entry)
    _check_tags_exist(state.tags[project_id], tag_ids, entries)
    return entries, tag_ids, metadata


def _checked_metadata(metadata: object) -> dict | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or len(metadata) > limits.MAX_METADATA_PAIRS:
        raise ApiError(
            400,
            "BadRequestImageMetadataKey",
            f"Metadata holds at most {limits.MAX_METADATA_PAIRS} pairs.",
        )

    for key, value in metadata.items():
        if len(key) > limits.MAX_METADATA_KEY_LENGTH:
            raise ApiError(400, "BadRequestImageMetadataKey", "A key is too long.")
        if not isinstance(value, str) or len(value) > limits.MAX_METADATA_VALUE_LENGTH:
            raise ApiError(400, "BadRequestImageMetadataValue", "A value is invalid.")
    return dict(metadata)


def _check_entry(entry: object) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise _bad_batch("Each image needs the id of a prediction.")
    if not isinstance(entry.get("tagIds") or [], list):
        raise _bad_batch("An image's tagIds must be a list.")

    for region in entry.get("regions") or []:
        _check_region(region)


def _check_region(region: object) -> None:
    if not isinstance(region, dict) or not isinstance(region.get("tagId"), str):
        raise ApiError(400, "BadRequestImageRegions", "A region needs a tagId.")

    numbers = [region.get(name) for name in REGION_FIELDS[1:]]
    if not all(isinstance(number, int | float) for number in numbers):
        raise ApiError(400, "BadRequestImageRegions", "A region is incomplete.")
    if not all(0 <= number <= 1 for number in numbers):
        raise ApiError(400, "BadRequestImageRegions", "A region leaves the image.")


def _check_tags_exist(tags: dict, tag_ids: list[str], entries: list[dict]) -> None:
    wanted = set(tag_ids)
    for entry in entries:
        wanted.update(entry.get("tagIds") or [])
        wanted.update(region.get("tagId") for region in entry.get("regions") or [])
    unknown = wanted - tags.keys()
    if unknown:
        raise ApiError(
            400, "NotFoundTag", f"Unknown tags: {sorted(map(str, unknown))}."
        )


def _create_one(
    state: State,
    project_id: str,
    entry: dict,
    batch_tag_ids: list[str],
    metadata: dict | None,
    now: float,
) -> Outcome:
    prediction_id = entry["id"]
    existing = state.images[project_id].get(state.promoted.get(prediction_id, ""))
    if existing is not None:
        return Outcome(prediction_id, limits.STATUS_OK_DUPLICATE, existing)
    if state.live_prediction(project_id, prediction_id, now) is None:
        return Outcome(prediction_id, limits.STATUS_ERROR_SOURCE)

    regions = entry.get("regions") or []
    tag_ids = [*batch_tag_ids, *(entry.get("tagIds") or [])]
    tag_ids = list(dict.fromkeys([*tag_ids, *(region["tagId"] for region in regions)]))
    refusal = _refusal(state.tags[project_id], tag_ids, regions)
    if refusal:
        return Outcome(prediction_id, refusal)

    image = _image(state.tags[project_id], tag_ids, regions, metadata, now)
    image["predictionId"] = prediction_id
    state.record_image(project_id, image)
    return Outcome(prediction_id, limits.STATUS_OK, image)


def _refusal(tags: dict, tag_ids: list[str], regions: list[dict]) -> str:
    if len(tag_ids) > limits.MAX_TAGS_PER_IMAGE:
        return limits.STATUS_ERROR_TAG_LIMIT_EXCEED
    if len(regions) > limits.MAX_REGIONS_PER_IMAGE:
        return limits.STATUS_ERROR_REGION_LIMIT_EXCEED

    types = {tags[tag_id]["type"] for tag_id in tag_ids}
    if limits.TAG_NEGATIVE in types and len(types) > 1:
        return limits.STATUS_ERROR_NEGATIVE_AND_REGULAR
    return ""


def _image(
    tags: dict,
    tag_ids: list[str],
    regions: list[dict],
    metadata: dict | None,
    now: float,
) -> dict:
    created = ticks_time(now)
    width, height = ORIGINAL_SIZE
    return {
        "id": str(uuid.uuid4()),
        "created": created,
        "width": width,
        "height": height,
        "tags": [
            {"tagId": tag_id, "tagName": tags[tag_id]["name"], "created": created}
            for tag_id in tag_ids
        ],
        "regions": [
            {
                "regionId": str(uuid.uuid4()),
                "tagName": tags[region["tagId"]]["name"],
                "created": created,
                **{name: region[name] for name in REGION_FIELDS},
            }
            for region in regions
        ],
        "metadata": metadata,
    }


def _bad_batch(message: str) -> ApiError:
    return ApiError(400, "BadRequestImageBatch", message)
