"""Faults the emulator cannot make, served by a scripted local server."""

import json
import logging
import socket

import pytest

from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.errors import (
    MalformedResponseError,
    ServiceError,
    TransportError,
)
from reviewer.customvision.types import BatchImage, ImageBatch

KEY = "scripted-secret-key-0123456789"
PROJECT = "0d8a8ea8-1c1c-4f6e-9f5e-8a0f5c7e2b11"
CLIENT_LOGGER = "reviewer.customvision"
BATCH = ImageBatch(images=(BatchImage("p1", tag_ids=("t1",)),))


@pytest.fixture
def client(scripted_server):
    client = CustomVisionClient(scripted_server.endpoint, KEY, retries=0)
    yield client
    client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_gives_a_sane_message_for_a_502_that_is_not_json(
    client, scripted_server, caplog
):
    scripted_server.reply(502, "<html><body>Bad Gateway</body></html>\r\n" * 40)

    with pytest.raises(ServiceError) as caught:
        client.get_projects()

    assert caught.value.retryable
    assert caught.value.status == 502
    assert caught.value.message.startswith("<html><body>Bad Gateway")
    assert len(caught.value.message) < 300
    assert any(record.levelno == logging.WARNING for record in caplog.records)


def test_it_raises_malformed_for_a_truncated_json_answer(client, scripted_server):
    scripted_server.reply(200, '[{"id": "p1", "name": "Shel')

    with pytest.raises(MalformedResponseError) as caught:
        client.get_projects()

    assert caught.value.operation == "GetProjects"
    assert caught.value.status == 200


def test_it_raises_malformed_for_an_answer_of_the_wrong_shape(
    client, scripted_server, caplog
):
    scripted_server.reply(200, json.dumps({"projects": []}))

    with pytest.raises(MalformedResponseError):
        client.get_projects()

    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert "projects" in warning.getMessage()


def test_it_says_a_malformed_create_answer_may_have_created_images(
    client, scripted_server
):
    scripted_server.reply(200, json.dumps({"isBatchSuccessful": True, "images": 3}))

    with pytest.raises(MalformedResponseError) as caught:
        client.create_images_from_predictions(PROJECT, BATCH)

    assert caught.value.outcome_unknown


def test_it_says_a_create_cut_off_mid_answer_has_an_unknown_outcome(
    client, scripted_server
):
    scripted_server.reply(200, b'{"isBatch', content_length=500)

    with pytest.raises(TransportError) as caught:
        client.create_images_from_predictions(PROJECT, BATCH)

    assert caught.value.outcome_unknown
    assert caught.value.retryable
    assert len(scripted_server.received) == 1


def test_it_says_a_create_that_could_not_connect_was_not_processed():
    client = CustomVisionClient(f"http://127.0.0.1:{free_port()}", KEY)

    with pytest.raises(TransportError) as caught:
        client.create_images_from_predictions(PROJECT, BATCH)

    assert not caught.value.outcome_unknown
    assert caught.value.retryable


def test_it_does_not_follow_redirects_with_the_key(client, scripted_server):
    scripted_server.reply(302, "", headers={"Location": "http://elsewhere.test/x"})

    with pytest.raises(MalformedResponseError) as caught:
        client.get_projects()

    assert caught.value.status == 302
    assert len(scripted_server.received) == 1


def test_it_fetches_a_signed_link_without_the_key(client, scripted_server, caplog):
    scripted_server.reply(200, b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"})
    link = f"{scripted_server.endpoint}/images/a.jpg?se=2030-01-01&sig=SIGNATURE"

    with caplog.at_level(logging.DEBUG, logger=CLIENT_LOGGER):
        image = client.fetch_image(PROJECT, link)

    assert image.content == b"\xff\xd8jpeg"
    assert image.content_type == "image/jpeg"
    received = scripted_server.received[0]
    assert received.path == "/images/a.jpg?se=2030-01-01&sig=SIGNATURE"
    assert "training-key" not in {name.lower() for name in received.headers}
    assert "SIGNATURE" not in caplog.text
    assert "127.0.0.1/images/a.jpg" in caplog.text


def test_it_does_not_follow_a_signed_link_to_another_host(client, scripted_server):
    # The proxy checked the link's host; a redirect must not lead it elsewhere.
    scripted_server.reply(
        302, "", headers={"Location": "http://169.254.169.254/latest/meta-data"}
    )
    link = f"{scripted_server.endpoint}/images/a.jpg?se=2030-01-01&sig=SIGNATURE"

    with pytest.raises(MalformedResponseError) as caught:
        client.fetch_image(PROJECT, link)

    assert caught.value.status == 302
    assert len(scripted_server.received) == 1


def test_it_keeps_a_signed_query_out_of_a_storage_error(client, scripted_server):
    scripted_server.reply(
        403, "<Error>Signature expired for ?sv=1&sig=SIGNATURE</Error>"
    )
    link = f"{scripted_server.endpoint}/images/a.jpg?se=2020-01-01&sig=SIGNATURE"

    with pytest.raises(Exception) as caught:
        client.fetch_image(PROJECT, link)

    assert "SIGNATURE" not in str(caught.value)
    assert caught.value.status == 403


def test_it_sends_the_key_user_agent_and_json_to_the_api(client, scripted_server):
    scripted_server.reply(200, json.dumps({"token": {}, "results": []}))

    list(client.query_predictions(PROJECT))

    received = scripted_server.received[0]
    assert received.headers["Training-Key"] == KEY
    assert received.headers["User-Agent"].startswith("prediction-reviewer/")
    assert received.headers["Content-Type"] == "application/json"
    assert json.loads(received.body) == {"orderBy": "Newest", "tags": []}


def test_it_keeps_the_key_out_of_an_echoed_error(client, scripted_server, caplog):
    scripted_server.reply(500, json.dumps({"code": "Oops", "message": f"bad {KEY}"}))

    with (
        caplog.at_level(logging.DEBUG, logger=CLIENT_LOGGER),
        pytest.raises(ServiceError) as caught,
    ):
        client.get_projects()

    assert KEY not in str(caught.value)
    assert KEY not in caplog.text
    assert caught.value.code == "Oops"
