"""Typed objects for what the Custom Vision Training API v3.3 sends and receives.

Answers are read defensively: a wrong type or a missing required field raises
MalformedResponseError, never KeyError or TypeError.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID

from reviewer.customvision import limits
from reviewer.customvision.errors import MalformedResponseError

Json = dict[str, Any]

SUCCESS_STATUSES = frozenset({limits.STATUS_OK, limits.STATUS_OK_DUPLICATE})
# The longest names, and types or statuses, that the cache keeps; longer is refused.
NAME_LENGTH = 255
WORD_LENGTH = 20


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 time from the service; one without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedResponseError(f"{text[:40]!r} is not an ISO 8601 time") from None

    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)

    return moment


def format_time(moment: datetime) -> str:
    """Write a time for a request body, in UTC; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)

    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def read_object(value: object, what: str) -> Json:
    """Return the value if it is a JSON object, else raise."""
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{what} should be an object, got {_kind(value)}")

    return value


def read_list(value: object, what: str) -> list[Any]:
    """Return the value if it is a JSON array, else raise."""
    if not isinstance(value, list):
        raise MalformedResponseError(f"{what} should be a list, got {_kind(value)}")

    return value


def read_integer(value: object, what: str) -> int:
    """Return the value if it is a JSON integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponseError(f"{what} should be an integer, got {_kind(value)}")

    return value


def _kind(value: object) -> str:
    """Name a JSON value's type without echoing the value."""
    return "nothing" if value is None else type(value).__name__


def _text(data: Json, key: str, longest: int | None = None) -> str:
    """Return a required string field, refused when longer than `longest`."""
    value = data.get(key)
    if not isinstance(value, str):
        raise MalformedResponseError(f"{key} should be a string, got {_kind(value)}")

    if longest is not None and len(value) > longest:
        raise MalformedResponseError(f"{key} is longer than {longest} characters")

    return value


def _optional_text(data: Json, key: str, longest: int | None = None) -> str | None:
    """Return a string field that may be null or missing."""
    return None if data.get(key) is None else _text(data, key, longest)


def _id(data: Json, key: str) -> str:
    """Return a required id field: a GUID, as the cache's keys are."""
    value = _text(data, key)
    try:
        UUID(value)
    except ValueError:
        raise MalformedResponseError(f"{key} should be a UUID") from None

    return value


def _number(data: Json, key: str) -> float:
    """Return a required finite number; exponent notation arrives as a float."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedResponseError(f"{key} should be a number, got {_kind(value)}")

    # json reads NaN, Infinity and 1e999 as floats the cache cannot hold.
    if not math.isfinite(value):
        raise MalformedResponseError(f"{key} should be a finite number")

    return float(value)


def _probability(data: Json, key: str) -> float:
    """Return a required number between 0 and 1."""
    value = _number(data, key)
    if not 0 <= value <= 1:
        raise MalformedResponseError(f"{key} should be between 0 and 1")

    return value


def _time(data: Json, key: str) -> datetime:
    """Return a required time field."""
    return parse_time(_text(data, key))


def _optional_time(data: Json, key: str) -> datetime | None:
    """Return a time field that may be null or missing."""
    return None if data.get(key) is None else _time(data, key)


def _optional_list(data: Json, key: str) -> list[Any]:
    """Return a list field, empty when null or missing."""
    value = data.get(key)
    return [] if value is None else read_list(value, key)


def _text_map(value: object, what: str) -> dict[str, str]:
    """Return a string-to-string object, empty when null."""
    if value is None:
        return {}

    pairs = read_object(value, what)
    if not all(isinstance(item, str) for item in pairs.values()):
        raise MalformedResponseError(f"{what} values should be strings")

    return dict(pairs)


@dataclass(frozen=True, slots=True)
class Domain:
    """A domain: its type says whether projects classify or detect objects."""

    id: str
    name: str
    type: str

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read a Domain answer."""
        data = read_object(value, "domain")
        return cls(
            id=_text(data, "id"), name=_text(data, "name"), type=_text(data, "type")
        )


