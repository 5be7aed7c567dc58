"""The emulator's in-memory Custom Vision data, guarded by one lock."""

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from reviewer.customvision import limits
from reviewer.customvision.emulator.scenes import Label, Shape, synthetic_labels
from reviewer.customvision.emulator.wire import ApiError, epoch_of, zulu_time

RETENTION_SECONDS = limits.PREDICTION_RETENTION_DAYS * 86_400
DOMAIN_ID_PREFIX = "1d4a1c1e-0a5c-4e4f-9f0b-6a3b2c1d0e0"
DOMAINS = tuple(
    {
        "id": f"{DOMAIN_ID_PREFIX}{number}",
        "name": name,
        "type": domain_type,
        "exportable": name.endswith("(compact)"),
        "enabled": True,
    }
    for number, name, domain_type in (
        (1, "General [A1]", limits.DOMAIN_OBJECT_DETECTION),
        (2, "General (compact)", limits.DOMAIN_OBJECT_DETECTION),
        (3, "General [A2]", limits.DOMAIN_CLASSIFICATION),
    )
)


@dataclass(slots=True)
class Prediction:
    """A stored prediction; synthetic ones derive their labels from the id."""

    id: str
    project_id: str
    iteration_id: str
    created: float
    top: float
    labels: tuple[Label, ...] | None = None
    truth: tuple[Shape, ...] | None = None

    def expired(self, now: float) -> bool:
        """Say whether the service has already forgotten this prediction."""
        return self.created < now - RETENTION_SECONDS


