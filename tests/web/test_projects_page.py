import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviewer.models import Project, ProjectKind, Tag

pytestmark = pytest.mark.django_db


def make_project(name: str, kind: str, tags: int = 0, **fields) -> Project:
    project = Project.objects.create(
        id=uuid.uuid4(), name=name, kind=kind, domain_id=uuid.uuid4(), **fields
    )
    for number in range(tags):
        Tag.objects.create(id=uuid.uuid4(), project=project, name=f"tag {number}")
    return project


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("reviewer:project-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_lists_projects_with_type_tag_count_and_last_sync(client, annotator):
    make_project("Shelves", ProjectKind.OBJECT_DETECTION, tags=3)
    make_project("Fruit", ProjectKind.MULTILABEL, tags=2, last_synced_at=timezone.now())
    removed = Tag.objects.filter(project__name="Shelves").first()
    removed.removed_at = timezone.now()
    removed.save()
    client.force_login(annotator)

    response = client.get(reverse("reviewer:project-list"))

    rows = {project.name: project for project in response.context["projects"]}
    assert rows["Shelves"].tag_count == 2
    assert rows["Fruit"].tag_count == 2
    html = response.content.decode()
    assert "Object detection" in html
    assert "Multilabel classification" in html
    assert "never" in html


def test_it_lists_projects_in_a_fixed_number_of_queries(client, annotator):
    client.force_login(annotator)
    url = reverse("reviewer:project-list")
    make_project("P", ProjectKind.MULTICLASS, tags=2)
    few = count_queries(client, url)
    for number in range(20):
        make_project(f"P{number}", ProjectKind.MULTICLASS, tags=2)

    assert count_queries(client, url) == few


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_it_renders_hostile_project_names_inert(client, annotator):
    make_project('<script>alert("x")</script> & "Co"', ProjectKind.MULTICLASS)
    client.force_login(annotator)

    html = client.get(reverse("reviewer:project-list")).content.decode()

    assert "<script>alert" not in html
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot;" in html
    )


def test_it_answers_the_health_check_without_login(client):
    response = client.get(reverse("health"))

    assert response.json() == {"status": "ok"}


def test_it_logs_in_through_the_form_with_csrf_enforced(annotator):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    login_page = browser.get(reverse("login"))
    token = login_page.cookies["csrftoken"].value

    response = browser.post(
        reverse("login"),
        {"username": "ann", "password": "ann-password-1", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert browser.get(reverse("reviewer:project-list")).status_code == 200
