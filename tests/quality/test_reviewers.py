from datetime import timedelta

import pytest

from reviewer.models import ReviewState
from reviewer.services.quality import active_time, reviewer_quality
from tests.quality.rows import MONDAY, kept, make_item, moved

pytestmark = pytest.mark.django_db


def minutes(*offsets: int) -> list:
    return [MONDAY + timedelta(minutes=offset) for offset in offsets]


def test_active_time_caps_each_gap_at_five_minutes_and_adds_one_for_the_first():
    assert active_time(minutes(0, 1, 3, 60, 61)) == timedelta(minutes=5 + 1 + 2 + 5 + 1)
    assert active_time(minutes(0)) == timedelta(minutes=5)
    assert active_time([]) == timedelta()


def test_speed_counts_decisions_by_hand_over_capped_active_time(shop, annotator):
    for at in minutes(0, 1, 3, 60):
        make_item(shop, [kept("Apple", 0.9)], by=annotator, at=at)
    make_item(shop, state=ReviewState.REJECTED, by=annotator, at=minutes(61)[0])
    make_item(shop, [kept("Apple", 0.9)], by=annotator, at=minutes(30)[0], bulk=True)
    make_item(shop, state=ReviewState.SKIPPED, by=annotator, at=minutes(31)[0])

    [ann] = reviewer_quality(shop.project)

    assert (ann.name, ann.decided, ann.active_seconds) == ("ann", 5, 14 * 60)
    assert ann.items_per_hour == pytest.approx(5 * 60 / 14)


def test_it_measures_how_often_a_reviewer_accepts_unchanged(shop, annotator):
    make_item(shop, [kept("Apple", 0.9)], by=annotator)
    make_item(shop, [kept("Apple", 0.8), kept("Banana", 0.7)], by=annotator)
    make_item(shop, [moved("Apple", 0.9)], by=annotator)
    make_item(shop, state=ReviewState.REJECTED, by=annotator)

    [ann] = reviewer_quality(shop.project)

    assert (ann.decided, ann.approved, ann.approved_unchanged) == (4, 3, 2)
    assert ann.unchanged_share == pytest.approx(2 / 3)


def test_it_measures_low_probability_items_accepted_unchanged(shop, annotator):
    make_item(shop, [kept("Apple", 0.3)], by=annotator)
    make_item(shop, [kept("Apple", 0.45)], by=annotator, hidden=[("Banana", 0.2)])
    make_item(shop, [moved("Apple", 0.4)], by=annotator)
    make_item(shop, [kept("Apple", 0.3)], by=annotator, hidden=[("Banana", 0.5)])
    make_item(shop, [kept("Apple", 0.9)], by=annotator)
    make_item(shop, state=ReviewState.REJECTED, by=annotator, hidden=[("Apple", 0.2)])
    make_item(shop, [kept("Apple", 0.1)], by=annotator, bulk=True)

    [ann] = reviewer_quality(shop.project)

    assert (ann.low_approved, ann.low_approved_unchanged) == (3, 2)
    assert ann.low_unchanged_share == pytest.approx(2 / 3)


def test_each_reviewer_gets_their_own_row(shop, annotator, bea):
    make_item(shop, [kept("Apple", 0.9)], by=annotator)
    make_item(shop, state=ReviewState.REJECTED, by=bea)
    make_item(shop, [kept("Apple", 0.9)])

    ann, bea_row = reviewer_quality(shop.project)

    assert (ann.name, ann.decided, ann.unchanged_share) == ("ann", 1, 1.0)
    assert (bea_row.name, bea_row.decided, bea_row.unchanged_share) == ("bea", 1, None)
    assert (bea_row.low_unchanged_share, bea_row.items_per_hour) == (None, 12.0)
