"""Talk to the emulator over real HTTP, and build small projects to talk about."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests

from reviewer.customvision import limits

NOW = datetime.now(UTC)


class Api:
    """A requests session that knows the emulator's base URL and key."""

    def __init__(self, endpoint: str, key: str) -> None:
        self.base = endpoint + limits.API_PREFIX
        self.session = requests.Session()
        self.session.headers["Training-Key"] = key

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.base + path, timeout=10, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.session.delete(self.base + path, timeout=10, **kwargs)

    def query(self, project_id: str, **token) -> requests.Response:
        return self.post(f"/projects/{project_id}/predictions/query", json=token)

    def query_all(self, project_id: str, **token) -> list[dict]:
        """Follow continuations to the last page; return every result."""
        results = []
        while True:
            answer = self.query(project_id, **token).json()
            results += answer["results"]
            if not answer["token"]["continuation"]:
                return results
            token = answer["token"]

    def promote(
        self, project_id: str, images: list[dict], **batch
    ) -> requests.Response:
        body = {"images": images, **batch}
        return self.post(f"/projects/{project_id}/images/predictions", json=body)


@dataclass
class Project:
    """A small project in the emulator, with the ids a test needs."""

    id: str
    tags: list[str]
    iterations: list[str]
    predictions: list[str]


def build_project(
    emulator, domain_type: str = limits.DOMAIN_OBJECT_DETECTION, predictions: int = 7
) -> Project:
    """Add a project with two tags, two iterations, and hourly predictions."""
    state = emulator.state
    project_id = state.add_project("Small", domain_type)["id"]
    tags = [state.add_tag(project_id, name)["id"] for name in ("Apple", "Pear")]
    iterations = [state.add_iteration(project_id, f"It {n}")["id"] for n in (1, 2)]
    detection = domain_type == limits.DOMAIN_OBJECT_DETECTION
    ids = []
    for number in range(predictions):
        label = {
            "tag_id": tags[number % 2],
            "probability": round(0.3 + 0.1 * number, 2),
            "box": (0.1, 0.2, 0.3, 0.4) if detection else None,
        }
        iteration = iterations[number % 2]
        created = NOW - timedelta(hours=number)
        ids.append(state.add_prediction(project_id, iteration, [label], created))
    return Project(project_id, tags, iterations, ids)


def region(tag_id: str) -> dict:
    return {"tagId": tag_id, "left": 0.1, "top": 0.2, "width": 0.3, "height": 0.4}


@pytest.fixture
def api(emulator) -> Api:
    return Api(emulator.endpoint, emulator.config.training_key)


@pytest.fixture
def shelf(emulator) -> Project:
    """A small object-detection project."""
    return build_project(emulator)


@pytest.fixture
def fruit(emulator) -> Project:
    """A small classification project that also has a Negative tag."""
    project = build_project(emulator, limits.DOMAIN_CLASSIFICATION, predictions=3)
    negative = emulator.state.add_tag(project.id, "Not fruit", limits.TAG_NEGATIVE)
    project.tags.append(negative["id"])
    return project
