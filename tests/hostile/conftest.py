"""A world of rows for hostile input to aim at, built from the shared fixtures."""

from uuid import UUID, uuid4

import pytest
from django.utils import timezone

from reviewer.customvision.limits import TAG_NEGATIVE
from reviewer.models import PredictedLabel, Project, Review, Tag
from reviewer.services.review import decide
from tests.client.conftest import ScriptedServer
from tests.fixtures.projects import labels_of
from tests.hostile.world import World


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash passwords cheaply: the corpus makes its users a hundred times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def service():
    """A server that answers each call with the reply a test scripts."""
    server = ScriptedServer()
    server.serve()
    yield server
    server.stop()


@pytest.fixture
def world(detection_project, classification_project, annotator, lead) -> World:
    """Item 0 open to review; item 1 accepted by the lead; a negative and a gone tag."""
    project = detection_project.project
    item, decided, other_item, _ = detection_project.predictions
    review = Review.objects.select_related("prediction").get(pk=decided)
    labels = labels_of(review, detection_project.tags)
    decide(review.pk, lead, "accept", 0, labels, timezone.now())
    tags = {
        **detection_project.tags,
        "Nothing": _tag(project, "Nothing", TAG_NEGATIVE),
        "Gone": _tag(project, "Gone", removed=True),
    }
    return World(
        project=project,
        tags=tags,
        item=UUID(item),
        decided=UUID(decided),
        other_item=UUID(other_item),
        source=_label(item, tags["Apple"]),
        other_source=_label(other_item, tags["Apple"]),
        classes=classification_project.project,
        class_tags=classification_project.tags,
        class_item=UUID(classification_project.predictions[0]),
        class_sync=classification_project.project.sync_runs.get().pk,
        users={"annotator": annotator, "lead": lead},
    )


def _tag(
    project: Project, name: str, kind: str = "Regular", removed: bool = False
) -> str:
    removed_at = timezone.now() if removed else None
    tag = Tag.objects.create(
        id=uuid4(), project=project, name=name, type=kind, removed_at=removed_at
    )
    return str(tag.pk)


def _label(prediction_id: str, tag_id: str) -> int:
    return PredictedLabel.objects.get(prediction_id=prediction_id, tag_id=tag_id).pk
