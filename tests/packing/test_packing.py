import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.packing import images
from reviewer.services.packing import (
    Batch,
    PackItem,
    Unpackable,
    lower_bound,
    next_fit,
    pack,
)

TAGS = [f"t{index}" for index in range(12)]
GROUPS = [(), (("camera", "north"),), (("camera", "south"), ("shift", "night"))]


@st.composite
def packing_cases(draw, few_tags=False):
    """Draw limits and images that fit them, in up to three metadata groups."""
    max_images = draw(st.integers(1, 6))
    max_tags = draw(st.integers(1, 5))
    max_group_tags = max_tags if few_tags else len(TAGS)
    pools = {
        group: draw(
            st.lists(st.sampled_from(TAGS), min_size=1, max_size=max_group_tags)
        )
        for group in GROUPS
    }
    drawn = draw(
        st.lists(
            st.sampled_from(GROUPS).flatmap(
                lambda group: st.tuples(
                    st.just(group),
                    st.frozensets(
                        st.sampled_from(pools[group]), min_size=1, max_size=max_tags
                    ),
                )
            ),
            max_size=40,
        )
    )
    items = [PackItem(index, tags, group) for index, (group, tags) in enumerate(drawn)]
    return items, max_images, max_tags


@st.composite
def single_tag_groups(draw, sizes):
    """Draw limits and one group whose images have one tag each, tag sizes drawn."""
    max_images, max_tags, counts = draw(sizes)
    items = [
        PackItem((tag, number), frozenset({f"t{tag}"}))
        for tag, count in enumerate(counts)
        for number in range(count)
    ]
    return draw(st.permutations(items)), max_images, max_tags


def assert_packed(batches: list[Batch], items, max_images, max_tags):
    assert Counter(item.key for batch in batches for item in batch.items) == Counter(
        item.key for item in items
    )
    for batch in batches:
        tag_sets = [item.tag_ids for item in batch.items]
        assert 1 <= len(batch.items) <= max_images
        assert batch.tag_ids == frozenset().union(*tag_sets)
        assert len(batch.tag_ids) <= max_tags
        assert batch.shared_tag_ids == frozenset.intersection(*tag_sets)
        assert {item.group for item in batch.items} == {batch.group}


@given(packing_cases())
def test_it_puts_every_image_in_one_batch_within_the_limits(case):
    items, max_images, max_tags = case

    batches = pack(items, max_images=max_images, max_tags=max_tags)

    assert_packed(batches, items, max_images, max_tags)


@given(packing_cases())
def test_next_fit_also_puts_every_image_in_one_batch_within_the_limits(case):
    items, max_images, max_tags = case

    batches = next_fit(items, max_images=max_images, max_tags=max_tags)

    assert_packed(batches, items, max_images, max_tags)


@given(packing_cases())
def test_it_needs_no_more_calls_than_next_fit_nor_fewer_than_the_bound(case):
    items, max_images, max_tags = case
    limits = {"max_images": max_images, "max_tags": max_tags}

    calls = len(pack(items, **limits))

    assert lower_bound(items, **limits) <= calls <= len(next_fit(items, **limits))


@given(packing_cases())
def test_it_gives_the_same_batches_for_the_same_images(case):
    items, max_images, max_tags = case

    first = pack(items, max_images=max_images, max_tags=max_tags)

    assert pack(list(items), max_images=max_images, max_tags=max_tags) == first


@given(packing_cases(few_tags=True))
def test_it_reaches_the_bound_when_each_group_uses_few_tags(case):
    items, max_images, max_tags = case

    batches = pack(items, max_images=max_images, max_tags=max_tags)

    assert len(batches) == lower_bound(items, max_images=max_images, max_tags=max_tags)


