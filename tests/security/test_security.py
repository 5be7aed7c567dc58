from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from reviewer.models import Prediction
from reviewer.security import (
    CONTENT_SECURITY_POLICY,
    SESSION_STAMP,
    image_host_allowed,
)

pytestmark = pytest.mark.django_db


def test_every_page_carries_a_policy_without_inline_script(client, annotator):
    client.force_login(annotator)

    response = client.get(reverse("reviewer:project-list"))

    policy = response["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in policy
    assert "script-src 'self'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_page_has_inline_script(client, lead, approved):
    client.force_login(lead)
    project = approved.project
    pages = [
        reverse("reviewer:project-list"),
        reverse("reviewer:project-queue", args=[project.pk]),
        reverse("reviewer:review-item", args=[project.pk, approved.predictions[0]]),
        reverse("reviewer:promotion-manifest", args=[project.pk]),
        reverse("reviewer:audit-items", args=[project.pk]),
        reverse("reviewer:project-quality", args=[project.pk]),
    ]

    for url in pages:
        html = client.get(url).content.decode()
        scripts = html.split("<script")[1:]
        assert all(
            " src=" in script.split(">")[0] or "application/json" in script
            for script in scripts
        ), url
        assert " onclick=" not in html and " style=" not in html, url


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("https://irisprod.blob.core.windows.net/a/b.jpg?se=1&sig=x", True),
        ("http://127.0.0.1:5010/blobs/x.png", True),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://10.0.0.5/internal", False),
        ("https://blob.core.windows.net.evil.example/x.jpg", False),
        ("https://evilblob.core.windows.net/x.jpg", False),
    ],
)
def test_the_image_proxy_allows_only_the_service_and_storage(settings, uri, allowed):
    settings.CUSTOMVISION_ENDPOINT = "http://127.0.0.1:5010"

    assert image_host_allowed(uri) is allowed


def test_a_cached_link_to_another_host_is_refused(client, annotator, detection_project):
    Prediction.objects.filter(pk=detection_project.predictions[0]).update(
        thumbnail_uri="http://169.254.169.254/latest/meta-data"
    )
    client.force_login(annotator)

    response = client.get(
        reverse(
            "reviewer:prediction-image",
            args=[
                detection_project.project.pk,
                detection_project.predictions[0],
                "thumbnail",
            ],
        )
    )

    assert response.status_code == 403
    assert b"not allowed" in response.content


def test_activity_pushes_the_session_expiry_at_most_every_few_minutes(
    client, annotator, settings
):
    client.force_login(annotator)
    url = reverse("reviewer:project-list")
    client.get(url)
    session = client.session
    first = session[SESSION_STAMP]

    client.get(url)
    assert client.session[SESSION_STAMP] == first

    session[SESSION_STAMP] = first - settings.SESSION_REFRESH_SECONDS
    session.save()
    client.get(url)
    assert client.session[SESSION_STAMP] >= first
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_AGE == 480 * 60


def leave_idle(client, idle: timedelta) -> None:
    """Move the session's clock back, as if its user had done nothing for so long."""
    session = client.session
    session[SESSION_STAMP] -= int(idle.total_seconds())
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=F("expire_date") - idle
    )


@pytest.fixture
def idle_half_an_hour(settings):
    """What SESSION_IDLE_MINUTES=30 sets."""
    settings.SESSION_COOKIE_AGE = 30 * 60


def test_a_session_idle_longer_than_allowed_goes_to_the_login_page(
    client, annotator, idle_half_an_hour
):
    client.force_login(annotator)
    url = reverse("reviewer:project-list")
    assert client.get(url).status_code == 200
    leave_idle(client, timedelta(minutes=31))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_a_session_used_within_its_idle_time_stays_and_is_extended(
    client, annotator, idle_half_an_hour
):
    client.force_login(annotator)
    url = reverse("reviewer:project-list")
    client.get(url)
    leave_idle(client, timedelta(minutes=29))

    response = client.get(url)

    assert response.status_code == 200
    expiry = Session.objects.get(session_key=client.session.session_key).expire_date
    left = expiry - timezone.now()
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)
