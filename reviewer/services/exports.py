"""Export the promotion ledger and the approved labels in files that outlive us.

Every export is a generator of text, so a view streams it and a command prints it.
They hold only our own rows, never a setting or a signed link, so no key leaks.
"""

import csv
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image

from reviewer.customvision.errors import CustomVisionError
from reviewer.models import (
    ApprovedLabel,
    Outcome,
    Prediction,
    Project,
    Review,
    ReviewState,
    Tag,
)
from reviewer.services.audit import AuditFilters
from reviewer.services.images import ImageGone, prediction_image

logger = logging.getLogger(__name__)

CSV_COLUMNS = [
    "prediction_id",
    "project",
    "labels",
    "reviewer",
    "approved_at",
    "batch",
    "status",
    "training_image_id",
    "message",
]
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 500
EXPORTED_STATES = [ReviewState.APPROVED, ReviewState.IN_BATCH, ReviewState.PROMOTED]


@dataclass(frozen=True)
class LabelFormat:
    """A neutral file format for approved labels, and the kind of project it fits."""

    content_type: str
    extension: str
    for_detection: bool


LABEL_FORMATS = {
    "coco": LabelFormat("application/json", "json", for_detection=True),
    "jsonl": LabelFormat("application/x-ndjson", "jsonl", for_detection=False),
}


class WrongFormat(ValueError):
    """The label format does not fit the project's kind."""


def parse_day(text: str) -> date | None:
    """Return the day written as YYYY-MM-DD, or None when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Download:
    """An export as a browser receives it: text in pieces, its type and file name."""

    chunks: Iterator[str]
    content_type: str
    filename: str


def promotions_download(project: Project, filters: AuditFilters) -> Download:
    """Prepare the CSV of the outcomes the promotions page shows with these filters."""
    outcomes = promotion_outcomes(
        project,
        since=filters.since,
        until=filters.until,
        kind=filters.outcome or None,
        reviewer_id=filters.reviewer_id,
        tag_id=filters.tag_id,
    )
    return Download(
        promotions_csv(outcomes), "text/csv", _filename(project, "promotions", "csv")
    )


def labels_download(project: Project) -> Download:
    """Prepare the project's approved labels in the format that fits its kind."""
    file_format = label_format(project)
    chunks = labels_export(project, file_format)
    kind = LABEL_FORMATS[file_format]
    return Download(
        chunks, kind.content_type, _filename(project, "labels", kind.extension)
    )


def _filename(project: Project, what: str, extension: str) -> str:
    name = slugify(project.name) or str(project.pk)
    return f"{what}-{name}-{timezone.localdate().isoformat()}.{extension}"


def promotion_outcomes(
    project: Project | None = None,
    since: date | None = None,
    until: date | None = None,
    kind: str | None = None,
    reviewer_id: int | None = None,
    tag_id: UUID | None = None,
) -> QuerySet[Outcome]:
    """Return the recorded outcomes that match, oldest first; both days included."""
    outcomes = Outcome.objects.filter(recorded_at__isnull=False)
    if project is not None:
        outcomes = outcomes.filter(review__project=project)
    if since is not None:
        outcomes = outcomes.filter(recorded_at__date__gte=since)
    if until is not None:
        outcomes = outcomes.filter(recorded_at__date__lte=until)
    if kind:
        outcomes = outcomes.filter(kind=kind)
    if reviewer_id:
        outcomes = outcomes.filter(review__decided_by_id=reviewer_id)
    if tag_id:
        tagged = ApprovedLabel.objects.filter(review=OuterRef("review"), tag_id=tag_id)
        outcomes = outcomes.filter(Exists(tagged))
    return outcomes.order_by("recorded_at", "pk")


def promotion_rows(outcomes: QuerySet[Outcome]) -> Iterator[list[str]]:
    """Yield the CSV_COLUMNS of each outcome, reading a chunk at a time."""
    labels = Prefetch(
        "review__approved_labels",
        queryset=ApprovedLabel.objects.select_related("tag").order_by("pk"),
    )
    outcomes = outcomes.select_related(
        "review__project", "review__decided_by"
    ).prefetch_related(labels)

    for outcome in outcomes.iterator(chunk_size=CHUNK_SIZE):
        review = outcome.review
        yield [
            str(review.pk),
            review.project.name,
            ";".join(map(_label_text, review.approved_labels.all())),
            _reviewer(review) or "",
            _iso(review.decided_at) or "",
            str(outcome.batch_id or ""),
            outcome.status,
            str(outcome.training_image_id or ""),
            outcome.message,
        ]


