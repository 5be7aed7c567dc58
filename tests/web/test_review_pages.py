import json
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.models import ApprovedLabel, Prediction, Review, ReviewState
from tests.fixtures.projects import add_apple, sync

pytestmark = pytest.mark.django_db


def queue_url(project, **query):
    url = reverse("reviewer:project-queue", args=[project.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_it_shows_counts_and_thumbnails_on_the_queue(
    client, annotator, detection_project
):
    client.force_login(annotator)

    response = client.get(queue_url(detection_project.project))

    counts = {count.key: count.number for count in response.context["counts"]}
    assert counts["to_review"] == 4
    assert counts["approved"] == 0
    html = response.content.decode()
    assert html.count('class="queue-item"') == 4
    assert "Shelf &lt;products&gt; &amp; &quot;co&quot;" in html


def test_start_opens_the_most_uncertain_item_and_claims_it(
    client, annotator, detection_project
):
    client.force_login(annotator)

    response = client.get(
        reverse("reviewer:review-start", args=[detection_project.project.pk])
    )

    assert response.status_code == 302
    page = client.get(response["Location"])
    review = page.context["review"]
    assert review.leased_by == annotator
    assert page.context["prediction"].pk == uuid.UUID(detection_project.predictions[0])
    data = json.loads(page.context["initial_labels_json"])
    assert len(data) == 2


def test_accept_saves_the_labels_and_returns_the_next_card(
    client, annotator, detection_project
):
    client.force_login(annotator)
    project = detection_project.project
    first = client.get(
        reverse("reviewer:review-start", args=[project.pk]), follow=True
    ).context
    labels = first["initial_labels_json"]

    response = client.post(
        reverse("reviewer:review-decide", args=[project.pk, first["prediction"].pk]),
        {"action": "accept", "version": 0, "labels": labels},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.context["prediction"].pk != first["prediction"].pk
    assert "HX-Push-Url" in response
    review = Review.objects.get(pk=first["prediction"].pk)
    assert review.state == ReviewState.APPROVED
    assert review.decided_by == annotator
    assert ApprovedLabel.objects.filter(review=review).count() == 2


def decide_url(project, prediction_id):
    return reverse("reviewer:review-decide", args=[project.pk, prediction_id])


HTMX = {"HX-Request": "true"}


def test_an_invalid_accept_answers_422_with_the_problem(
    client, annotator, detection_project
):
    client.force_login(annotator)
    project = detection_project.project
    prediction_id = detection_project.predictions[0]
    bad = json.dumps(
        [{"tag": detection_project.tags["Apple"], "source": None, "box": [2, 0, 1, 1]}]
    )

    response = client.post(
        decide_url(project, prediction_id),
        {"action": "accept", "version": 0, "labels": bad},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#review-problems"
    assert "reaches outside the image" in response.content.decode()
    assert Review.objects.get(pk=prediction_id).state == ReviewState.TO_REVIEW


def test_a_stale_version_answers_409(client, annotator, detection_project):
    client.force_login(annotator)
    project = detection_project.project
    prediction_id = detection_project.predictions[0]
    client.post(decide_url(project, prediction_id), {"action": "reject", "version": 0})

    response = client.post(
        decide_url(project, prediction_id),
        {"action": "skip", "version": 0},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert "ann changed this item" in response.content.decode()


def test_a_malformed_decision_answers_400(client, annotator, detection_project):
    client.force_login(annotator)

    response = client.post(
        decide_url(detection_project.project, detection_project.predictions[0]),
        {"action": "approve-everything", "version": "x"},
    )

    assert response.status_code == 400


def test_without_javascript_a_decision_redirects_to_the_next_item(
    client, annotator, detection_project
):
    client.force_login(annotator)
    project = detection_project.project

    response = client.post(
        decide_url(project, detection_project.predictions[0]) + "?order=newest",
        {"action": "skip", "version": 0},
    )

    assert response.status_code == 302
    assert "/review/" in response["Location"]
    assert response["Location"].endswith("?order=newest")


def test_a_decision_needs_the_csrf_token(annotator, detection_project):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(annotator)

    response = browser.post(
        decide_url(detection_project.project, detection_project.predictions[0]),
        {"action": "reject", "version": 0},
    )

    assert response.status_code == 403
    assert Review.objects.filter(state=ReviewState.REJECTED).count() == 0


def test_undo_reopens_the_item(client, annotator, detection_project):
    client.force_login(annotator)
    project = detection_project.project
    prediction_id = detection_project.predictions[0]
    client.post(decide_url(project, prediction_id), {"action": "reject", "version": 0})

    response = client.post(
        reverse("reviewer:review-undo", args=[project.pk, prediction_id]),
        headers=HTMX,
    )

    assert response.status_code == 200
    assert str(response.context["prediction"].pk) == prediction_id
    assert Review.objects.get(pk=prediction_id).state == ReviewState.TO_REVIEW


def test_the_last_item_shows_all_done(client, annotator, detection_project):
    client.force_login(annotator)
    project = detection_project.project
    Review.objects.exclude(pk=detection_project.predictions[0]).update(
        state=ReviewState.REJECTED
    )

    response = client.post(
        decide_url(project, detection_project.predictions[0]),
        {"action": "skip", "version": 0},
        headers=HTMX,
    )

    assert "Nothing left to review" in response.content.decode()


def test_an_item_of_another_project_is_not_found(
    client, annotator, detection_project, classification_project
):
    client.force_login(annotator)

    response = client.get(
        reverse(
            "reviewer:review-item",
            args=[detection_project.project.pk, classification_project.predictions[0]],
        )
    )

    assert response.status_code == 404


def test_an_item_someone_else_holds_opens_with_a_notice(
    client, annotator, detection_project
):
    from django.contrib.auth import get_user_model

    from reviewer.services.review import claim

    other = get_user_model().objects.create_user("bea", password="bea-password-1")
    review = Review.objects.get(pk=detection_project.predictions[0])
    claim(review, other, timezone.now())
    client.force_login(annotator)

    response = client.get(
        reverse(
            "reviewer:review-item",
            args=[detection_project.project.pk, detection_project.predictions[0]],
        )
    )

    assert "bea is reviewing this item" in response.content.decode()


def test_the_review_page_takes_a_fixed_number_of_queries(
    client, annotator, detection_project, django_assert_max_num_queries
):
    client.force_login(annotator)
    url = reverse(
        "reviewer:review-item",
        args=[detection_project.project.pk, detection_project.predictions[0]],
    )

    with django_assert_max_num_queries(12):
        client.get(url)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 4),
        ("order=newest", 4),
        ("expiry=7", 1),
        ("expiry=expired", 0),
        ("min_probability=0.7", 4),
        ("max_probability=0.06", 4),
        ("min_probability=0.6&max_probability=0.65", 1),
        ("state=approved", 0),
        ("min_probability=0.9&max_probability=0.1", 4),
    ],
)
def test_the_queue_filters_by_the_url(
    client, annotator, detection_project, query, expected
):
    client.force_login(annotator)
    url = reverse("reviewer:project-queue", args=[detection_project.project.pk])

    response = client.get(f"{url}?{query}")

    assert response.context["matching"] == expected


def test_the_queue_filters_by_tag_and_iteration(
    client, annotator, detection_project, classification_project
):
    client.force_login(annotator)
    url = reverse("reviewer:project-queue", args=[classification_project.project.pk])
    pear = classification_project.tags["Pear"]

    response = client.get(f"{url}?tag={pear}&min_probability=0.5")

    assert response.context["matching"] == 1
    other_iteration = detection_project.iteration
    assert client.get(f"{url}?iteration={other_iteration}").context["matching"] == 3


def test_the_queue_answers_its_list_fragment_to_htmx(
    client, annotator, detection_project
):
    client.force_login(annotator)
    url = reverse("reviewer:project-queue", args=[detection_project.project.pk])

    response = client.get(
        url, headers={"HX-Request": "true", "HX-Target": "queue-results"}
    )

    html = response.content.decode()
    assert html.startswith('<section id="queue-results"')
    assert "<html" not in html


def test_the_queue_takes_the_same_number_of_queries_for_more_items(
    client, lead, detection_project, emulator, cv_client
):
    client.force_login(lead)
    url = reverse("reviewer:project-queue", args=[detection_project.project.pk])
    few = count_queries(client, url)
    for _ in range(10):
        emulator.state.add_prediction(
            str(detection_project.project.pk),
            detection_project.iteration,
            [
                {
                    "tag_id": detection_project.tags["Apple"],
                    "probability": 0.3,
                    "box": (0, 0, 0.5, 0.5),
                }
            ],
        )
    sync(cv_client, str(detection_project.project.pk))

    assert count_queries(client, url) == few <= 14


def count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_bulk_accept_needs_the_permission(client, annotator, detection_project):
    client.force_login(annotator)

    response = client.post(
        reverse("reviewer:bulk-accept", args=[detection_project.project.pk]),
        {"min_probability": 0.5},
    )

    assert response.status_code == 403
    assert Review.objects.filter(state=ReviewState.APPROVED).count() == 0


def test_bulk_accept_accepts_the_filtered_items(client, lead, detection_project):
    client.force_login(lead)
    url = reverse("reviewer:bulk-accept", args=[detection_project.project.pk])

    response = client.post(url + "?expiry=7", {"min_probability": 0.5}, follow=True)

    assert "Accepted 1 items as predicted" in response.content.decode()
    assert Review.objects.filter(state=ReviewState.APPROVED).count() == 1


def test_the_queue_and_the_card_show_the_time_left_and_mark_expired_items(
    client, annotator, detection_project
):
    client.force_login(annotator)
    project = detection_project.project
    now = timezone.now()
    closing, gone, *_ = Prediction.objects.filter(project=project)
    Prediction.objects.filter(pk=closing.pk).update(
        created=now - timedelta(days=29, hours=12)
    )
    Prediction.objects.filter(pk=gone.pk).update(created=now - timedelta(days=31))

    queue = client.get(queue_url(project)).content.decode()
    card = client.get(
        reverse("reviewer:review-item", args=[project.pk, closing.pk])
    ).content.decode()

    assert queue.count("less than a day left") == 1
    assert queue.count(">expired</strong>") == 1
    assert "less than a day left" in card
    assert ">expired</strong>" not in card


def test_staff_set_a_projects_default_threshold_in_the_admin(
    client, admin_user, detection_project
):
    project = detection_project.project
    client.force_login(admin_user)
    url = reverse("admin:reviewer_project_change", args=[project.pk])

    refused = client.post(url, {"default_threshold": "1.5"})
    client.post(url, {"default_threshold": "0.7"})

    assert refused.status_code == 200
    assert "less than or equal to 1" in refused.content.decode()
    project.refresh_from_db()
    assert project.default_threshold == 0.7
    queue = client.get(queue_url(project))
    assert queue.context["bulk_form"]["min_probability"].value() == 0.7


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        # Suggested: the confident newcomer last, then by Banana, nearest 0.5 first.
        ("suggested", [1, 2, 3, 4, 0]),
        ("newest", [0, 1, 2, 3, 4]),
        ("oldest", [4, 3, 2, 1, 0]),
        ("expiring", [4, 3, 2, 1, 0]),
    ],
)
def test_the_queue_lists_items_in_the_chosen_order(
    client, annotator, detection_project, emulator, cv_client, order, expected
):
    project = detection_project.project
    confident = add_apple(emulator, detection_project, probability=0.99)
    sync(cv_client, str(project.pk))
    items = [uuid.UUID(pk) for pk in [confident, *detection_project.predictions]]
    client.force_login(annotator)

    page = client.get(queue_url(project, order=order)).context["page"]

    assert [review.pk for review in page] == [items[index] for index in expected]


def test_reviewing_from_a_filtered_queue_keeps_its_filters_to_the_next_item(
    client, annotator, detection_project
):
    project = detection_project.project
    items = [uuid.UUID(pk) for pk in detection_project.predictions]
    client.force_login(annotator)
    query = f"order=oldest&iteration={detection_project.iteration}"

    start = client.get(
        reverse("reviewer:review-start", args=[project.pk]) + "?" + query
    )
    first = client.get(start["Location"]).context
    decided = client.post(
        decide_url(project, first["prediction"].pk) + "?" + query,
        {"action": "reject", "version": 0, "labels": "[]"},
        headers={"HX-Request": "true"},
    )

    assert query in start["Location"]
    listed = client.get(queue_url(project) + "?" + query).context
    assert listed["form"].is_valid() and listed["matching"] == 3
    assert first["prediction"].pk == items[3]
    assert decided.context["prediction"].pk == items[2]
    assert f"?{query}" in decided["HX-Push-Url"]