class State:
    """Projects, tags, iterations, predictions and training images."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            self.projects: dict[str, dict] = {}
            self.tags: dict[str, dict[str, dict]] = {}
            self.iterations: dict[str, list[dict]] = {}
            self.predictions: dict[str, dict[str, Prediction]] = {}
            self.images: dict[str, dict[str, dict]] = {}
            self.promoted: dict[str, str] = {}
            self.synthetic: dict[str, int] = {}
            self._versions: dict[str, int] = {}
            self._orderings: dict[tuple[str, str], tuple[int, list[Prediction]]] = {}

    def add_project(
        self,
        name: str,
        domain_type: str = limits.DOMAIN_OBJECT_DETECTION,
        classification_type: str | None = None,
        status: str = "Succeeded",
        *,
        ident: str | None = None,
        created: datetime | None = None,
    ) -> dict:
        """Create a project; object detection reports Multilabel unless told."""
        domain = next(domain for domain in DOMAINS if domain["type"] == domain_type)
        if classification_type is None:
            detection = domain_type == limits.DOMAIN_OBJECT_DETECTION
            classification_type = (
                limits.CLASSIFICATION_MULTILABEL
                if detection
                else limits.CLASSIFICATION_MULTICLASS
            )

        moment = zulu_time(epoch_of(created, time.time()))
        project = {
            "id": ident or str(uuid.uuid4()),
            "name": name,
            "description": f"{name} (emulated)",
            "settings": {
                "domainId": domain["id"],
                "classificationType": classification_type,
                "targetExportPlatforms": [],
                "useNegativeSet": True,
                "detectionParameters": None,
                "imageProcessingSettings": {"augmentationMethods": None},
            },
            "created": moment,
            "lastModified": moment,
            "thumbnailUri": None,
            "drModeEnabled": False,
            "status": status,
        }
        with self.lock:
            self._register(project)
        return project

    def add_tag(
        self,
        project_id: str,
        name: str,
        tag_type: str = limits.TAG_REGULAR,
        *,
        ident: str | None = None,
    ) -> dict:
        """Create a tag in a project."""
        tag = {
            "id": ident or str(uuid.uuid4()),
            "name": name,
            "description": None,
            "type": tag_type,
            "imageCount": 0,
        }
        with self.lock:
            self.tags[project_id][tag["id"]] = tag
        return tag

    def add_iteration(
        self,
        project_id: str,
        name: str,
        *,
        ident: str | None = None,
        created: datetime | None = None,
    ) -> dict:
        """Create a trained, published iteration of a project."""
        moment = zulu_time(epoch_of(created, time.time()))
        with self.lock:
            settings = self.projects[project_id]["settings"]
            iteration = {
                "id": ident or str(uuid.uuid4()),
                "name": name,
                "status": "Completed",
                "created": moment,
                "lastModified": moment,
                "trainedAt": moment,
                "projectId": project_id,
                "exportable": False,
                "exportableTo": [],
                "domainId": settings["domainId"],
                "classificationType": settings["classificationType"],
                "trainingType": "Regular",
                "reservedBudgetInHours": 0,
                "trainingTimeInMinutes": 12,
                "publishName": name.lower().replace(" ", "-"),
                "originalPublishResourceId": "/subscriptions/emulated/resource",
            }
            self.iterations[project_id].append(iteration)
        return iteration

    def add_prediction(
        self,
        project_id: str,
        iteration_id: str,
        labels: list[dict],
        created: datetime | None = None,
    ) -> str:
        """Store a prediction from {tag_id, probability, box} dicts; return its id."""
        stored = tuple(
            Label(
                label["tag_id"],
                label["probability"],
                tuple(label["box"]) if label.get("box") else None,
            )
            for label in labels
        )
        top = max((label.probability for label in stored), default=0.0)
        prediction = Prediction(
            str(uuid.uuid4()),
            project_id,
            iteration_id,
            epoch_of(created, time.time()),
            top,
            stored,
        )
        self.insert_many([prediction])
        return prediction.id

    def insert_many(self, predictions: Iterable[Prediction]) -> None:
        """Store predictions built by a seed."""
        with self.lock:
            for prediction in predictions:
                self.predictions[prediction.project_id][prediction.id] = prediction
                self._changed(prediction.project_id)

    def delete_predictions(self, project_id: str, prediction_ids: list[str]) -> None:
        """Forget the predictions; unknown ids are ignored."""
        with self.lock:
            predictions = self.project_predictions(project_id)
            for prediction_id in prediction_ids:
                predictions.pop(prediction_id, None)
            self._changed(project_id)

    def project(self, project_id: str) -> dict:
        """Return a project, or refuse as the service does for an unknown one."""
        project = self.projects.get(project_id)
        if project is None:
            raise ApiError(404, "NotFoundProject", f"No project {project_id}.")
        return project

    def project_predictions(self, project_id: str) -> dict[str, Prediction]:
        """Return a project's predictions by id."""
        self.project(project_id)
        return self.predictions[project_id]

    def live_prediction(
        self, project_id: str, prediction_id: str, now: float
    ) -> Prediction | None:
        """Return a prediction the service still keeps, or None."""
        prediction = self.project_predictions(project_id).get(prediction_id)
        if prediction is None or prediction.expired(now):
            return None
        return prediction

    def labels_of(self, prediction: Prediction) -> tuple[Label, ...]:
        """Return what the model said about a prediction's picture."""
        if prediction.labels is not None:
            return prediction.labels
        tag_ids = list(self.tags[prediction.project_id])
        boxes = self.synthetic[prediction.project_id]
        return synthetic_labels(prediction.id, tag_ids, boxes)

    def shapes_of(
        self, project_id: str, subject_id: str, now: float
    ) -> tuple[Shape, ...] | None:
        """Return what a picture shows: a project, prediction or training image."""
        with self.lock:
            if subject_id == project_id and project_id in self.projects:
                return ()

            prediction = self.live_prediction(project_id, subject_id, now)
            if prediction is not None and prediction.truth is not None:
                return prediction.truth
            if prediction is not None:
                labels = self.labels_of(prediction)
                return tuple(Shape(label.tag_id, label.box) for label in labels)

            image = self.images[project_id].get(subject_id)
            if image is None:
                return None
            if image["regions"]:
                return tuple(Shape(r["tagId"], _box(r)) for r in image["regions"])
            return tuple(Shape(tag["tagId"], None) for tag in image["tags"])

    def ordering(
        self, project_id: str, order: str, key: Callable[[Prediction], tuple]
    ) -> list[Prediction]:
        """Return a project's predictions sorted by `key`, cached until they change."""
        with self.lock:
            version = self._versions[project_id]
            cached = self._orderings.get((project_id, order))
            if cached is None or cached[0] != version:
                ordered = sorted(self.predictions[project_id].values(), key=key)
                cached = self._orderings[(project_id, order)] = (version, ordered)
            return cached[1]

    def record_image(self, project_id: str, image: dict) -> None:
        """Keep a training image created from a prediction."""
        with self.lock:
            self.images[project_id][image["id"]] = image
            self.promoted[image["predictionId"]] = image["id"]

    def tagged_images(self, project_id: str) -> list[dict]:
        """Return copies of the training images that carry a tag, oldest first."""
        with self.lock:
            images = self.images[project_id].values()
            return [copy.deepcopy(image) for image in images if image["tags"]]

    def dumps(self) -> str:
        """Write everything as JSON."""
        with self.lock:
            return json.dumps(
                {
                    "projects": list(self.projects.values()),
                    "tags": {
                        key: list(tags.values()) for key, tags in self.tags.items()
                    },
                    "iterations": self.iterations,
                    "predictions": {
                        key: [_prediction_row(p) for p in predictions.values()]
                        for key, predictions in self.predictions.items()
                    },
                    "images": {key: list(i.values()) for key, i in self.images.items()},
                    "synthetic": self.synthetic,
                }
            )

    def loads(self, text: str) -> None:
        """Replace everything with what `dumps` wrote."""
        saved = json.loads(text)
        with self.lock:
            self.clear()
            for project in saved["projects"]:
                self._register(project)
                key = project["id"]
                self.tags[key] = {tag["id"]: tag for tag in saved["tags"][key]}
                self.iterations[key] = saved["iterations"][key]
                rows = saved["predictions"][key]
                self.insert_many(_prediction_from_row(key, row) for row in rows)
                for image in saved["images"][key]:
                    self.record_image(key, image)
            self.synthetic = saved["synthetic"]

    def _register(self, project: dict) -> None:
        key = project["id"]
        self.projects[key] = project
        self.tags[key] = {}
        self.iterations[key] = []
        self.predictions[key] = {}
        self.images[key] = {}
        self._versions[key] = 0

    def _changed(self, project_id: str) -> None:
        self._versions[project_id] += 1


def _box(region: dict) -> tuple[float, float, float, float]:
    return (region["left"], region["top"], region["width"], region["height"])


def _prediction_row(prediction: Prediction) -> list:
    return [
        prediction.id,
        prediction.iteration_id,
        prediction.created,
        prediction.top,
        prediction.labels,
        prediction.truth,
    ]


def _prediction_from_row(project_id: str, row: list) -> Prediction:
    ident, iteration_id, created, top, labels, truth = row
    if labels is not None:
        labels = tuple(Label(tag, chance, _tuple(box)) for tag, chance, box in labels)
    if truth is not None:
        truth = tuple(Shape(tag, _tuple(box)) for tag, box in truth)
    return Prediction(ident, project_id, iteration_id, created, top, labels, truth)


def _tuple(box: list | None) -> tuple | None:
    return tuple(box) if box else None