def promotions_csv(outcomes: QuerySet[Outcome]) -> Iterator[str]:
    """Yield the header, then one CSV line per outcome, safe in a spreadsheet."""
    writer = csv.writer(_LineEcho())
    yield writer.writerow(CSV_COLUMNS)

    for row in promotion_rows(outcomes):
        yield writer.writerow([_as_text(cell) for cell in row])


class _LineEcho:
    """Hand back what csv.writer writes, so each line can be yielded as it is made."""

    def write(self, line: str) -> str:
        return line


def _as_text(cell: str) -> str:
    """Make a spreadsheet show the cell as text instead of running it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _label_text(label: ApprovedLabel) -> str:
    if label.box is None:
        return label.tag.name
    return label.tag.name + "@" + ",".join(f"{value:.4f}" for value in label.box)


def _reviewer(review: Review) -> str | None:
    return review.decided_by.get_username() if review.decided_by else None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def label_format(project: Project) -> str:
    """Name the neutral format that fits the project's kind."""
    return "coco" if project.is_object_detection else "jsonl"


def labels_export(project: Project, file_format: str) -> Iterator[str]:
    """Stream the project's approved labels in the format, which must fit its kind."""
    if file_format != label_format(project):
        raise WrongFormat(
            f"{project.name} is a {project.get_kind_display().lower()} project; "
            f"export its labels as {label_format(project)}."
        )
    if project.is_object_detection:
        return coco_json(project)
    return labels_jsonl(project)


def labelled_reviews(project: Project) -> QuerySet[Review]:
    """Return the project's approved, batched and promoted reviews that have labels."""
    return (
        Review.objects.filter(project=project, state__in=EXPORTED_STATES)
        .filter(Exists(ApprovedLabel.objects.filter(review=OuterRef("pk"))))
        .order_by("prediction__created", "pk")
    )