@dataclass(frozen=True, slots=True)
class Project:
    """A Custom Vision project; its domain, not classification_type, says its kind."""

    id: str
    name: str
    description: str | None
    domain_id: str
    classification_type: str | None
    status: str
    created: datetime
    last_modified: datetime
    thumbnail_uri: str | None

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read a Project answer."""
        data = read_object(value, "project")
        settings = read_object(data.get("settings"), "settings")
        return cls(
            id=_text(data, "id"),
            name=_text(data, "name", NAME_LENGTH),
            description=_optional_text(data, "description"),
            domain_id=_text(settings, "domainId"),
            classification_type=_optional_text(settings, "classificationType"),
            status=_text(data, "status", WORD_LENGTH),
            created=_time(data, "created"),
            last_modified=_time(data, "lastModified"),
            thumbnail_uri=_optional_text(data, "thumbnailUri"),
        )


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag of a project: Regular, Negative or GeneralProduct."""

    id: str
    name: str
    type: str
    image_count: int
    description: str | None

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read a Tag answer."""
        data = read_object(value, "tag")
        return cls(
            id=_id(data, "id"),
            name=_text(data, "name", NAME_LENGTH),
            type=_text(data, "type", WORD_LENGTH),
            image_count=read_integer(data.get("imageCount"), "imageCount"),
            description=_optional_text(data, "description"),
        )


@dataclass(frozen=True, slots=True)
class Iteration:
    """A training iteration of a project."""

    id: str
    name: str
    status: str
    created: datetime
    trained_at: datetime | None
    domain_id: str | None
    classification_type: str | None
    publish_name: str | None

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read an Iteration answer."""
        data = read_object(value, "iteration")
        return cls(
            id=_id(data, "id"),
            name=_text(data, "name", NAME_LENGTH),
            status=_text(data, "status", WORD_LENGTH),
            created=_time(data, "created"),
            trained_at=_optional_time(data, "trainedAt"),
            domain_id=_optional_text(data, "domainId"),
            classification_type=_optional_text(data, "classificationType"),
            publish_name=_optional_text(data, "publishName", NAME_LENGTH),
        )


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A box normalised to 0-1 of the image's width and height."""

    left: float
    top: float
    width: float
    height: float

    @classmethod
    def from_json(cls, value: object) -> Self | None:
        """Read a boundingBox; classification predictions have none."""
        if value is None:
            return None

        data = read_object(value, "boundingBox")
        return cls(
            left=_number(data, "left"),
            top=_number(data, "top"),
            width=_number(data, "width"),
            height=_number(data, "height"),
        )


@dataclass(frozen=True, slots=True)
class PredictedLabel:
    """One tag the model predicted on an image, with its box in detection."""

    tag_id: str
    tag_name: str | None
    tag_type: str | None
    probability: float
    box: BoundingBox | None

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read one Prediction of a stored prediction."""
        data = read_object(value, "prediction")
        return cls(
            tag_id=_id(data, "tagId"),
            tag_name=_optional_text(data, "tagName", NAME_LENGTH),
            tag_type=_optional_text(data, "tagType", WORD_LENGTH),
            probability=_probability(data, "probability"),
            box=BoundingBox.from_json(data.get("boundingBox")),
        )


@dataclass(frozen=True, slots=True)
class StoredPrediction:
    """An image the model saw, its labels, and links that expire."""

    id: str
    project_id: str
    iteration_id: str
    created: datetime
    domain_id: str
    resized_image_uri: str | None
    thumbnail_uri: str | None
    original_image_uri: str | None
    labels: tuple[PredictedLabel, ...]

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read a StoredImagePrediction answer."""
        data = read_object(value, "stored prediction")
        labels = read_list(data.get("predictions"), "predictions")
        return cls(
            id=_id(data, "id"),
            project_id=_text(data, "project"),
            iteration_id=_id(data, "iteration"),
            created=_time(data, "created"),
            domain_id=_text(data, "domain"),
            resized_image_uri=_optional_text(data, "resizedImageUri"),
            thumbnail_uri=_optional_text(data, "thumbnailUri"),
            original_image_uri=_optional_text(data, "originalImageUri"),
            labels=tuple(PredictedLabel.from_json(label) for label in labels),
        )


