"""The review load test in its short form: four annotators for eight seconds.

The full form is `python -m benchmarks.load_review` (twenty annotators, a minute).
It needs PostgreSQL: outside CI it is skipped without one; under CI=true it fails.
"""

import os
import subprocess
import sys
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.reliability.conftest import ROOT


def postgres_server() -> str:
    """The PostgreSQL server to load, without a database name; empty if none."""
    if os.environ.get("BENCH_POSTGRES_URL"):
        return os.environ["BENCH_POSTGRES_URL"].rstrip("/")
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if url.scheme not in ("postgres", "postgresql", "pgsql"):
        return ""
    return f"{url.scheme}://{url.netloc}"


def test_annotators_under_load_keep_every_promise():
    server = postgres_server()
    if not server:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs the load test: set BENCH_POSTGRES_URL.")
        pytest.skip("The load test needs PostgreSQL: set DATABASE_URL to it.")
    try:
        psycopg.connect(f"{server}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL cannot be reached: {error}")
        pytest.skip(f"PostgreSQL cannot be reached: {error}")

    load = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load_review",
            "--annotators",
            "4",
            "--seconds",
            "8",
            "--database",
            f"load_short_{os.getpid()}",
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_POSTGRES_URL": server},
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert load.returncode == 0, load.stdout + load.stderr[-3000:]
    assert "OK: no 5xx" in load.stdout
