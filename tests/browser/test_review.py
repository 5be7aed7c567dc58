"""The review screen in Chromium: the box editor, the tag picker and the keys."""

import json
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from reviewer.customvision.limits import (
    CLASSIFICATION_MULTILABEL,
    DOMAIN_CLASSIFICATION,
    TAG_NEGATIVE,
)
from reviewer.models import ApprovedLabel, PredictedLabel, Review, ReviewState
from tests.fixtures.projects import sync

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash the annotator's password cheaply; every test logs in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_script_errors(page):
    """Fail a test whose page threw an uncaught JavaScript error."""
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    yield
    assert errors == []


@pytest.fixture
def multilabel_project(emulator, cv_client, cv_settings, db):
    """A multilabel project with a negative tag and one prediction."""
    state = emulator.state
    remote = state.add_project(
        "Basket",
        domain_type=DOMAIN_CLASSIFICATION,
        classification_type=CLASSIFICATION_MULTILABEL,
    )
    tags = {name: state.add_tag(remote["id"], name)["id"] for name in ("Apple", "Pear")}
    tags["Nothing"] = state.add_tag(remote["id"], "Nothing", TAG_NEGATIVE)["id"]
    iteration = state.add_iteration(remote["id"], "Iteration 1")["id"]
    state.add_prediction(
        remote["id"],
        iteration,
        [
            {"tag_id": tags["Apple"], "probability": 0.8},
            {"tag_id": tags["Pear"], "probability": 0.3},
        ],
    )
    return SimpleNamespace(project=sync(cv_client, remote["id"]), tags=tags)


def start_reviewing(page, log_in, project, boxes=True):
    """Log in, open the queue and press R, as an annotator starts a session."""
    log_in("ann", "ann-password-1")
    page.goto(f"/projects/{project.pk}/")
    page.keyboard.press("r")
    page.wait_for_url(f"**/projects/{project.pk}/review/*/")
    if boxes:
        page.locator("#review-overlay .region").first.wait_for()
    return page.locator("#review-card").get_attribute("data-prediction")


def labels(page):
    return json.loads(page.locator("#review-labels").input_value())


def decide(page, key, current):
    """Press a decision key and wait until the card shows another item."""
    page.keyboard.press(key)
    expect(page.locator("#review-card")).not_to_have_attribute(
        "data-prediction", current
    )


def saved(prediction_id):
    review = Review.objects.get(pk=prediction_id)
    return review, list(review.approved_labels.order_by("id"))


def source_of(prediction_id, tag_id):
    return PredictedLabel.objects.get(prediction_id=prediction_id, tag_id=tag_id).pk


def region(page, prediction_id, tag_id):
    return page.locator(
        f'#review-overlay .region[data-source="{source_of(prediction_id, tag_id)}"]'
    )


def image_point(page, x, y):
    """Return the page coordinates of a point given in fractions of the image."""
    box = page.locator("#review-image").bounding_box()
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def drag(page, start, end):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=5)
    page.mouse.up()


