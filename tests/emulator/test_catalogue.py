"""Domains, projects, tags and iterations."""

import re

from reviewer.customvision import limits


def test_it_lists_domains_of_both_types(api):
    domains = api.get("/domains").json()

    types = {domain["type"] for domain in domains}
    assert types == {limits.DOMAIN_OBJECT_DETECTION, limits.DOMAIN_CLASSIFICATION}
    assert api.get(f"/domains/{domains[0]['id']}").json() == domains[0]


def test_it_answers_404_for_an_unknown_domain(api):
    response = api.get("/domains/00000000-0000-0000-0000-000000000000")

    assert response.json()["code"] == "NotFoundDomain"


def test_it_tells_the_project_type_by_the_domain(api, shelf, fruit):
    domains = {domain["id"]: domain["type"] for domain in api.get("/domains").json()}

    detection = api.get(f"/projects/{shelf.id}").json()
    classification = api.get(f"/projects/{fruit.id}").json()

    assert domains[detection["settings"]["domainId"]] == "ObjectDetection"
    assert detection["settings"]["classificationType"] == "Multilabel"
    assert domains[classification["settings"]["domainId"]] == "Classification"
    assert classification["settings"]["classificationType"] == "Multiclass"


def test_it_lists_an_importing_project_without_a_thumbnail(emulator, api):
    emulator.state.add_project("Moving in", status="Importing")

    (project,) = api.get("/projects").json()

    assert project["status"] == "Importing"
    assert project["thumbnailUri"] is None


def test_it_writes_project_times_in_utc_with_a_z(api, shelf):
    project = api.get(f"/projects/{shelf.id}").json()

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", project["created"])


def test_it_lists_tags_with_their_types(api, fruit):
    tags = api.get(f"/projects/{fruit.id}/tags").json()

    assert [tag["type"] for tag in tags] == ["Regular", "Regular", "Negative"]
    assert {tag["imageCount"] for tag in tags} == {0}


def test_it_lists_iterations(api, shelf):
    iterations = api.get(f"/projects/{shelf.id}/iterations").json()

    assert [iteration["id"] for iteration in iterations] == shelf.iterations
    assert {iteration["projectId"] for iteration in iterations} == {shelf.id}
