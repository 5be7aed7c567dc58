"""Properties of the review save path over generated labels, valid and hostile.

Whatever the labels, `decide` either saves labels that keep every rule of the
service, or raises a ReviewError and changes nothing. The world is built once per
test; each example runs in a savepoint that is rolled back.
"""

import json
import math
from uuid import UUID

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reviewer.customvision.limits import (
    MAX_REGIONS_PER_IMAGE,
    MAX_TAGS_PER_IMAGE,
    TAG_NEGATIVE,
)
from reviewer.models import (
    ApprovedLabel,
    PredictedLabel,
    Project,
    Review,
    ReviewState,
    Tag,
)
from reviewer.services.review import ReviewError, decide
from tests.hostile.world import World, snapshot

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# A saved box is clipped to the image; float rounding may pass the edge by an ulp.
EDGE = 1e-12
REGULAR = ("Apple", "Banana", "Cherry")

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
edges = st.sampled_from([0, 1, 1e-10, 1 - 1e-10, 5e-324, 1 + 1e-10, -5e-324])
plausible = st.floats(min_value=0, max_value=1) | edges
coordinates = st.one_of(
    plausible,
    st.floats(min_value=-0.01, max_value=1.01),
    st.floats(),
    st.sampled_from([-1, 1e308, -1e308, 10**400, math.nan, math.inf, -math.inf]),
    json_leaves,
)
texts = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
    json_values.map(json.dumps),
)
boxes = st.one_of(
    st.lists(plausible, min_size=4, max_size=4),
    st.lists(coordinates, min_size=4, max_size=4),
    st.lists(coordinates, max_size=6),
    json_values,
)


def tags_of(world: World, names: dict[str, str]) -> st.SearchStrategy:
    """Real tag ids of the project mixed with foreign, unknown and garbage ones."""
    foreign = [*world.class_tags.values(), *world.tags.values()]
    return st.one_of(
        st.sampled_from(list(names.values())),
        st.sampled_from(foreign),
        st.uuids().map(str),
        json_values,
    )


def sources_of(world: World) -> st.SearchStrategy:
    """The item's own predicted labels, another item's, and garbage."""
    return st.one_of(
        st.none(),
        st.sampled_from(_own_sources(world)),
        st.just(world.other_source),
        st.integers(),
        json_values,
    )


def labels_of(
    tags: st.SearchStrategy, sources: st.SearchStrategy, shapes: st.SearchStrategy
) -> st.SearchStrategy:
    """Lists of labels: mostly well-formed objects, sometimes anything at all."""
    label = st.fixed_dictionaries(
        {"tag": tags, "source": sources, "box": shapes}
    ) | st.fixed_dictionaries({"tag": tags}, optional={"box": shapes})
    return st.one_of(
        st.lists(label, max_size=4),
        st.lists(label | json_values, max_size=3),
        json_values,
    )


@st.composite
def edge_boxes(draw: st.DrawFn) -> list[float]:
    """A box in the image or just past its edge, by a rounding or by more."""
    left, top = draw(plausible), draw(plausible)
    overshoot = st.sampled_from([0, 0, 1e-12, 1e-9, 2e-9, 0.1])
    width = draw(st.floats(0, 1)) * (1 - left) + draw(overshoot)
    height = draw(st.floats(0, 1)) * (1 - top) + draw(overshoot)
    return [left, top, width, height]


def plausible_boxes(world: World) -> st.SearchStrategy:
    """Boxes of the project's tags near the edges of what the rules allow."""
    label = st.fixed_dictionaries(
        {
            "tag": st.sampled_from([world.tags[name] for name in REGULAR]),
            "source": st.none() | st.sampled_from(_own_sources(world)),
            "box": edge_boxes(),
        }
    )
    return st.lists(label, min_size=1, max_size=3)


def plausible_tags(world: World) -> st.SearchStrategy:
    """One or two of the classification project's tags, the negative one among them."""
    label = st.fixed_dictionaries(
        {"tag": st.sampled_from(list(world.class_tags.values()))}
    )
    return st.lists(label, min_size=1, max_size=2)