def labels_jsonl(project: Project) -> Iterator[str]:
    """Yield one JSON line per approved image of a classification project."""
    labels = Prefetch(
        "approved_labels",
        queryset=ApprovedLabel.objects.select_related("tag").order_by("tag__name"),
    )
    reviews = (
        labelled_reviews(project).select_related("decided_by").prefetch_related(labels)
    )

    for review in reviews.iterator(chunk_size=CHUNK_SIZE):
        tags = [label.tag for label in review.approved_labels.all()]
        line = {
            "prediction_id": str(review.pk),
            "project_id": str(project.pk),
            "tags": [tag.name for tag in tags],
            "tag_ids": [str(tag.pk) for tag in tags],
            "reviewer": _reviewer(review),
            "approved_at": _iso(review.decided_at),
        }
        yield json.dumps(line, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class _CocoImage:
    id: int
    width: int | None
    height: int | None


def coco_json(project: Project) -> Iterator[str]:
    """Yield the project's approved boxes as one COCO document, piece by piece.

    Boxes are in pixels of the original image, whose size is read from the service
    once and kept. An image that can no longer be read keeps its boxes normalised in
    `bbox_normalised`, its size null, and a line in `notes` says so.
    """
    ids = list(labelled_reviews(project).values_list("pk", flat=True))
    categories = _coco_categories(project)
    info, listed = _json(_coco_info(project)), _json(list(categories.values()))
    yield f'{{"info": {info}, "categories": {listed}, "images": ['

    images: dict[UUID, _CocoImage] = {}
    notes: list[str] = []
    for prediction in _measured_predictions(ids, notes):
        image = _CocoImage(
            len(images) + 1, prediction.image_width, prediction.image_height
        )
        images[prediction.pk] = image
        yield _coco_item(image.id, _coco_image(image, prediction))

    yield '], "annotations": ['
    for number, label in enumerate(_boxes_of(images), start=1):
        image = images[label.review_id]
        annotation = _coco_annotation(number, label, image, categories[label.tag_id])
        yield _coco_item(number, annotation)

    yield '], "notes": ' + _json(notes) + "}\n"
    logger.info(
        "exported %d images of project %s as COCO, %d without a size",
        len(images),
        project.pk,
        len(notes),
    )


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _coco_item(number: int, item: dict) -> str:
    return ("" if number == 1 else ", ") + _json(item)


def _coco_info(project: Project) -> dict:
    return {
        "description": f"Approved labels of {project.name}",
        "project_id": str(project.pk),
        "date_created": _iso(timezone.now()),
    }


def _coco_categories(project: Project) -> dict[UUID, dict]:
    """Number the live tags, and the removed ones an approved label still uses."""
    used = ApprovedLabel.objects.filter(review__project=project).values("tag_id")
    tags = Tag.objects.filter(project=project).filter(
        Q(removed_at=None) | Q(pk__in=used)
    )
    return {
        tag.pk: {"id": number, "name": tag.name, "tag_id": str(tag.pk)}
        for number, tag in enumerate(tags.order_by("name", "pk"), start=1)
    }


def _coco_image(image: _CocoImage, prediction: Prediction) -> dict:
    return {
        "id": image.id,
        "file_name": f"{prediction.pk}.jpg",
        "width": image.width,
        "height": image.height,
        "prediction_id": str(prediction.pk),
    }


def _chunks(ids: list[UUID]) -> Iterator[list[UUID]]:
    for start in range(0, len(ids), CHUNK_SIZE):
        yield ids[start : start + CHUNK_SIZE]


def _measured_predictions(ids: list[UUID], notes: list[str]) -> Iterator[Prediction]:
    """Yield the predictions in order, reading the size of those that lack one."""
    for chunk in _chunks(ids):
        predictions = Prediction.objects.in_bulk(chunk)
        for pk in chunk:
            prediction = predictions.get(pk)
            if prediction is None:
                continue
            if prediction.image_width is None or prediction.image_height is None:
                problem = _measure(prediction)
                if problem:
                    notes.append(
                        f"Prediction {pk}: {problem} Its boxes are normalised to 0-1 "
                        "in bbox_normalised."
                    )
            yield prediction


def _measure(prediction: Prediction) -> str | None:
    """Read and keep the original image's size; say why when it cannot be read."""
    if prediction.removed_at is not None:
        return "The service no longer stores this prediction."
    try:
        original = prediction_image(prediction, "original")
        with Image.open(io.BytesIO(original.content)) as picture:
            width, height = picture.size
    except ImageGone as error:
        return str(error)
    except CustomVisionError:
        return "Custom Vision did not send its image."
    except OSError:
        return "Its image is not a picture Pillow can read."

    Prediction.objects.filter(pk=prediction.pk).update(
        image_width=width, image_height=height
    )
    prediction.image_width, prediction.image_height = width, height
    return None


def _boxes_of(images: dict[UUID, _CocoImage]) -> Iterator[ApprovedLabel]:
    """Yield the approved boxes of the images, image by image."""
    for chunk in _chunks(list(images)):
        labels = ApprovedLabel.objects.filter(review_id__in=chunk).exclude(left=None)
        yield from sorted(labels, key=lambda one: (images[one.review_id].id, one.pk))


def _coco_annotation(
    number: int, label: ApprovedLabel, image: _CocoImage, category: dict
) -> dict:
    annotation = {
        "id": number,
        "image_id": image.id,
        "category_id": category["id"],
        "iscrowd": 0,
        "approved_label_id": label.pk,
        "source": "predicted" if label.source_id else "added",
    }
    if image.width is None or image.height is None:
        return {
            **annotation,
            "bbox": None,
            "area": None,
            "bbox_normalised": list(label.box),
        }

    x, y = label.left * image.width, label.top * image.height
    width, height = label.width * image.width, label.height * image.height
    return {
        **annotation,
        "bbox": [round(x, 2), round(y, 2), round(width, 2), round(height, 2)],
        "area": round(width * height, 2),
    }
