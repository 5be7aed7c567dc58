"""Demo and benchmark data: projects with plausible, imperfect predictions."""

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from reviewer.customvision import limits
from reviewer.customvision.emulator import scenes
from reviewer.customvision.emulator.scenes import Label, Shape
from reviewer.customvision.emulator.state import Prediction, State

DEMO_SEED = 2024
SYNTHETIC_SEED = 4096
DAY = 86_400.0
SHELF_TAGS = (
    'Cereal "Crunchy" <Oats> & Co',
    "Milk 1 L",
    "Orange juice",
    "Pasta",
    "Coffee beans",
    "Tea box",
)
FRUIT_TAGS = ("Ripe", "Unripe", "Bruised", "Mouldy")
FRUIT_NEGATIVE_TAG = "Not fruit"
SHELF_PREDICTIONS = 180
FRUIT_PREDICTIONS = 120
# The second iteration was published this many days ago; newer predictions use it.
SECOND_ITERATION_AGE = 12


def demo(state: State, now: float) -> dict[str, str]:
    """Add the demo projects; return their ids by kind."""
    rng = random.Random(DEMO_SEED)
    shelves = _shelf_project(state, rng, now)
    fruit = _fruit_project(state, rng, now)
    importing = state.add_project(
        "Warehouse pallets (importing)", status="Importing", ident=_new_id(rng)
    )
    return {
        "object_detection": shelves,
        "classification": fruit,
        "importing": importing["id"],
    }


def synthetic(
    state: State, predictions: int, tags: int, boxes_per_image: int, now: float
) -> str:
    """Add a large object-detection project whose labels derive from each id."""
    rng = random.Random(SYNTHETIC_SEED + len(state.projects))
    name = f"Synthetic shelves ({predictions:,} predictions)"
    project_id = state.add_project(name, ident=_new_id(rng))["id"]
    for number in range(tags):
        state.add_tag(project_id, f"Product {number + 1:04d}", ident=_new_id(rng))
    iterations = _iterations(state, rng, project_id, now)

    state.synthetic[project_id] = boxes_per_image
    state.insert_many(
        _synthetic_predictions(rng, project_id, iterations, predictions, now)
    )
    return project_id


def _shelf_project(state: State, rng: random.Random, now: float) -> str:
    project_id = state.add_project("Shelf products", ident=_new_id(rng))["id"]
    tag_ids = [
        state.add_tag(project_id, name, ident=_new_id(rng))["id"] for name in SHELF_TAGS
    ]
    iterations = _iterations(state, rng, project_id, now)

    def predict() -> tuple[tuple[Label, ...], tuple[Shape, ...]]:
        scene = scenes.shelf_scene(rng, tag_ids)
        return scenes.detections(rng, scene, tag_ids), scene

    state.insert_many(
        _predictions(rng, project_id, iterations, SHELF_PREDICTIONS, now, predict)
    )
    return project_id


def _fruit_project(state: State, rng: random.Random, now: float) -> str:
    project = state.add_project(
        "Fruit quality",
        limits.DOMAIN_CLASSIFICATION,
        limits.CLASSIFICATION_MULTICLASS,
        ident=_new_id(rng),
    )
    project_id = project["id"]
    tag_ids = [
        state.add_tag(project_id, name, ident=_new_id(rng))["id"] for name in FRUIT_TAGS
    ]
    negative = state.add_tag(
        project_id, FRUIT_NEGATIVE_TAG, limits.TAG_NEGATIVE, ident=_new_id(rng)
    )
    tag_ids.append(negative["id"])
    iterations = _iterations(state, rng, project_id, now)

    def predict() -> tuple[tuple[Label, ...], tuple[Shape, ...]]:
        truth = rng.choice(tag_ids)
        return scenes.classifications(rng, truth, tag_ids), (Shape(truth, None),)

    state.insert_many(
        _predictions(rng, project_id, iterations, FRUIT_PREDICTIONS, now, predict)
    )
    return project_id


def _iterations(
    state: State, rng: random.Random, project_id: str, now: float
) -> list[str]:
    iterations = []
    for number, age in ((1, 60), (2, SECOND_ITERATION_AGE)):
        created = datetime.fromtimestamp(now - age * DAY, UTC)
        name = f"Iteration {number}"
        iteration = state.add_iteration(
            project_id, name, ident=_new_id(rng), created=created
        )
        iterations.append(iteration["id"])
    return iterations


def _predictions(
    rng: random.Random,
    project_id: str,
    iterations: list[str],
    count: int,
    now: float,
    predict: Callable[[], tuple[tuple[Label, ...], tuple[Shape, ...]]],
) -> Iterator[Prediction]:
    for _ in range(count):
        # A few are about to pass the retention limit.
        days = rng.uniform(29.5, 29.95) if rng.random() < 0.05 else rng.uniform(0, 29)
        labels, truth = predict()
        yield Prediction(
            id=_new_id(rng),
            project_id=project_id,
            iteration_id=iterations[days < SECOND_ITERATION_AGE],
            created=now - days * DAY,
            top=max((label.probability for label in labels), default=0.0),
            labels=labels,
            truth=truth,
        )


def _synthetic_predictions(
    rng: random.Random, project_id: str, iterations: list[str], count: int, now: float
) -> Iterator[Prediction]:
    for _ in range(count):
        prediction_id = _new_id(rng)
        days = rng.uniform(0, 29)
        yield Prediction(
            prediction_id,
            project_id,
            iterations[days < SECOND_ITERATION_AGE],
            now - days * DAY,
            scenes.synthetic_top(prediction_id),
        )


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