def centre(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_it_accepts_with_a_and_shows_the_next_item(
    page, log_in, annotator, detection_project
):
    tags = detection_project.tags
    first = start_reviewing(page, log_in, detection_project.project)

    decide(page, "a", first)

    review, approved = saved(first)
    assert review.state == ReviewState.APPROVED
    assert review.changed is False
    assert {(str(label.tag_id), label.source_id) for label in approved} == {
        (tags["Apple"], source_of(first, tags["Apple"])),
        (tags["Banana"], source_of(first, tags["Banana"])),
    }
    expect(page.locator("#review-overlay .region")).to_have_count(2)


def test_it_draws_each_box_with_its_tag_and_probability_over_the_image(
    page, log_in, annotator, detection_project
):
    first = start_reviewing(page, log_in, detection_project.project)

    captions = page.locator("#review-overlay .region-caption text").all_text_contents()
    assert sorted(captions) == ["Apple 0.95", "Banana 0.52"]
    apple = region(page, first, detection_project.tags["Apple"]).locator(".region-box")
    image = page.locator("#review-image").bounding_box()
    box = apple.bounding_box()
    assert (box["x"] - image["x"]) / image["width"] == pytest.approx(0.1, abs=0.01)
    assert box["width"] / image["width"] == pytest.approx(0.2, abs=0.01)

    page.set_viewport_size({"width": 700, "height": 600})

    page.wait_for_function(
        "width => document.getElementById('review-image').clientWidth !== width",
        arg=round(image["width"]),
    )
    image = page.locator("#review-image").bounding_box()
    box = apple.bounding_box()
    assert (box["x"] - image["x"]) / image["width"] == pytest.approx(0.1, abs=0.01)
    assert box["height"] / image["height"] == pytest.approx(0.2, abs=0.01)


def test_tab_selects_boxes_least_confident_first_then_moves_on(
    page, log_in, annotator, detection_project
):
    first = start_reviewing(page, log_in, detection_project.project)
    selected = page.locator("#review-overlay .region.is-selected")

    page.keyboard.press("Tab")
    expect(selected).to_have_attribute(
        "data-source", str(source_of(first, detection_project.tags["Banana"]))
    )
    expect(selected.locator(".region-handle")).to_have_count(8)
    page.keyboard.press("Tab")
    expect(selected).to_have_attribute(
        "data-source", str(source_of(first, detection_project.tags["Apple"]))
    )
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#review-status")).to_contain_text("Selected: Banana 0.52")
    page.keyboard.press("Escape")
    expect(selected).to_have_count(0)

    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(selected).to_have_count(0)
    expect(page.locator("#review-threshold")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#review-threshold-value")).to_have_text("0.49")
    page.keyboard.press("Escape")
    expect(page.locator("#review-stage")).to_be_focused()


def test_it_retags_the_selected_box_with_a_number_key(
    page, log_in, annotator, detection_project
):
    tags = detection_project.tags
    first = start_reviewing(page, log_in, detection_project.project)

    page.keyboard.press("Tab")
    page.keyboard.press("1")

    expect(page.locator("#review-overlay .is-selected text")).to_have_text(
        "Apple (was Banana 0.52)"
    )
    decide(page, "a", first)
    review, approved = saved(first)
    assert [str(label.tag_id) for label in approved] == [tags["Apple"], tags["Apple"]]
    assert review.changed is True


def test_it_retags_the_selected_box_with_a_click_on_the_picker(
    page, log_in, annotator, detection_project
):
    first = start_reviewing(page, log_in, detection_project.project)
    region(page, first, detection_project.tags["Apple"]).locator(".region-box").click()

    page.locator(".tag-choice", has_text="Cherry").click()

    assert [label["tag"] for label in labels(page)] == [
        detection_project.tags["Cherry"],
        detection_project.tags["Banana"],
    ]
    page.keyboard.press("Escape")
    expect(page.locator("#review-overlay .is-selected")).to_have_count(0)


def test_it_resizes_a_box_by_dragging_a_handle(
    page, log_in, annotator, detection_project
):
    apple_tag = detection_project.tags["Apple"]
    first = start_reviewing(page, log_in, detection_project.project)
    apple = region(page, first, apple_tag)
    apple.locator(".region-box").click()
    right, top = centre(apple.locator('[data-handle="e"]'))
    image = page.locator("#review-image").bounding_box()

    drag(page, (right, top), (right + 0.1 * image["width"], top + 40))
    page.locator('#review-overlay [data-handle="nw"]').wait_for()
    left, upper = centre(apple.locator('[data-handle="nw"]'))
    drag(page, (left, upper), (left - 0.05 * image["width"], upper))

    decide(page, "a", first)
    [label] = [label for label in saved(first)[1] if str(label.tag_id) == apple_tag]
    assert label.left == pytest.approx(0.05, abs=0.005)
    assert label.top == pytest.approx(0.1, abs=0.001)
    assert label.width == pytest.approx(0.35, abs=0.005)
    assert label.height == pytest.approx(0.2, abs=0.001)


def test_it_moves_a_box_by_dragging_it(page, log_in, annotator, detection_project):
    apple_tag = detection_project.tags["Apple"]
    first = start_reviewing(page, log_in, detection_project.project)

    drag(page, image_point(page, 0.2, 0.2), image_point(page, 0.3, 0.25))

    decide(page, "a", first)
    [label] = [label for label in saved(first)[1] if str(label.tag_id) == apple_tag]
    assert label.left == pytest.approx(0.2, abs=0.005)
    assert label.top == pytest.approx(0.15, abs=0.005)
    assert (label.width, label.height) == (pytest.approx(0.2), pytest.approx(0.2))


def test_it_nudges_and_resizes_the_selected_box_with_arrow_keys(
    page, log_in, annotator, detection_project
):
    banana_tag = detection_project.tags["Banana"]
    first = start_reviewing(page, log_in, detection_project.project)

    page.keyboard.press("Tab")
    for key in ("ArrowRight", "ArrowRight", "ArrowDown", "Shift+ArrowLeft"):
        page.keyboard.press(key)
    for key in ("Alt+ArrowRight", "Alt+ArrowRight", "Alt+ArrowLeft"):
        page.keyboard.press(key)
    page.keyboard.press("Alt+Shift+ArrowUp")

    decide(page, "a", first)
    [label] = [label for label in saved(first)[1] if str(label.tag_id) == banana_tag]
    assert label.left == pytest.approx(0.46)
    assert label.top == pytest.approx(0.505)
    assert label.width == pytest.approx(0.305)
    assert label.height == pytest.approx(0.25)


def test_it_draws_a_new_box_with_the_current_tag_by_dragging_on_empty_image(
    page, log_in, annotator, detection_project
):
    cherry_tag = detection_project.tags["Cherry"]
    first = start_reviewing(page, log_in, detection_project.project)

    page.keyboard.press("3")
    expect(page.locator(".tag-choice", has_text="Cherry")).to_have_attribute(
        "aria-pressed", "true"
    )
    drag(page, image_point(page, 0.35, 0.05), image_point(page, 0.45, 0.35))

    expect(page.locator('#review-overlay .region[data-source="added"]')).to_have_text(
        "Cherry added"
    )
    decide(page, "a", first)
    [added] = [label for label in saved(first)[1] if label.source_id is None]
    assert str(added.tag_id) == cherry_tag
    assert added.left == pytest.approx(0.35, abs=0.005)
    assert added.top == pytest.approx(0.05, abs=0.005)
    assert added.width == pytest.approx(0.1, abs=0.005)
    assert added.height == pytest.approx(0.3, abs=0.005)


def test_a_click_on_empty_image_only_clears_the_selection(
    page, log_in, annotator, detection_project
):
    start_reviewing(page, log_in, detection_project.project)
    page.keyboard.press("Tab")

    page.mouse.click(*image_point(page, 0.4, 0.2))

    expect(page.locator("#review-overlay .is-selected")).to_have_count(0)
    assert page.locator("#review-overlay .region").count() == 2
    assert len(labels(page)) == 2


def test_delete_removes_the_selected_box_and_ctrl_z_restores_it(
    page, log_in, annotator, detection_project
):
    tags = detection_project.tags
    first = start_reviewing(page, log_in, detection_project.project)
    boxes = page.locator("#review-overlay .region")

    page.keyboard.press("Tab")
    page.keyboard.press("Delete")
    expect(boxes).to_have_count(1)
    assert [label["tag"] for label in labels(page)] == [tags["Apple"]]

    page.keyboard.press("Control+z")
    expect(boxes).to_have_count(2)
    assert len(labels(page)) == 2
    page.keyboard.press("Control+Shift+z")
    expect(boxes).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(boxes).to_have_count(2)
    page.keyboard.press("Control+y")
    expect(boxes).to_have_count(1)

    decide(page, "a", first)
    assert [str(label.tag_id) for label in saved(first)[1]] == [tags["Apple"]]


def test_a_refused_accept_keeps_the_edits_on_screen(
    page, log_in, annotator, detection_project
):
    first = start_reviewing(page, log_in, detection_project.project)
    for _ in range(2):
        page.keyboard.press("Tab")
        page.keyboard.press("Backspace")

    page.keyboard.press("a")

    expect(page.locator("#review-problems")).to_contain_text("Add a box")
    page.keyboard.press("Control+z")
    expect(page.locator("#review-overlay .region")).to_have_count(1)
    decide(page, "a", first)
    assert len(saved(first)[1]) == 1


@pytest.mark.parametrize(
    ("key", "state"), [("r", ReviewState.REJECTED), ("s", ReviewState.SKIPPED)]
)
def test_it_rejects_and_skips_from_the_keyboard(
    page, log_in, annotator, detection_project, key, state
):
    first = start_reviewing(page, log_in, detection_project.project)

    decide(page, key, first)

    review, approved = saved(first)
    assert review.state == state
    assert approved == []


def test_u_undoes_the_last_decision(page, log_in, annotator, detection_project):
    first = start_reviewing(page, log_in, detection_project.project)
    decide(page, "a", first)

    page.keyboard.press("u")

    expect(page.locator("#review-card")).to_have_attribute("data-prediction", first)
    page.locator("#review-overlay .region").first.wait_for()
    review, approved = saved(first)
    assert review.state == ReviewState.TO_REVIEW
    assert approved == []


def test_the_threshold_slider_hides_and_brings_back_boxes(
    page, log_in, annotator, detection_project
):
    tags = detection_project.tags
    first = start_reviewing(page, log_in, detection_project.project)
    slider = page.locator("#review-threshold")
    boxes = page.locator("#review-overlay .region")

    slider.fill("0.6")
    expect(boxes).to_have_count(1)
    assert [label["tag"] for label in labels(page)] == [tags["Apple"]]
    slider.fill("0")
    expect(boxes).to_have_count(3)
    expect(page.locator("#review-threshold-value")).to_have_text("0.00")

    page.reload()
    expect(boxes).to_have_count(3)
    expect(slider).to_have_value("0")
    decide(page, "a", first)
    assert {str(label.tag_id) for label in saved(first)[1]} == set(tags.values())


def test_keys_still_work_after_the_mouse_used_the_slider(
    page, log_in, annotator, detection_project
):
    start_reviewing(page, log_in, detection_project.project)

    page.locator("#review-threshold").click()
    page.keyboard.press("Tab")

    expect(page.locator("#review-overlay .is-selected")).to_have_count(1)
    expect(page.locator("#review-stage")).to_be_focused()


def test_the_question_mark_opens_the_keys_list(
    page, log_in, annotator, detection_project
):
    start_reviewing(page, log_in, detection_project.project)
    dialog = page.locator("#review-keys")

    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    page.keyboard.press("a")
    page.keyboard.press("Escape")

    expect(dialog).to_be_hidden()
    assert not Review.objects.filter(state=ReviewState.APPROVED).exists()


def test_the_next_items_image_is_fetched_before_the_decision(
    page, log_in, annotator, detection_project
):
    first = start_reviewing(page, log_in, detection_project.project)
    following = page.locator('link[rel="prefetch"]').get_attribute("href")

    # Waits until the browser has fetched it, without a decision.
    page.wait_for_function(
        "href => performance.getEntriesByType('resource')"
        ".some(entry => entry.name.endsWith(href))",
        arg=following,
    )
    decide(page, "a", first)
    assert following in page.locator("#review-card img").first.get_attribute("src")


def test_the_decisions_have_plain_names_and_the_keys_list_names_every_key(
    page, log_in, annotator, detection_project
):
    start_reviewing(page, log_in, detection_project.project)

    for name, key in (("Accept", "A"), ("Reject", "R"), ("Skip", "S")):
        button = page.get_by_role("button", name=name, exact=True)
        expect(button).to_have_attribute("aria-keyshortcuts", key)
    page.keyboard.press("?")
    listed = page.locator("#review-keys").inner_text()
    for key in ("A", "R", "S", "U", "Tab", "Shift", "Alt", "Delete", "Ctrl", "Esc"):
        assert key in listed, key


def test_it_picks_a_class_with_its_number_key(
    page, log_in, annotator, classification_project
):
    tags = classification_project.tags
    first = start_reviewing(page, log_in, classification_project.project, boxes=False)
    pear = page.locator(".tag-choice", has_text="Pear")
    apple = page.locator(".tag-choice", has_text="Apple")
    expect(apple).to_have_attribute("aria-pressed", "true")

    page.keyboard.press(pear.locator("kbd").inner_text())

    expect(pear).to_have_attribute("aria-pressed", "true")
    expect(apple).to_have_attribute("aria-pressed", "false")
    decide(page, "a", first)
    [label] = saved(first)[1]
    assert str(label.tag_id) == tags["Pear"]
    assert label.source_id == source_of(first, tags["Pear"])
    assert label.left is None


def test_a_negative_tag_is_exclusive(page, log_in, annotator, multilabel_project):
    tags = multilabel_project.tags
    first = start_reviewing(page, log_in, multilabel_project.project, boxes=False)
    pressed = page.locator('.tag-choice[aria-pressed="true"]')
    expect(pressed).to_have_text("1 Apple 0.80")

    page.locator(".tag-choice", has_text="Pear").click()
    expect(pressed).to_have_count(2)
    page.locator(".tag-choice", has_text="Nothing").click()
    expect(pressed).to_have_count(1)
    assert labels(page) == [{"tag": tags["Nothing"], "source": None, "box": None}]
    page.keyboard.press("1")
    expect(pressed).to_have_count(1)
    assert [label["tag"] for label in labels(page)] == [tags["Apple"]]

    decide(page, "a", first)
    [label] = saved(first)[1]
    assert str(label.tag_id) == tags["Apple"]


def test_the_queue_counts_move_after_decisions(
    page, log_in, annotator, detection_project
):
    project = detection_project.project
    log_in("ann", "ann-password-1")
    page.goto(f"/projects/{project.pk}/")
    for key, number in (("to_review", 4), ("approved", 0), ("rejected", 0)):
        expect(page.locator(f'[data-count="{key}"]')).to_have_text(str(number))

    first = start_reviewing(page, log_in, project)
    decide(page, "a", first)
    decide(page, "r", page.locator("#review-card").get_attribute("data-prediction"))

    page.goto(f"/projects/{project.pk}/")

    for key, number in (("to_review", 2), ("approved", 1), ("rejected", 1)):
        expect(page.locator(f'[data-count="{key}"]')).to_have_text(str(number))
    assert ApprovedLabel.objects.filter(review__project=project).count() == 2
