import io
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from reviewer.models import Prediction, SyncRun
from reviewer.services.images import LINK_LIFETIME
from reviewer.services.sync import refresh_image_links

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }


def test_the_sync_button_queues_a_run_and_shows_its_progress(
    client,
    annotator,
    detection_project,
    emulator,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    project = detection_project.project
    emulator.state.add_prediction(
        str(project.pk), detection_project.iteration, [], created=None
    )
    client.force_login(annotator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reviewer:sync-start", args=[project.pk]),
            headers={"HX-Request": "true"},
        )

    assert response.status_code == 200
    run = SyncRun.objects.latest("id")
    assert run.requested_by == annotator
    progress = client.get(reverse("reviewer:sync-progress", args=[project.pk, run.pk]))
    html = progress.content.decode()
    assert "Sync done: 1 new" in html
    assert "hx-trigger" not in html
    assert project.predictions.count() == 5


def test_a_running_sync_polls_and_a_second_click_reuses_it(
    client, annotator, detection_project, django_capture_on_commit_callbacks
):
    project = detection_project.project
    client.force_login(annotator)
    url = reverse("reviewer:sync-start", args=[project.pk])

    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, headers={"HX-Request": "true"})
        response = client.post(url, headers={"HX-Request": "true"})

    assert SyncRun.objects.filter(status=SyncRun.Status.QUEUED).count() == 1
    assert 'hx-trigger="every 1s"' in response.content.decode()


def image_url(fixture, size="resized", number=0):
    return reverse(
        "reviewer:prediction-image",
        args=[fixture.project.pk, fixture.predictions[number], size],
    )


def test_it_serves_the_image_through_the_app(client, annotator, detection_project):
    client.force_login(annotator)

    response = client.get(image_url(detection_project))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=86400"
    assert Image.open(io.BytesIO(response.content)).width > 0


def test_images_need_a_login(client, detection_project):
    response = client.get(image_url(detection_project))

    assert response.status_code == 302


def test_it_refreshes_a_link_that_expired_early(
    client, annotator, detection_project, emulator, cv_client
):
    emulator.config.uri_ttl = 1
    prediction = Prediction.objects.get(pk=detection_project.predictions[0])
    refresh_image_links(cv_client, prediction)
    short_lived = prediction.resized_image_uri
    time.sleep(1.1)
    client.force_login(annotator)
    emulator.config.uri_ttl = 3600

    response = client.get(image_url(detection_project))

    assert response.status_code == 200
    prediction.refresh_from_db()
    assert prediction.resized_image_uri != short_lived


def test_it_refreshes_links_older_than_their_lifetime(
    client, annotator, detection_project
):
    stale = timezone.now() - LINK_LIFETIME - LINK_LIFETIME
    Prediction.objects.filter(pk=detection_project.predictions[0]).update(
        uris_fetched_at=stale
    )
    client.force_login(annotator)

    response = client.get(image_url(detection_project))

    assert response.status_code == 200
    prediction = Prediction.objects.get(pk=detection_project.predictions[0])
    assert prediction.uris_fetched_at > stale


def test_a_prediction_deleted_on_the_service_is_marked_and_not_offered(
    client, annotator, detection_project, emulator
):
    project = detection_project.project
    gone = detection_project.predictions[0]
    emulator.state.delete_predictions(str(project.pk), [gone])
    Prediction.objects.filter(pk=gone).update(
        uris_fetched_at=timezone.now() - 2 * LINK_LIFETIME
    )
    client.force_login(annotator)

    response = client.get(image_url(detection_project))

    assert response.status_code == 404
    assert Prediction.objects.get(pk=gone).removed_at is not None
    queue = client.get(reverse("reviewer:project-queue", args=[project.pk]))
    assert queue.context["matching"] == 3


def test_an_unknown_size_is_not_found(client, annotator, detection_project):
    client.force_login(annotator)

    assert client.get(image_url(detection_project, size="huge")).status_code == 404


def test_the_service_down_gives_a_clear_502(
    client, annotator, detection_project, emulator
):
    client.force_login(annotator)
    Prediction.objects.filter(pk=detection_project.predictions[0]).update(
        uris_fetched_at=timezone.now() - 2 * LINK_LIFETIME
    )
    emulator.inject(status=503, count=4, operation="QueryPredictions")

    response = client.get(image_url(detection_project, size="thumbnail"))

    assert response.status_code == 502
    assert b"try again shortly" in response.content