@dataclass(frozen=True, slots=True)
class PredictionPage:
    """One page of stored predictions and the opaque token to send back."""

    predictions: tuple[StoredPrediction, ...]
    token: Json

    @property
    def is_last(self) -> bool:
        """Tell whether the service has no further page."""
        return not self.token.get("continuation")

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read a PredictionQueryResult answer."""
        data = read_object(value, "query result")
        token = read_object(data.get("token"), "token")

        # Check continuation now so that is_last cannot fail on a bad token later.
        _optional_text(token, "continuation")
        results = read_list(data.get("results"), "results")
        return cls(
            predictions=tuple(StoredPrediction.from_json(item) for item in results),
            token=token,
        )


@dataclass(frozen=True, slots=True)
class TagFilter:
    """Keep predictions whose probability for a tag lies between two thresholds."""

    tag_id: str
    min_threshold: float = 0.0
    max_threshold: float = 1.0

    def to_body(self) -> Json:
        """Return the PredictionQueryTag JSON."""
        return {
            "id": self.tag_id,
            "minThreshold": self.min_threshold,
            "maxThreshold": self.max_threshold,
        }


@dataclass(frozen=True, slots=True)
class Region:
    """A tagged box on an image, normalised to 0-1."""

    tag_id: str
    left: float
    top: float
    width: float
    height: float

    def to_body(self) -> Json:
        """Return the Region JSON."""
        return {
            "tagId": self.tag_id,
            "left": self.left,
            "top": self.top,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read an ImageRegion answer."""
        data = read_object(value, "region")
        return cls(
            tag_id=_text(data, "tagId"),
            left=_number(data, "left"),
            top=_number(data, "top"),
            width=_number(data, "width"),
            height=_number(data, "height"),
        )


@dataclass(frozen=True, slots=True)
class BatchImage:
    """One approved prediction to promote, with its tags or regions."""

    prediction_id: str
    tag_ids: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()

    def to_body(self) -> Json:
        """Return the ImageIdCreateEntry JSON."""
        return {
            "id": self.prediction_id,
            "tagIds": list(self.tag_ids),
            "regions": [region.to_body() for region in self.regions],
        }

    def used_tag_ids(self) -> set[str]:
        """Return every tag this image names, in tags or regions."""
        return set(self.tag_ids) | {region.tag_id for region in self.regions}


@dataclass(frozen=True, slots=True)
class ImageBatch:
    """A batch for CreateImagesFromPredictions, checked against the service limits."""

    images: tuple[BatchImage, ...]
    tag_ids: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse a batch the service would reject as a whole."""
        _check_images(self.images)

        used = set(self.tag_ids).union(*(image.used_tag_ids() for image in self.images))
        if len(used) > limits.MAX_BATCH_TAGS:
            raise ValueError(f"a batch may use at most {limits.MAX_BATCH_TAGS} tags")

        _check_metadata(self.metadata)

    @property
    def prediction_ids(self) -> tuple[str, ...]:
        """Return the prediction ids in the order they are sent."""
        return tuple(image.prediction_id for image in self.images)

    def to_body(self) -> Json:
        """Return the ImageIdCreateBatch JSON."""
        return {
            "images": [image.to_body() for image in self.images],
            "tagIds": list(self.tag_ids),
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_body(cls, body: Json) -> Self:
        """Rebuild a batch from the JSON that to_body gave, to send it again."""
        images = tuple(
            BatchImage(
                prediction_id=image["id"],
                tag_ids=tuple(image["tagIds"]),
                regions=tuple(Region.from_json(region) for region in image["regions"]),
            )
            for image in body["images"]
        )
        return cls(images, tuple(body["tagIds"]), dict(body["metadata"]))


def _check_images(images: tuple[BatchImage, ...]) -> None:
    """Refuse an empty, oversized or ambiguous list of batch images."""
    if not 0 < len(images) <= limits.MAX_BATCH_IMAGES:
        raise ValueError(f"a batch holds 1 to {limits.MAX_BATCH_IMAGES} images")

    ids = [image.prediction_id for image in images]
    if len(set(ids)) != len(ids):
        raise ValueError("a batch may name each prediction once")

    if any(len(image.regions) > limits.MAX_REGIONS_PER_IMAGE for image in images):
        raise ValueError(
            f"an image holds at most {limits.MAX_REGIONS_PER_IMAGE} regions"
        )


def _check_metadata(metadata: dict[str, str]) -> None:
    """Refuse metadata beyond the service's pair and length limits."""
    if len(metadata) > limits.MAX_METADATA_PAIRS:
        raise ValueError(f"metadata holds at most {limits.MAX_METADATA_PAIRS} pairs")

    for key, value in metadata.items():
        if len(key) > limits.MAX_METADATA_KEY_LENGTH:
            raise ValueError(f"metadata key {key[:20]!r}… is too long")

        if len(value) > limits.MAX_METADATA_VALUE_LENGTH:
            raise ValueError(f"metadata value of {key!r} is too long")


