import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_annotator_gets_403_on_both_downloads(client, annotator, approved):
    client.force_login(annotator)
    project = approved.project

    for name in ("promotions-export", "labels-export"):
        response = client.get(reverse(f"reviewer:{name}", args=[project.pk]))
        assert response.status_code == 403


def test_a_download_of_an_unknown_project_is_404(client, lead, db):
    client.force_login(lead)

    response = client.get(
        reverse("reviewer:labels-export", args=["00000000-0000-0000-0000-000000000000"])
    )

    assert response.status_code == 404


def test_the_queue_offers_the_labels_download_to_leads_only(
    client, lead, annotator, approved
):
    url = reverse("reviewer:project-queue", args=[approved.project.pk])
    link = reverse("reviewer:labels-export", args=[approved.project.pk])

    client.force_login(lead)
    html = client.get(url).content.decode()
    assert link in html
    assert "Download approved labels (COCO)" in html

    client.force_login(annotator)
    assert link not in client.get(url).content.decode()
