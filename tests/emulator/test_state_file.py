"""The state file keeps the emulator's data across restarts."""

from reviewer.customvision.emulator import Emulator, EmulatorConfig
from tests.emulator.conftest import Api, build_project


def test_it_keeps_predictions_and_promotions_across_a_restart(tmp_path):
    state_file = tmp_path / "emulator.json"
    config = EmulatorConfig(training_key="k", state_file=state_file)
    first = Emulator(config)
    project = build_project(first)
    first.start()
    entry = {"id": project.predictions[0], "tagIds": [project.tags[0]]}
    Api(first.endpoint, "k").promote(project.id, [entry])
    first.stop()

    second = Emulator(config)
    second.start()
    api = Api(second.endpoint, "k")
    results = api.query_all(project.id)
    duplicate = api.promote(project.id, [entry]).json()["images"][0]["status"]
    second.stop()

    assert [result["id"] for result in results] == project.predictions
    assert duplicate == "OKDuplicate"
    assert [path.name for path in tmp_path.iterdir()] == ["emulator.json"]


def test_it_saves_after_each_change(tmp_path):
    state_file = tmp_path / "emulator.json"
    emulator = Emulator(EmulatorConfig(training_key="k", state_file=state_file))
    project = build_project(emulator)
    emulator.start()

    ids = ",".join(project.predictions[:3])
    Api(emulator.endpoint, "k").delete(f"/projects/{project.id}/predictions?ids={ids}")

    reloaded = Emulator(EmulatorConfig(state_file=state_file))
    emulator.stop()
    assert len(reloaded.state.predictions[project.id]) == 4