@dataclass(frozen=True, slots=True)
class ImageResult:
    """What became of one prediction sent for promotion."""

    prediction_id: str
    status: str
    image_id: str | None

    @property
    def is_success(self) -> bool:
        """Tell whether the image is now in the training set (OK or OKDuplicate)."""
        return self.status in SUCCESS_STATUSES

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read an ImageCreateResult answer."""
        data = read_object(value, "image result")
        image = data.get("image")
        return cls(
            prediction_id=_text(data, "sourceUrl"),
            status=_text(data, "status"),
            image_id=None
            if image is None
            else _text(read_object(image, "image"), "id"),
        )


@dataclass(frozen=True, slots=True)
class CreateSummary:
    """The outcome of one CreateImagesFromPredictions call, kept as data.

    Results are keyed by the prediction id echoed in sourceUrl. The bodies are
    the exact JSON sent and received, except that signed links lose their query.
    """

    http_status: int
    is_batch_successful: bool
    results: dict[str, ImageResult]
    request_body: str
    response_body: str
    duration_ms: int
    sent_ids: tuple[str, ...]

    def missing_ids(self) -> tuple[str, ...]:
        """Return the sent prediction ids the answer said nothing about."""
        return tuple(pid for pid in self.sent_ids if pid not in self.results)

    def failed(self) -> tuple[ImageResult, ...]:
        """Return the results whose image was not created."""
        return tuple(
            result for result in self.results.values() if not result.is_success
        )

    @classmethod
    def from_json(
        cls,
        value: object,
        *,
        http_status: int,
        request_body: str,
        response_body: str,
        duration_ms: int,
        sent_ids: tuple[str, ...],
    ) -> Self:
        """Read an ImageCreateSummary answer beside the facts of the call."""
        data = read_object(value, "create summary")
        successful = data.get("isBatchSuccessful")
        if not isinstance(successful, bool):
            raise MalformedResponseError("isBatchSuccessful should be a boolean")

        images = read_list(data.get("images"), "images")
        results = [ImageResult.from_json(item) for item in images]
        return cls(
            http_status=http_status,
            is_batch_successful=successful,
            results={result.prediction_id: result for result in results},
            request_body=request_body,
            response_body=response_body,
            duration_ms=duration_ms,
            sent_ids=sent_ids,
        )


@dataclass(frozen=True, slots=True)
class TaggedImage:
    """An image of the training set, with its tags, regions and metadata."""

    id: str
    created: datetime
    tag_ids: tuple[str, ...]
    regions: tuple[Region, ...]
    metadata: dict[str, str]

    @classmethod
    def from_json(cls, value: object) -> Self:
        """Read an Image answer."""
        data = read_object(value, "image")
        tags = [read_object(tag, "image tag") for tag in _optional_list(data, "tags")]
        return cls(
            id=_text(data, "id"),
            created=_time(data, "created"),
            tag_ids=tuple(_text(tag, "tagId") for tag in tags),
            regions=tuple(Region.from_json(r) for r in _optional_list(data, "regions")),
            metadata=_text_map(data.get("metadata"), "metadata"),
        )


@dataclass(frozen=True, slots=True)
class ImageBytes:
    """An image's bytes and their media type."""

    content: bytes
    content_type: str
