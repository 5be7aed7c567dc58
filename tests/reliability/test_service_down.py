"""Custom Vision unreachable or refusing the key: the pages work from the cache and
say why."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.emulator import Emulator, EmulatorConfig
from reviewer.models import Project, PromotionRun, ReviewState, SyncRun
from reviewer.services.promotion import queue_promotion
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept
from tests.fixtures.projects import sync

pytestmark = pytest.mark.django_db

BANNER = re.compile(r'role="alert">\s*(Custom Vision [^<]*the pages show the cache\.)')


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }


@pytest.fixture
def unreachable(settings, annotator):
    """A project synced from a service that has since stopped answering."""
    service = Emulator(EmulatorConfig(training_key="test-key"))
    service.start()
    remote = service.seed_demo()["object_detection"]
    client = CustomVisionClient(service.endpoint, "test-key", backoff=0)
    project = sync(client, remote)
    client.close()
    bulk_accept(project, QueueFilters(), 0.9, annotator, timezone.now())
    settings.CUSTOMVISION_ENDPOINT = service.endpoint
    settings.CUSTOMVISION_TRAINING_KEY = "test-key"
    service.stop()
    return project


@pytest.fixture
def key_refused(detection_project, settings, annotator):
    bulk_accept(
        detection_project.project, QueueFilters(), 0.5, annotator, timezone.now()
    )
    settings.CUSTOMVISION_TRAINING_KEY = "a-key-that-was-rotated"
    return detection_project.project


def banner(response) -> str:
    found = BANNER.search(response.content.decode())
    return found.group(1) if found else ""


def press_sync(client, project: Project, capture) -> SyncRun:
    with capture(execute=True):
        client.post(
            reverse("reviewer:sync-start", args=[project.pk]),
            headers={"HX-Request": "true"},
        )
    return SyncRun.objects.filter(project=project).latest("id")


def press_promote(project: Project, lead, capture) -> PromotionRun:
    with capture(execute=True):
        run = queue_promotion(project, lead)
    run.refresh_from_db()
    return run


def assert_pages_load(client, project: Project) -> None:
    """Queue, review, audit and promotion pages all answer from the cache."""
    for name in ("project-queue", "audit-items", "promotion-manifest", "promotions"):
        response = client.get(reverse(f"reviewer:{name}", args=[project.pk]))
        assert response.status_code == 200, name
    for review in project.predictions.values_list("pk", flat=True)[:2]:
        item = client.get(reverse("reviewer:review-item", args=[project.pk, review]))
        assert item.status_code == 200
        assert 'id="review-card"' in item.content.decode()


def test_with_the_key_refused_the_pages_show_the_cache_and_say_so(
    client, lead, key_refused, django_capture_on_commit_callbacks
):
    project = key_refused
    client.force_login(lead)

    run = press_sync(client, project, django_capture_on_commit_callbacks)

    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("Custom Vision refused the training key. Check ")
    progress = client.get(reverse("reviewer:sync-progress", args=[project.pk, run.pk]))
    assert "Sync failed" in progress.content.decode()
    queue_page = client.get(reverse("reviewer:project-queue", args=[project.pk]))
    assert re.fullmatch(
        r"Custom Vision refused the training key at \d\d:\d\d UTC; "
        r"the pages show the cache\.",
        banner(queue_page),
    )
    assert banner(client.get(reverse("reviewer:project-list"))) == banner(queue_page)
    assert_pages_load(client, project)


def test_with_the_key_refused_a_promotion_stops_and_fails_nothing(
    client, lead, key_refused, django_capture_on_commit_callbacks
):
    run = press_promote(key_refused, lead, django_capture_on_commit_callbacks)

    assert run.status == PromotionRun.Status.STOPPED
    assert "refused the training key" in run.error
    assert not run.outcomes.exists()
    client.force_login(lead)
    page = client.get(reverse("reviewer:project-queue", args=[key_refused.pk]))
    assert "refused the training key" in banner(page)


def test_with_the_service_unreachable_the_pages_show_the_cache_and_say_so(
    client, lead, unreachable, django_capture_on_commit_callbacks
):
    project = unreachable
    client.force_login(lead)

    run = press_sync(client, project, django_capture_on_commit_callbacks)

    assert run.status == SyncRun.Status.FAILED
    assert "no answer" in run.error
    page = client.get(reverse("reviewer:project-queue", args=[project.pk]))
    assert "Custom Vision could not be reached at" in banner(page)
    assert_pages_load(client, project)
    prediction = project.predictions.first()
    image = client.get(
        reverse(
            "reviewer:prediction-image", args=[project.pk, prediction.pk, "thumbnail"]
        )
    )
    assert image.status_code == 502
    assert "did not send the image" in image.content.decode()


def test_with_the_service_unreachable_a_promotion_stops_instead_of_hanging(
    lead, unreachable, django_capture_on_commit_callbacks
):
    run = press_promote(unreachable, lead, django_capture_on_commit_callbacks)

    assert run.status == PromotionRun.Status.STOPPED
    assert "no answer" in run.error and "promote again" in run.error
    assert set(unreachable.predictions.values_list("review__state", flat=True)) >= {
        ReviewState.APPROVED
    }
    assert not run.outcomes.exists()
    unreachable.refresh_from_db()
    assert unreachable.service_error == "unreachable"


def test_a_sync_that_succeeds_again_takes_the_banner_down(
    client, lead, key_refused, settings, emulator, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    press_sync(client, key_refused, django_capture_on_commit_callbacks)
    settings.CUSTOMVISION_TRAINING_KEY = emulator.config.training_key

    run = press_sync(client, key_refused, django_capture_on_commit_callbacks)

    assert run.status == SyncRun.Status.SUCCEEDED
    page = client.get(reverse("reviewer:project-queue", args=[key_refused.pk]))
    assert banner(page) == ""
    assert 'role="alert"' not in page.content.decode()
    assert banner(client.get(reverse("reviewer:project-list"))) == ""
