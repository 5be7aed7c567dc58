"""The customvision_emulator management command, run as a real process."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from reviewer.customvision import limits

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str) -> subprocess.Popen:
    env = {**os.environ, "SECRET_KEY": "emulator-command-test"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "customvision_emulator", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_projects(url: str, key: str) -> requests.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return requests.get(url, headers={"Training-Key": key}, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> tuple[str, str]:
    """Ask the process to stop; kill it when it does not."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_it_serves_the_demo_until_terminated(tmp_path):
    port = free_port()
    process = manage("--port", str(port), "--training-key", "cmd-key")
    try:
        url = f"http://127.0.0.1:{port}{limits.API_PREFIX}/projects"
        response = wait_for_projects(url, "cmd-key")
    finally:
        stdout, stderr = stop(process)

    assert response.status_code == 200
    assert len(response.json()) == 3
    assert process.returncode == 0
    assert "cmd-key" in stdout
    assert f"GET {limits.API_PREFIX}/projects 200" in stderr
    assert "cmd-key" not in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-rate", "2"], "--fail-rate must be between 0 and 1."),
        (["--seed-tags", "3"], "--seed-tags needs --seed-predictions."),
    ],
)
def test_it_explains_a_bad_option(args, message):
    process = manage(*args)

    _, stderr = process.communicate(timeout=20)

    assert process.returncode == 1
    assert message in stderr


def test_its_options_seed_throttle_expire_links_and_keep_state(tmp_path):
    port, state = free_port(), tmp_path / "emulator.json"
    base = f"http://127.0.0.1:{port}{limits.API_PREFIX}"
    key = {"Training-Key": "cmd-key"}
    options = ["--port", str(port), "--training-key", "cmd-key", "--seed", "none"]
    process = manage(
        *options,
        *("--seed-predictions", "500", "--seed-tags", "7", "--uri-ttl", "3"),
        *("--rps-limit", "2", "--latency-ms", "50", "--state", str(state)),
    )
    try:
        (project,) = wait_for_projects(f"{base}/projects", "cmd-key").json()
        time.sleep(1)
        started = time.monotonic()
        tags = requests.get(
            f"{base}/projects/{project['id']}/tags", headers=key, timeout=5
        )
        took = time.monotonic() - started
        burst = [
            requests.get(f"{base}/projects", headers=key, timeout=5) for _ in range(6)
        ]
        time.sleep(1)
        page = requests.post(
            f"{base}/projects/{project['id']}/predictions/query",
            json={},
            headers=key,
            timeout=5,
        ).json()
        link = page["results"][0]["thumbnailUri"]
        fresh = requests.get(link, timeout=5).status_code
        # Links expire on a whole second, so one lives between two and three seconds.
        time.sleep(3.5)
        stale = requests.get(link, timeout=5).status_code
    finally:
        stop(process)

    restarted = manage(*options, "--state", str(state))
    try:
        kept = wait_for_projects(f"{base}/projects", "cmd-key").json()
    finally:
        stop(restarted)

    assert len(tags.json()) == 7 and took >= 0.05
    throttled = [answer for answer in burst if answer.status_code == 429]
    assert throttled and all(answer.headers["Retry-After"] for answer in throttled)
    assert (fresh, stale) == (200, 403)
    assert [item["id"] for item in kept] == [project["id"]]
