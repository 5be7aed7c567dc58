"""Signed picture links, their expiry, and GetArtifact for relative paths."""

import io
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

SIZES = {
    "thumbnailUri": (150, "JPEG"),
    "resizedImageUri": (512, "JPEG"),
    "originalImageUri": (1024, "PNG"),
}


def first_result(api, project_id: str) -> dict:
    return api.query(project_id, maxCount=1).json()["results"][0]


@pytest.mark.parametrize(("field", "expected"), SIZES.items())
def test_it_serves_each_size_to_anyone_holding_the_link(api, shelf, field, expected):
    link = first_result(api, shelf.id)[field]

    response = requests.get(link, timeout=5)

    picture = Image.open(io.BytesIO(response.content))
    assert (picture.width, picture.format) == expected
    assert "se=" in urlsplit(link).query
    assert "sig=" in urlsplit(link).query


def test_it_draws_the_same_picture_every_time(api, shelf):
    first = requests.get(first_result(api, shelf.id)["resizedImageUri"], timeout=5)
    again = requests.get(first_result(api, shelf.id)["resizedImageUri"], timeout=5)

    assert first.content == again.content


def test_it_refuses_an_expired_link(emulator, api, shelf):
    emulator.config.uri_ttl = 0

    response = requests.get(first_result(api, shelf.id)["thumbnailUri"], timeout=5)

    assert response.status_code == 403
    assert b"AuthenticationFailed" in response.content


def test_it_refuses_a_tampered_link(api, shelf, fruit):
    link = first_result(api, shelf.id)["thumbnailUri"]

    response = requests.get(link.replace(shelf.id, fruit.id), timeout=5)

    assert response.status_code == 403


def test_it_serves_project_thumbnails(api, shelf):
    link = api.get(f"/projects/{shelf.id}").json()["thumbnailUri"]

    assert requests.get(link, timeout=5).headers["Content-Type"] == "image/jpeg"


def test_it_gives_relative_paths_to_fetch_with_get_artifact(emulator, api, shelf):
    emulator.config.relative_uris = True
    path = first_result(api, shelf.id)["originalImageUri"]

    response = api.get(f"/projects/{shelf.id}/artifacts", params={"path": path})

    assert not path.startswith("http")
    assert Image.open(io.BytesIO(response.content)).format == "PNG"


def test_it_wants_the_key_for_get_artifact(emulator, api, shelf):
    emulator.config.relative_uris = True
    path = first_result(api, shelf.id)["thumbnailUri"]
    api.session.headers.pop("Training-Key")

    response = api.get(f"/projects/{shelf.id}/artifacts", params={"path": path})

    assert response.status_code == 401


def test_it_answers_404_for_a_deleted_prediction_s_artifact(emulator, api, shelf):
    emulator.config.relative_uris = True
    path = first_result(api, shelf.id)["thumbnailUri"]
    api.delete(
        f"/projects/{shelf.id}/predictions", params={"ids": shelf.predictions[0]}
    )

    response = api.get(f"/projects/{shelf.id}/artifacts", params={"path": path})

    assert response.status_code == 404
