"""Turn stored data into the JSON shapes of the Training API."""

from dataclasses import dataclass

from reviewer.customvision.emulator import images
from reviewer.customvision.emulator.scenes import Label
from reviewer.customvision.emulator.state import Prediction, State
from reviewer.customvision.emulator.wire import ticks_time

PICTURE_FIELDS = {
    "resizedImageUri": "resized",
    "thumbnailUri": "thumbnail",
    "originalImageUri": "original",
}


@dataclass
class Links:
    """Make picture links: signed blob URLs, or relative paths for GetArtifact."""

    secret: bytes
    base_url: str
    ttl: int
    relative: bool
    now: float

    def uri(self, project_id: str, subject_id: str, size: str) -> str:
        """Return the link to one size of a picture."""
        artifact = images.artifact_path(subject_id, size)
        if self.relative:
            return artifact

        blob_path = f"{images.BLOB_PREFIX}{project_id}/{artifact}"
        query = images.signed_query(self.secret, blob_path, self.now + self.ttl)
        return f"{self.base_url}{blob_path}?{query}"

    def pictures(self, project_id: str, subject_id: str) -> dict[str, str]:
        """Return the three picture links of a prediction or training image."""
        return {
            field: self.uri(project_id, subject_id, size)
            for field, size in PICTURE_FIELDS.items()
        }


def project(stored: dict, links: Links) -> dict:
    """Return a Project; only a project that finished importing has a thumbnail."""
    thumbnail = None
    if stored["status"] == "Succeeded":
        thumbnail = links.uri(stored["id"], stored["id"], "thumbnail")
    return {**stored, "thumbnailUri": thumbnail}


def stored_prediction(state: State, prediction: Prediction, links: Links) -> dict:
    """Return a StoredImagePrediction."""
    project_id = prediction.project_id
    domain_id = state.projects[project_id]["settings"]["domainId"]
    tags = state.tags[project_id]
    return {
        **links.pictures(project_id, prediction.id),
        "domain": domain_id,
        "id": prediction.id,
        "project": project_id,
        "iteration": prediction.iteration_id,
        "created": ticks_time(prediction.created),
        "predictions": [
            _label(label, tags.get(label.tag_id), prediction.id)
            for label in state.labels_of(prediction)
        ],
    }


def image(stored: dict, project_id: str, links: Links) -> dict:
    """Return an Image, without the emulator's note of its source prediction."""
    fields = {key: value for key, value in stored.items() if key != "predictionId"}
    return {**fields, **links.pictures(project_id, stored["id"])}


def _label(label: Label, tag: dict | None, prediction_id: str) -> dict:
    answer = {
        "probability": label.probability,
        "tagId": label.tag_id,
        "tagName": tag["name"] if tag else None,
        "boundingBox": None,
    }
    if label.box is not None:
        left, top, width, height = label.box
        answer["boundingBox"] = {
            "left": left,
            "top": top,
            "width": width,
            "height": height,
        }
    # The live service leaves tagType out of some answers; so does every 7th here.
    if tag and int(prediction_id[:8], 16) % 7:
        answer["tagType"] = tag["type"]
    return answer
