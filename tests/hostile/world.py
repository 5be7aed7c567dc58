"""The rows hostile input aims at, and a snapshot to prove it missed them."""

from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import User

from reviewer.models import (
    ApprovedLabel,
    Batch,
    Correction,
    Iteration,
    Outcome,
    PredictedLabel,
    Prediction,
    Project,
    PromotionRun,
    Review,
    Tag,
)

LEDGER = (Review, ApprovedLabel, Correction, Batch, Outcome, PromotionRun)
CACHE = (Tag, Iteration, Prediction, PredictedLabel, Review)
# What the service said of a project; a failed call records its own outcome beside.
DESCRIBED = ("id", "name", "description", "kind", "domain_id", "status")


@dataclass
class World:
    """The detection project's rows by role, and a classification project beside it."""

    project: Project
    tags: dict[str, str]
    item: UUID
    decided: UUID
    other_item: UUID
    source: int
    other_source: int
    classes: Project
    class_tags: dict[str, str]
    class_item: UUID
    class_sync: int
    users: dict[str, User]


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the reviews and the ledger, to compare before and after."""
    return _rows(LEDGER)


def cache() -> dict[str, list[tuple]]:
    """Every row of the cache of the service's answers, to compare before and after."""
    projects = Project.objects.order_by("pk").values_list(*DESCRIBED, "last_synced_at")
    return {"Project": list(projects), **_rows(CACHE)}


def _rows(models: tuple) -> dict[str, list[tuple]]:
    return {
        model.__name__: list(model.objects.order_by("pk").values_list())
        for model in models
    }
