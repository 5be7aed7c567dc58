import json

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.models import ApprovedLabel, Prediction, Review
from reviewer.services import exports
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept

TOLERANCE = 1e-3


def download(client, project):
    response = client.get(reverse("reviewer:labels-export", args=[project.pk]))
    assert response.status_code == 200
    assert response.streaming
    return response, b"".join(response.streaming_content).decode()


def exported_labels(project) -> list[ApprovedLabel]:
    return list(
        ApprovedLabel.objects.filter(
            review__project=project,
            review__state__in=exports.EXPORTED_STATES,
        ).select_related("tag")
    )


@pytest.mark.django_db(transaction=True)
def test_the_coco_file_holds_every_approved_box(client, lead, promoted):
    client.force_login(lead)
    project = promoted.project

    response, text = download(client, project)

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert ".json" in response["Content-Disposition"]
    coco = json.loads(text)
    assert coco["notes"] == []
    categories = {category["id"]: category for category in coco["categories"]}
    assert {category["name"] for category in categories.values()} == {
        "Apple",
        "Banana",
        "Cherry",
    }
    images = {image["id"]: image for image in coco["images"]}
    assert len(images) == 3
    annotations = {item["approved_label_id"]: item for item in coco["annotations"]}
    labels = exported_labels(project)
    assert len(labels) == len(annotations) == 7
    for label in labels:
        annotation = annotations[label.pk]
        image = images[annotation["image_id"]]
        assert image["prediction_id"] == str(label.review_id)
        assert image["file_name"] == f"{label.review_id}.jpg"
        category = categories[annotation["category_id"]]
        assert (category["name"], category["tag_id"]) == (
            label.tag.name,
            str(label.tag_id),
        )
        x, y, width, height = annotation["bbox"]
        normalised = (
            x / image["width"],
            y / image["height"],
            width / image["width"],
            height / image["height"],
        )
        assert normalised == pytest.approx(label.box, abs=TOLERANCE)
        assert annotation["area"] == pytest.approx(width * height, abs=0.1)
        assert annotation["iscrowd"] == 0
        assert annotation["source"] == ("predicted" if label.source_id else "added")
    assert len({annotation["id"] for annotation in annotations.values()}) == 7


@pytest.mark.django_db
def test_each_image_size_is_read_from_the_service_once(approved, monkeypatch):
    project = approved.project

    json.loads("".join(exports.coco_json(project)))

    sizes = set(Prediction.objects.values_list("image_width", "image_height"))
    assert sizes == {(1024, 768)}

    def no_fetch(prediction, size):
        raise AssertionError("the size was read again")

    monkeypatch.setattr(exports, "prediction_image", no_fetch)
    coco = json.loads("".join(exports.coco_json(project)))
    assert {(image["width"], image["height"]) for image in coco["images"]} == {
        (1024, 768)
    }


@pytest.mark.django_db
def test_an_image_the_service_lost_keeps_its_boxes_normalised(emulator, approved):
    project = approved.project
    lost = approved.predictions[0]
    emulator.state.delete_predictions(str(project.pk), [lost])

    coco = json.loads("".join(exports.coco_json(project)))

    (note,) = coco["notes"]
    assert lost in note
    images = {image["prediction_id"]: image for image in coco["images"]}
    assert len(images) == 4
    assert (images[lost]["width"], images[lost]["height"]) == (None, None)
    boxes = [
        annotation
        for annotation in coco["annotations"]
        if annotation["image_id"] == images[lost]["id"]
    ]
    expected = {label.box for label in ApprovedLabel.objects.filter(review_id=lost)}
    assert {tuple(box["bbox_normalised"]) for box in boxes} == expected
    assert all(box["bbox"] is None for box in boxes)
    others = [
        annotation for annotation in coco["annotations"] if annotation not in boxes
    ]
    assert len(others) == 6
    assert all(annotation["bbox"] for annotation in others)


@pytest.mark.django_db
def test_the_classification_labels_are_one_json_line_per_image(
    client, lead, annotator, classification_project
):
    project = classification_project.project
    bulk_accept(project, QueueFilters(), 0.5, annotator, timezone.now())
    client.force_login(lead)

    response, text = download(client, project)

    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert ".jsonl" in response["Content-Disposition"]
    lines = [json.loads(line) for line in text.splitlines()]
    approved = Review.objects.filter(project=project, state="approved")
    assert len(lines) == approved.count() == 3
    for line in lines:
        review = approved.get(pk=line["prediction_id"])
        tags = [label.tag for label in review.approved_labels.select_related("tag")]
        assert line["tags"] == [tag.name for tag in tags]
        assert line["tag_ids"] == [str(tag.pk) for tag in tags]
        assert line["project_id"] == str(project.pk)
        assert line["reviewer"] == "ann"
        assert line["approved_at"].endswith("Z")


@pytest.mark.django_db
def test_only_reviewed_images_are_exported(approved):
    project = approved.project
    Review.objects.filter(pk=approved.predictions[0]).update(state="rejected")

    coco = json.loads("".join(exports.coco_json(project)))

    assert approved.predictions[0] not in {
        image["prediction_id"] for image in coco["images"]
    }
    assert len(coco["images"]) == 3
