"""What the benchmarks share: a throwaway PostgreSQL database, Django, the emulator,
gunicorn on a free port, and a one-line report of a figure against its limit.

A benchmark calls `django_on(database)` before it imports anything from Django.
PostgreSQL is reached as BENCH_POSTGRES_URL (default the local server, user postgres).
"""

import os
import platform
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "benchmark-only-not-secret",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
}


@contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, and drop it afterwards."""
    _drop(name)
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        _close_django_connections()
        _drop(name)


def _drop(name: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def django_on(database_url: str, **settings: str) -> None:
    """Configure Django for the database, with production-like settings, and migrate."""
    os.environ.update(ENVIRONMENT, DATABASE_URL=database_url, **settings)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@contextmanager
def emulator(**config) -> Iterator:
    """Serve an in-process emulator on a free port; yield it."""
    from reviewer.customvision.emulator import Emulator, EmulatorConfig

    server = Emulator(EmulatorConfig(training_key="benchmark-key", **config))
    server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class RemoteEmulator:
    """An emulator served by its own process, as the real service is remote."""

    endpoint: str
    training_key: str


@contextmanager
def emulator_process(
    *options: str, log: Path | None = None
) -> Iterator[RemoteEmulator]:
    """Run `manage.py customvision_emulator` with the options on a free port.

    With `log`, the emulator writes there a line per request it answered; read them
    with `emulator_answers`.
    """
    port = free_port()
    key = "benchmark-key"
    command = [
        sys.executable,
        "manage.py",
        "customvision_emulator",
        "--seed=none",
        f"--port={port}",
        f"--training-key={key}",
        *options,
    ]
    logging = {"LOG_LEVEL": "INFO"} if log else {}
    with log.open("w") if log else open(os.devnull, "w") as errors:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=ROOT,
            env={**os.environ, **ENVIRONMENT, **logging},
            stdout=subprocess.DEVNULL,
            stderr=errors if log else None,
        )
    remote = RemoteEmulator(f"http://127.0.0.1:{port}", key)
    try:
        _wait_until_answered(
            f"{remote.endpoint}/customvision/v3.3/training/projects",
            server,
            headers={"Training-Key": key},
        )
        yield remote
    finally:
        server.terminate()
        server.wait(timeout=30)


# One answered request in the emulator's log: method, path, status or "dropped".
_ANSWER = re.compile(r"emulator\.server (\w+) (\S+) (\d+|dropped) \d+ ms$")


def emulator_answers(log: Path) -> list[tuple[str, str, str]]:
    """The requests an emulator process logged, in order: (method, path, status)."""
    lines = log.read_text().splitlines()
    return [match.groups() for line in lines if (match := _ANSWER.search(line))]


def client_of(server, **options):
    """A client of the emulator, as the app builds one from its settings."""
    from reviewer.customvision.client import CustomVisionClient

    key = getattr(server, "training_key", None) or server.config.training_key
    return CustomVisionClient(server.endpoint, key, **options)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    workers: int, wsgi: str = "reviewer.wsgi", **environment: str
) -> Iterator[str]:
    """Serve the app with gunicorn on a free port; yield its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        wsgi,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--log-level=warning",
    ]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env={**os.environ, **environment}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answered(f"{base}/healthz", server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_answered(
    url: str, server: subprocess.Popen, seconds: float = 60, **options
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{server.args} exited with {server.returncode}")
        try:
            if requests.get(url, timeout=1, **options).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in time")


def machine() -> str:
    """Describe where the figures were taken."""
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {_postgres_version()}"
    )


def _postgres_version() -> str:
    with psycopg.connect(f"{SERVER}/postgres") as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version.split()[0]}"


@dataclass(frozen=True)
class Figure:
    """One measured figure, its limit, and whether it stays within it."""

    name: str
    value: float
    limit: float
    unit: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.limit if self.limit else float("inf")

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return (
            f"{self.name}: {self.value:.3f}{self.unit} against a limit of "
            f"{self.limit:.3f}{self.unit} = {self.ratio:.3f} of the limit, {verdict}"
        )


def report(figures: list[Figure]) -> int:
    """Print each figure, then the worst ratio last; return 1 if any is missed."""
    for figure in figures:
        print(figure.line())
    worst = max(figures, key=lambda figure: figure.ratio)
    print(f"ratio {worst.ratio:.3f} ({worst.name})")
    return 0 if all(figure.met for figure in figures) else 1