@st.composite
def tags_of_enough_images(draw):
    """Limits, and tag sizes of at least ceil((max_images - 1) / (max_tags - 1))."""
    max_images = draw(st.integers(1, 12))
    max_tags = draw(st.integers(2, 5))
    fewest = max(1, -(-(max_images - 1) // (max_tags - 1)))
    counts = draw(st.lists(st.integers(fewest, 3 * max_images), min_size=1, max_size=9))
    return max_images, max_tags, counts


@st.composite
def tags_that_fit_together(draw):
    """Limits, and tag sizes such that any max_tags tags fit in one batch."""
    max_tags = draw(st.integers(1, 5))
    max_images = draw(st.integers(max_tags, 12))
    largest = max_images // max_tags
    counts = draw(st.lists(st.integers(1, largest), min_size=1, max_size=12))
    return max_images, max_tags, counts


@given(single_tag_groups(tags_of_enough_images()))
def test_it_reaches_the_bound_when_every_tag_has_enough_images(case):
    items, max_images, max_tags = case

    batches = pack(items, max_images=max_images, max_tags=max_tags)

    assert len(batches) == lower_bound(items, max_images=max_images, max_tags=max_tags)


@given(single_tag_groups(tags_that_fit_together()))
def test_it_reaches_the_bound_when_any_tags_fit_together(case):
    items, max_images, max_tags = case

    batches = pack(items, max_images=max_images, max_tags=max_tags)

    assert len(batches) == lower_bound(items, max_images=max_images, max_tags=max_tags)


def test_it_needs_one_call_over_the_bound_when_the_bound_cannot_be_met():
    # Two calls would need 20 whole tags each: 60 and 68 images, over 64.
    counts = {f"t{index}": 3 for index in range(39)} | {"t39": 11}
    items = [
        PackItem((tag, number), frozenset({tag}))
        for tag, count in counts.items()
        for number in range(count)
    ]

    assert lower_bound(items) == 2
    assert len(pack(items)) == 3


def test_it_shares_only_the_tags_every_image_in_the_batch_uses():
    items = [
        PackItem("a", frozenset({"apple", "pear"})),
        PackItem("b", frozenset({"apple"})),
        PackItem("c", frozenset({"apple", "plum"})),
    ]

    (batch,) = pack(items)

    assert batch.tag_ids == {"apple", "pear", "plum"}
    assert batch.shared_tag_ids == {"apple"}


def test_next_fit_closes_a_batch_when_the_next_image_brings_too_many_tags():
    items = [
        PackItem(1, frozenset({"a", "b"})),
        PackItem(2, frozenset({"c"})),
        PackItem(3, frozenset({"a"})),
    ]

    batches = next_fit(items, max_tags=2)

    assert [[item.key for item in batch.items] for batch in batches] == [[1], [2, 3]]


def test_the_bound_counts_each_group_by_its_images_or_its_tags():
    many_images = [PackItem(n, frozenset({"a"}), GROUPS[1]) for n in range(65)]
    many_tags = [PackItem(f"t{n}", frozenset({f"t{n}"}), GROUPS[2]) for n in range(41)]

    assert lower_bound(many_images + many_tags) == 2 + 3


@pytest.mark.parametrize("operation", [pack, next_fit, lower_bound])
def test_it_refuses_images_without_a_tag_or_with_too_many(operation):
    items = [
        PackItem("fine", frozenset({"a"})),
        PackItem("untagged", frozenset()),
        PackItem("crowded", frozenset({"a", "b", "c"})),
    ]

    with pytest.raises(Unpackable) as refused:
        operation(items, max_tags=2)

    assert refused.value.keys == ("untagged", "crowded")
    assert "'untagged'" in str(refused.value)


def test_it_refuses_limits_below_one():
    with pytest.raises(ValueError, match="at least one"):
        pack([PackItem(1, frozenset({"a"}))], max_images=0)


def test_it_gives_the_same_batches_whatever_the_hash_seed():
    script = (
        "from benchmarks.packing import images\n"
        "from reviewer.services.packing import pack\n"
        "items = images('1-3 tags, uniform', count=2000)\n"
        "print([[item.key for item in batch.items] for batch in pack(items)])\n"
    )

    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            check=True,
            cwd=Path(__file__).parents[2],
            env=os.environ | {"PYTHONHASHSEED": seed},
            text=True,
        ).stdout
        for seed in ("1", "2")
    }

    assert len(outputs) == 1


@pytest.mark.parametrize("name", ["1-3 tags, uniform", "1-3 tags, Zipf 1/rank^1.1"])
def test_it_needs_at_most_four_tenths_of_next_fit_on_one_to_three_tags(name):
    items = images(name)

    assert len(pack(items)) <= 0.4 * len(next_fit(items))


def test_it_reaches_the_bound_on_ten_thousand_images_with_one_tag_each():
    items = images("one tag per image")

    assert len(pack(items)) == lower_bound(items)


def test_it_beats_next_fit_on_ten_thousand_images_with_four_to_eight_tags():
    items = images("4-8 tags, adversarial")

    assert len(pack(items)) <= len(next_fit(items))
