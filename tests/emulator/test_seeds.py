"""The demo data and the large synthetic project."""

import time
from collections import Counter

from reviewer.customvision.emulator import Emulator, EmulatorConfig


def test_it_seeds_a_detection_a_classification_and_an_importing_project(emulator, api):
    ids = emulator.seed_demo()

    projects = {project["id"]: project for project in api.get("/projects").json()}
    shelf_tags = api.get(f"/projects/{ids['object_detection']}/tags").json()
    fruit_tags = api.get(f"/projects/{ids['classification']}/tags").json()

    assert projects[ids["importing"]]["status"] == "Importing"
    assert Counter(tag["type"] for tag in shelf_tags) == {"Regular": 6}
    assert Counter(tag["type"] for tag in fruit_tags) == {"Regular": 4, "Negative": 1}
    assert any(set('"<>&') <= set(tag["name"]) for tag in shelf_tags)
    for kind in ("object_detection", "classification"):
        assert len(api.get(f"/projects/{ids[kind]}/iterations").json()) == 2


def test_it_seeds_predictions_over_the_retention_window(emulator, api):
    ids = emulator.seed_demo()

    shelf = api.query_all(ids["object_detection"], maxCount=50)
    fruit = api.query_all(ids["classification"], maxCount=50)

    assert (len(shelf), len(fruit)) == (180, 120)
    assert shelf[-1]["created"][:10] < shelf[0]["created"][:10]
    iterations = {result["iteration"] for result in shelf}
    assert len(iterations) == 2


def test_it_seeds_the_same_demo_every_time(emulator):
    again = Emulator(EmulatorConfig())

    ids = emulator.seed_demo()

    assert again.seed_demo() == ids
    first = emulator.state.predictions[ids["object_detection"]]
    second = again.state.predictions[ids["object_detection"]]
    assert [p.labels for p in first.values()] == [p.labels for p in second.values()]


def test_it_seeds_a_synthetic_project_quickly(emulator, api):
    started = time.perf_counter()

    project_id = emulator.seed_synthetic(predictions=2_000, tags=20)

    assert time.perf_counter() - started < 1
    results = api.query(project_id, maxCount=50).json()["results"]
    assert len(api.get(f"/projects/{project_id}/tags").json()) == 20
    assert {len(result["predictions"]) for result in results} == {5}


def test_it_derives_the_same_synthetic_labels_every_time(emulator, api):
    project_id = emulator.seed_synthetic(predictions=100, tags=5)

    first = api.query(project_id, orderBy="Suggested").json()["results"]
    again = api.query(project_id, orderBy="Suggested").json()["results"]

    assert [r["predictions"] for r in first] == [r["predictions"] for r in again]
