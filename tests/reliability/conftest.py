"""A task worker that runs until the test stops it, as the Procfile runs it."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from tests.fixtures.app import _database_url

ROOT = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], object], seconds: float, what: str) -> object:
    """Poll `check` until it returns something true, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    pytest.fail(f"Gave up after {seconds:.0f} s waiting for {what}.")


@pytest.fixture
def start_worker(emulator, tmp_path):
    """Start `manage.py db_worker` processes on the test database; end them after."""
    workers: list[subprocess.Popen] = []

    def start(**env: str) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(workers) + 1}.log").open("w")
        worker = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": _database_url(connection.settings_dict),
                "CUSTOMVISION_ENDPOINT": emulator.endpoint,
                "CUSTOMVISION_TRAINING_KEY": emulator.config.training_key,
                "SECRET_KEY": "test-worker",
                "DEBUG": "false",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        workers.append(worker)
        return worker

    yield start

    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)


def worker_log(tmp_path: Path, lines: int = 40) -> str:
    """Return the end of every worker's log, to explain a failure."""
    tails = []
    for log in sorted(tmp_path.glob("worker-*.log")):
        text = log.read_text(errors="replace").splitlines()
        tails.append(f"== {log.name}\n" + "\n".join(text[-lines:]))
    return "\n".join(tails)
