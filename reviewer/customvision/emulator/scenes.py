"""What each emulated picture shows, and what an imperfect model said about it."""

import random
from typing import NamedTuple

Box = tuple[float, float, float, float]  # left, top, width, height, normalised 0-1


class Shape(NamedTuple):
    """An object in a picture: its tag and, for object detection, its box."""

    tag_id: str
    box: Box | None


class Label(NamedTuple):
    """One thing the model said about a picture."""

    tag_id: str
    probability: float
    box: Box | None


def probability(value: float) -> float:
    """Keep the eight significant digits that the service's floats carry."""
    return float(f"{value:.8g}")


def tiny_probability(rng: random.Random) -> float:
    """Return a probability so small that JSON writes it in exponent notation."""
    return probability(10 ** -rng.uniform(5, 13))


def random_box(rng: random.Random) -> Box:
    """Return a box anywhere in the picture."""
    width, height = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
    return _rounded(
        rng.uniform(0, 1 - width), rng.uniform(0, 1 - height), width, height
    )


def shelf_scene(rng: random.Random, tag_ids: list[str]) -> tuple[Shape, ...]:
    """Stand one to six products on two shelves of four slots each."""
    shapes = []
    for slot in rng.sample(range(8), rng.randint(1, 6)):
        row, column = divmod(slot, 4)
        width, height = rng.uniform(0.12, 0.2), rng.uniform(0.25, 0.4)
        left = column * 0.25 + rng.uniform(0.01, 0.24 - width)
        top = row * 0.5 + 0.48 - height
        shapes.append(Shape(rng.choice(tag_ids), _rounded(left, top, width, height)))
    return tuple(shapes)


def detections(
    rng: random.Random, scene: tuple[Shape, ...], tag_ids: list[str]
) -> tuple[Label, ...]:
    """Detect a scene with misses, confusions, jittered boxes, duplicates and noise."""
    labels = []
    for shape in scene:
        if rng.random() < 0.1:
            continue

        confused = rng.random() < 0.12
        tag_id = rng.choice(tag_ids) if confused else shape.tag_id
        chance = rng.uniform(0.3, 0.75) if confused else rng.uniform(0.55, 0.995)
        labels.append(Label(tag_id, probability(chance), _jitter(rng, shape.box)))
        if rng.random() < 0.08:
            duplicate = probability(chance * rng.uniform(0.3, 0.9))
            labels.append(Label(tag_id, duplicate, _jitter(rng, shape.box)))

    for _ in range(rng.randint(0, 3)):
        noise = tiny_probability(rng)
        labels.append(Label(rng.choice(tag_ids), noise, random_box(rng)))
    return _by_probability(labels)


def classifications(
    rng: random.Random, truth: str, tag_ids: list[str]
) -> tuple[Label, ...]:
    """Score every tag for a picture of `truth`, sometimes preferring another."""
    winner = truth if rng.random() < 0.85 else rng.choice(tag_ids)
    top = rng.uniform(0.4, 0.999)
    others = [tag_id for tag_id in tag_ids if tag_id != winner]
    shares = [rng.random() for _ in others]
    labels = [Label(winner, probability(top), None)]
    for tag_id, share in zip(others, shares, strict=True):
        chance = (1 - top) * share / sum(shares)
        if rng.random() < 0.4:
            chance = tiny_probability(rng)
        labels.append(Label(tag_id, probability(chance), None))
    return _by_probability(labels)


def synthetic_top(prediction_id: str) -> float:
    """Derive the highest probability of a synthetic prediction from its id."""
    return probability(0.02 + 0.979 * int(prediction_id[-8:], 16) / 0xFFFFFFFF)


def synthetic_labels(
    prediction_id: str, tag_ids: list[str], boxes: int
) -> tuple[Label, ...]:
    """Derive a synthetic prediction's labels from its id, the same every time."""
    rng = random.Random(prediction_id)
    top = synthetic_top(prediction_id)
    labels = [Label(rng.choice(tag_ids), top, random_box(rng))]
    for _ in range(boxes - 1):
        chance = probability(top * rng.random() ** 4)
        labels.append(Label(rng.choice(tag_ids), chance, random_box(rng)))
    return _by_probability(labels)


def _jitter(rng: random.Random, box: Box | None) -> Box | None:
    if box is None:
        return None
    left, top, width, height = (value + rng.uniform(-0.02, 0.02) for value in box)
    left, top = min(max(left, 0.0), 0.95), min(max(top, 0.0), 0.95)
    return _rounded(left, top, min(width, 1 - left), min(height, 1 - top))


def _rounded(left: float, top: float, width: float, height: float) -> Box:
    return (round(left, 4), round(top, 4), round(width, 4), round(height, 4))


def _by_probability(labels: list[Label]) -> tuple[Label, ...]:
    return tuple(sorted(labels, key=lambda label: -label.probability))
