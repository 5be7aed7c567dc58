import pytest

from reviewer.models import ReviewState
from reviewer.services.quality import model_quality, relabel_matrix, suggested_threshold
from tests.quality.rows import added, deleted, kept, make_item, moved, relabelled

pytestmark = pytest.mark.django_db


def by_tag(quality) -> dict:
    return {row.tag.name: row for row in quality.tags}


def test_it_counts_what_reviewers_did_with_each_tag(shop, annotator):
    make_item(shop, [kept("Apple", 0.9), kept("Apple", 0.8)], by=annotator)
    make_item(shop, [kept("Apple", 0.9), moved("Apple", 0.7)], by=annotator)
    make_item(
        shop, [relabelled("Apple", "Banana", 0.6), deleted("Apple", 0.55)], by=annotator
    )
    make_item(shop, [deleted("Banana", 0.8), added("Banana"), added("Banana")])

    quality = model_quality(shop.project)

    apple, banana, cherry = by_tag(quality).values()
    assert (apple.judged, apple.accepted, apple.unchanged, apple.moved) == (6, 4, 3, 1)
    assert (apple.relabelled, apple.deleted, apple.added) == (1, 1, 0)
    assert apple.acceptance_rate == pytest.approx(4 / 6)
    assert (banana.judged, banana.accepted, banana.acceptance_rate) == (1, 0, 0.0)
    assert banana.added_per_image == pytest.approx(2 / 4)
    assert (cherry.judged, cherry.acceptance_rate, cherry.added_per_image) == (
        0,
        None,
        0.0,
    )


def test_the_overall_figures_add_up_the_tags(shop, annotator):
    make_item(shop, [kept("Apple", 0.9), deleted("Banana", 0.8)], by=annotator)
    make_item(shop, [moved("Cherry", 0.7), added("Apple"), added("Cherry")])

    overall = model_quality(shop.project).overall

    assert (overall.judged, overall.accepted, overall.deleted, overall.added) == (
        3,
        2,
        1,
        2,
    )
    assert overall.acceptance_rate == pytest.approx(2 / 3)
    assert overall.added_per_image == pytest.approx(2 / 2)


def test_rejected_and_bulk_accepted_images_are_left_out(shop, annotator):
    make_item(shop, [kept("Apple", 0.9), added("Apple")], by=annotator)
    make_item(shop, state=ReviewState.REJECTED, by=annotator, hidden=[("Apple", 0.9)])
    make_item(shop, [kept("Apple", 0.9), kept("Apple", 0.8)], bulk=True)
    make_item(shop, [deleted("Apple", 0.6)], state=ReviewState.PROMOTED)
    make_item(shop, [deleted("Apple", 0.6)], state=ReviewState.IN_BATCH)
    make_item(shop, [deleted("Apple", 0.6)], state=ReviewState.FAILED)
    make_item(shop, [kept("Apple", 0.9)], state=ReviewState.TO_REVIEW)

    apple = by_tag(model_quality(shop.project))["Apple"]

    assert (apple.reviewed_images, apple.judged, apple.accepted) == (4, 4, 1)
    assert apple.added_per_image == pytest.approx(1 / 4)


def test_an_iteration_narrows_every_model_figure(shop, annotator):
    first, second = shop.iterations
    make_item(shop, [kept("Apple", 0.9)], iteration=first)
    make_item(
        shop, [relabelled("Apple", "Cherry", 0.9), added("Apple")], iteration=second
    )

    apple = by_tag(model_quality(shop.project, first))["Apple"]

    assert (apple.judged, apple.acceptance_rate, apple.added) == (1, 1.0, 0)
    assert relabel_matrix(shop.project, first).rows == []
    assert by_tag(model_quality(shop.project))["Apple"].judged == 2


def test_the_relabel_matrix_counts_predicted_to_approved_tag(shop, annotator):
    make_item(shop, [relabelled("Apple", "Banana", 0.9)] * 2)
    make_item(shop, [relabelled("Banana", "Apple", 0.8)])
    make_item(shop, [relabelled("Apple", "Cherry", 0.7), kept("Banana", 0.9)])

    tags, rows = relabel_matrix(shop.project)

    assert [tag.name for tag in tags] == ["Apple", "Banana", "Cherry"]
    assert [(tag.name, counts) for tag, counts in rows] == [
        ("Apple", [0, 2, 1]),
        ("Banana", [1, 0, 0]),
        ("Cherry", [0, 0, 0]),
    ]


def test_the_relabel_matrix_leaves_out_tags_never_relabelled(shop):
    make_item(shop, [relabelled("Cherry", "Banana", 0.9)])

    tags, rows = relabel_matrix(shop.project)

    assert [tag.name for tag in tags] == ["Banana", "Cherry"]
    assert [counts for _, counts in rows] == [[0, 0], [1, 0]]


def unchanged_from(top: int, count: int) -> list[tuple[float, bool]]:
    """Kept labels at top/100, (top - 1)/100 and so on."""
    return [((top - step) / 100, True) for step in range(count)]


def test_the_threshold_is_the_lowest_probability_of_twenty_kept_labels():
    assert suggested_threshold(unchanged_from(79, 20)) == 0.60


def test_below_twenty_judged_labels_there_is_no_threshold():
    assert suggested_threshold(unchanged_from(99, 19)) is None


def test_exactly_95_percent_unchanged_is_enough():
    labels = [(0.99, False), *unchanged_from(98, 19)]

    assert suggested_threshold(labels) == 0.80


def test_the_threshold_stops_above_a_run_of_deletions():
    # 30 kept at 0.99 to 0.70; 30 of 31 is 96.8 %, 30 of 32 is 93.8 %.
    deletions = [(probability, False) for probability in (0.64, 0.63, 0.62, 0.61)]

    assert suggested_threshold(unchanged_from(99, 30) + deletions) == 0.64


def test_it_takes_the_lowest_qualifying_probability_even_after_a_dip():
    # At 0.65: 33 of 35 (94.3 %); at 0.60: 38 of 40 (95 %) again.
    labels = [
        (probability / 100, probability not in (70, 65))
        for probability in range(60, 100)
    ]

    assert suggested_threshold(labels) == 0.60


def test_no_threshold_when_no_probability_reaches_95_percent():
    labels = [
        (probability / 100, probability % 4 != 0) for probability in range(70, 95)
    ]

    assert suggested_threshold(labels) is None


def test_labels_of_equal_probability_are_taken_together():
    labels = [*[(0.9, True)] * 20, (0.8, True), (0.8, False), (0.8, False)]

    assert suggested_threshold(labels) == 0.9


def test_the_tag_threshold_ignores_labels_under_the_default_threshold(shop, annotator):
    for number in range(20):
        make_item(shop, [kept("Apple", 0.6 + number / 100), kept("Banana", 0.49)])
    make_item(shop, [deleted("Cherry", 0.9)])

    quality = model_quality(shop.project)

    apple, banana, cherry = by_tag(quality).values()
    assert (apple.suggested_threshold, apple.threshold_sample) == (0.6, 20)
    assert (banana.suggested_threshold, banana.too_few_to_suggest) == (None, True)
    assert banana.acceptance_rate == 1.0
    assert cherry.suggested_threshold is None
    assert (quality.overall.threshold_sample, quality.overall.suggested_threshold) == (
        21,
        0.6,
    )
