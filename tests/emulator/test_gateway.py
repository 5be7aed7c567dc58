"""Keys, unknown routes and the shape of every answer."""

import requests

from reviewer.customvision import limits


def test_it_refuses_a_request_without_a_key(emulator):
    url = emulator.endpoint + limits.API_PREFIX + "/projects"

    response = requests.get(url, timeout=5)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied")


def test_it_refuses_a_wrong_key(api):
    api.session.headers["Training-Key"] = "not-the-key"

    assert api.get("/projects").status_code == 401


def test_it_reads_the_key_header_in_any_case(emulator):
    url = emulator.endpoint + limits.API_PREFIX + "/projects"

    for name in ("Training-key", "training-key", "TRAINING-KEY"):
        response = requests.get(url, headers={name: "test-key"}, timeout=5)
        assert response.status_code == 200


def test_it_answers_404_not_found_project_for_an_unknown_project(api):
    response = api.get("/projects/00000000-0000-0000-0000-000000000000/tags")

    assert response.status_code == 404
    assert response.json()["code"] == "NotFoundProject"


def test_it_answers_404_not_found_for_an_unknown_route(api):
    response = api.get("/projects/x/untrained-things")

    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_it_refuses_a_body_that_is_not_json(api, shelf):
    response = api.post(f"/projects/{shelf.id}/predictions/query", data=b"{oops")

    assert response.status_code == 400
    assert set(response.json()) == {"code", "message"}


def test_it_pretty_prints_json_with_crlf_line_ends(api, shelf):
    body = api.get("/projects").content

    assert body.startswith(b"[\r\n  {\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")


def test_it_logs_every_request_with_its_operation_and_status(emulator, api, shelf):
    api.get("/projects")
    api.get("/domains/nope")

    assert emulator.request_log == [
        ("GET", limits.API_PREFIX + "/projects", "GetProjects", 200),
        ("GET", limits.API_PREFIX + "/domains/nope", "GetDomain", 404),
    ]
