import pytest
from django.urls import get_resolver, reverse

from reviewer.models import PromotionRun, SyncRun

pytestmark = pytest.mark.django_db

GET, POST = "get", "post"

# name, arguments, method, and the status for: anonymous, annotator, lead.
ACCESS = [
    ("reviewer:project-list", (), GET, (302, 200, 200)),
    ("reviewer:project-queue", ("project",), GET, (302, 200, 200)),
    ("reviewer:bulk-accept", ("project",), POST, (302, 403, 302)),
    ("reviewer:sync-start", ("project",), POST, (302, 302, 302)),
    ("reviewer:sync-progress", ("project", "sync"), GET, (302, 200, 200)),
    ("reviewer:review-start", ("project",), GET, (302, 302, 302)),
    ("reviewer:review-item", ("project", "prediction"), GET, (302, 200, 200)),
    ("reviewer:review-decide", ("project", "prediction"), POST, (302, 400, 400)),
    ("reviewer:review-undo", ("project", "prediction"), POST, (302, 409, 409)),
    (
        "reviewer:prediction-image",
        ("project", "prediction", "thumbnail"),
        GET,
        (302, 200, 200),
    ),
    ("reviewer:promotion-manifest", ("project",), GET, (302, 403, 200)),
    ("reviewer:promotion-start", ("project",), POST, (302, 403, 302)),
    ("reviewer:promotion-run", ("project", "run"), GET, (302, 403, 200)),
    ("reviewer:promotion-progress", ("project", "run"), GET, (302, 403, 200)),
    ("reviewer:promotions", ("project",), GET, (302, 403, 200)),
    ("reviewer:promotions-export", ("project",), GET, (302, 403, 200)),
    ("reviewer:labels-export", ("project",), GET, (302, 403, 200)),
    ("reviewer:audit-items", ("project",), GET, (302, 403, 200)),
    ("reviewer:audit-item", ("project", "prediction"), GET, (302, 403, 200)),
    ("reviewer:project-quality", ("project",), GET, (302, 403, 200)),
    ("health", (), GET, (200, 200, 200)),
]


@pytest.fixture
def places(detection_project, lead):
    project = detection_project.project
    return {
        "project": project.pk,
        "prediction": detection_project.predictions[0],
        "sync": SyncRun.objects.create(project=project).pk,
        "run": PromotionRun.objects.create(project=project, requested_by=lead).pk,
        "thumbnail": "thumbnail",
    }


def test_the_table_names_every_url_of_the_app():
    names = {
        f"reviewer:{name}"
        for name in get_resolver().namespace_dict["reviewer"][1].reverse_dict
        if isinstance(name, str)
    }

    assert names <= {name for name, *_ in ACCESS}


@pytest.mark.parametrize("who", [0, 1, 2], ids=["anonymous", "annotator", "lead"])
def test_each_url_answers_each_role_as_designed(client, annotator, lead, places, who):
    user = (None, annotator, lead)[who]
    if user:
        client.force_login(user)
    answers = {}
    for name, args, method, _ in ACCESS:
        url = reverse(name, args=[places[arg] for arg in args])
        response = getattr(client, method)(url)
        answers[name] = response.status_code
        if response.status_code == 302 and user is None:
            assert response["Location"].startswith(reverse("login")), name

    assert answers == {name: expected[who] for name, _, _, expected in ACCESS}


def test_a_user_without_a_role_is_refused_everywhere(client, places, db):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="nobody-pw-1")
    client.force_login(nobody)

    for name, args, method, _ in ACCESS:
        if name == "health":
            continue
        url = reverse(name, args=[places[arg] for arg in args])
        assert getattr(client, method)(url).status_code == 403, name