def _own_sources(world: World) -> list[int]:
    labels = PredictedLabel.objects.filter(prediction_id=world.item)
    return list(labels.values_list("pk", flat=True))


@EXAMPLES
@given(data=st.data())
def test_a_detection_decision_saves_only_valid_boxes(world, data):
    hostile = labels_of(tags_of(world, world.tags), sources_of(world), boxes)
    labels = data.draw(plausible_boxes(world) if data.draw(st.booleans()) else hostile)

    outcome = _decide_and_roll_back(world, world.item, labels)

    event("saved" if outcome is not None else "refused")
    if outcome is not None:
        _assert_boxes_keep_the_rules(world, outcome, len(labels))


@EXAMPLES
@given(data=st.data())
def test_a_classification_decision_saves_only_valid_tags(world, data):
    hostile = labels_of(tags_of(world, world.class_tags), st.none(), st.none() | boxes)
    labels = data.draw(plausible_tags(world) if data.draw(st.booleans()) else hostile)

    outcome = _decide_and_roll_back(world, world.class_item, labels)

    event("saved" if outcome is not None else "refused")
    if outcome is not None:
        _assert_tags_keep_the_rules(world, outcome, len(labels))


@EXAMPLES
@given(count=st.integers(MAX_REGIONS_PER_IMAGE - 2, MAX_REGIONS_PER_IMAGE + 3))
def test_a_decision_holds_at_most_300_boxes(world, count):
    labels = [{"tag": world.tags["Apple"], "box": [0, 0, 0.5, 0.5]}] * count

    outcome = _decide_and_roll_back(world, world.item, labels)

    assert (outcome is not None) == (count <= MAX_REGIONS_PER_IMAGE)


@settings(EXAMPLES, max_examples=200)
@given(text=texts)
def test_any_text_saves_labels_or_is_refused_with_a_reason(world, text):
    outcome = _decide_and_roll_back(world, world.item, text)

    if outcome is not None:
        _assert_boxes_keep_the_rules(world, outcome, len(json.loads(text)))


def _decide_and_roll_back(world: World, item: UUID, labels: object) -> list | None:
    """Decide, read back what was saved, then undo it all; None when refused.

    Labels that are not text are sent as JSON, as the browser sends them.
    """
    annotator = world.users["annotator"]
    text = labels if isinstance(labels, str) else json.dumps(labels)
    with transaction.atomic():
        before = snapshot()
        try:
            decide(item, annotator, "accept", 0, text, timezone.now())
        except ReviewError as refusal:
            assert str(refusal)
            assert snapshot() == before
            saved = None
        else:
            assert Review.objects.get(pk=item).state == ReviewState.APPROVED
            approved = ApprovedLabel.objects.filter(review_id=item)
            saved = list(approved.select_related("tag", "source"))
        transaction.set_rollback(True)
    return saved


def _assert_boxes_keep_the_rules(world: World, saved: list, sent: int) -> None:
    assert 0 < len(saved) == sent <= MAX_REGIONS_PER_IMAGE
    for label in saved:
        _assert_tag_of(world, label.tag)
        assert label.tag.type != TAG_NEGATIVE
        assert label.source is None or str(label.source.prediction_id) == str(
            world.item
        )
        assert all(math.isfinite(value) for value in label.box)
        assert label.left >= 0 and label.top >= 0
        assert label.width > 0 and label.height > 0
        assert label.left + label.width <= 1 + EDGE
        assert label.top + label.height <= 1 + EDGE


def _assert_tags_keep_the_rules(world: World, saved: list, sent: int) -> None:
    assert 0 < len(saved) == sent <= MAX_TAGS_PER_IMAGE
    assert len(saved) == 1
    _assert_tag_of(world, saved[0].tag, world.classes)
    assert saved[0].box is None


def _assert_tag_of(world: World, tag: Tag, project: Project | None = None) -> None:
    assert tag.project_id == (project or world.project).pk
    assert tag.removed_at is None
