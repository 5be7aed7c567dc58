import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviewer.models import Iteration, ReviewState, Tag
from tests.quality.rows import (
    MONDAY,
    added,
    deleted,
    kept,
    make_item,
    make_shop,
    moved,
    relabelled,
)

pytestmark = pytest.mark.django_db


def quality_url(shop, query: str = "") -> str:
    return reverse("reviewer:project-quality", args=[shop.project.pk]) + query


def test_a_lead_sees_the_model_and_reviewer_figures(client, lead, shop, annotator):
    make_item(shop, [kept("Apple", 0.9), deleted("Apple", 0.7)], by=annotator)
    make_item(shop, [relabelled("Banana", "Cherry", 0.8), added("Cherry")], by=lead)
    client.force_login(lead)

    response = client.get(quality_url(shop))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg role="img"' in html
    assert 'data-figure="acceptance-rate">33 %' in html
    assert 'data-figure="added-per-image">0.50' in html
    assert '<tr data-tag="Banana">' in html
    assert 'data-reviewer="ann"' in html
    assert 'data-reviewer="lee"' in html
    assert "Relabelled: predicted tag (row) to approved tag (column)" in html


def test_an_annotator_gets_403(client, annotator, shop):
    client.force_login(annotator)

    assert client.get(quality_url(shop)).status_code == 403


def test_the_chart_draws_each_rate_and_threshold_to_scale(client, lead, shop):
    for number in range(20):
        make_item(shop, [kept("Apple", 0.6 + number / 100), deleted("Banana", 0.9)])
    make_item(shop, [moved("Banana", 0.9)])
    client.force_login(lead)

    html = client.get(quality_url(shop)).content.decode()

    assert 'class="quality-chart-bar" width="300"' in html
    assert 'class="quality-chart-bar" width="14"' in html
    assert 'x1="180" x2="180"' in html
    assert html.count('class="quality-chart-threshold"') == 1
    assert html.count("not judged") == 1


def test_it_shows_one_iteration_and_ignores_an_unknown_one(client, lead, shop):
    first, second = shop.iterations
    make_item(shop, [kept("Apple", 0.9)], iteration=first)
    make_item(shop, [deleted("Apple", 0.9)], iteration=second)
    elsewhere = make_shop("Elsewhere").iterations[0]
    client.force_login(lead)

    chosen = client.get(quality_url(shop, f"?iteration={first.pk}")).context["report"]
    bad = client.get(quality_url(shop, "?iteration=nonsense")).context["report"]
    other = client.get(quality_url(shop, f"?iteration={elsewhere.pk}")).context[
        "report"
    ]

    assert (chosen.iteration, chosen.model.overall.judged) == (first, 1)
    assert (bad.iteration, bad.model.overall.judged) == (None, 2)
    assert (other.iteration, other.model.overall.judged) == (None, 2)


def test_it_renders_hostile_tag_names_inert(client, lead, shop):
    Tag.objects.filter(pk=shop.tags["Apple"].pk).update(name='<b>"Apple"</b>')
    make_item(shop, [kept("Apple", 0.9)])
    client.force_login(lead)

    html = client.get(quality_url(shop)).content.decode()

    assert "<b>" not in html
    assert "&lt;b&gt;&quot;Apple&quot;&lt;/b&gt;" in html


def fill(shop, items: int, reviewers: int) -> None:
    """Decide `items` items by `reviewers` people, with every kind of line."""
    people = [
        get_user_model().objects.create_user(f"{shop.project.name} {number}")
        for number in range(reviewers)
    ]
    iteration = Iteration.objects.create(
        id=uuid.uuid4(), project=shop.project, name=f"Iteration {items}"
    )
    for number in range(items):
        make_item(
            shop,
            [
                kept("Apple", 0.9),
                moved("Banana", 0.8),
                relabelled("Cherry", "Apple", 0.7),
                deleted("Banana", 0.6),
                added("Cherry"),
            ],
            by=people[number % reviewers],
            at=MONDAY.replace(minute=number % 60),
            iteration=iteration,
            state=ReviewState.REJECTED if number % 5 == 0 else ReviewState.APPROVED,
        )
    Tag.objects.create(id=uuid.uuid4(), project=shop.project, name=f"Tag {items}")


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_takes_the_same_number_of_queries_at_two_sizes(client, lead):
    small, large = make_shop("Small"), make_shop("Large")
    fill(small, items=2, reviewers=1)
    fill(large, items=40, reviewers=4)
    client.force_login(lead)
    count_queries(client, quality_url(small))

    few = count_queries(client, quality_url(small))
    many = count_queries(client, quality_url(large))
    narrowed = count_queries(
        client, quality_url(large, f"?iteration={large.project.iterations.first().pk}")
    )

    assert few == many <= 14
    assert narrowed == many


def test_the_queue_links_to_the_quality_page_for_a_lead_only(
    client, lead, annotator, shop
):
    url = reverse("reviewer:project-queue", args=[shop.project.pk])
    link = f'href="{quality_url(shop)}">Model quality</a>'

    client.force_login(lead)
    assert link in client.get(url).content.decode()
    client.force_login(annotator)
    assert link not in client.get(url).content.decode()
