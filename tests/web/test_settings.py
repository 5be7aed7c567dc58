import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from reviewer.env import env_bool, env_float, env_list


def start_app(**env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with only these variables."""
    clean = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME")}
    clean.update(env, DJANGO_SETTINGS_MODULE="reviewer.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = start_app(DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_starts_without_secret_key_in_debug():
    result = start_app(DEBUG="true")

    assert result.returncode == 0, result.stderr


def test_it_names_the_variable_of_a_bad_boolean():
    result = start_app(DEBUG="maybe", SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_it_names_the_variable_of_a_bad_timeout():
    result = start_app(SECRET_KEY="x" * 50, CUSTOMVISION_READ_TIMEOUT="soon")

    assert result.returncode != 0
    assert "CUSTOMVISION_READ_TIMEOUT='soon' is not a number" in result.stderr


def test_it_reads_booleans_lists_and_numbers(monkeypatch):
    monkeypatch.setenv("FLAG", " Yes ")
    monkeypatch.setenv("HOSTS", "a.example, ,b.example")
    monkeypatch.setenv("WAIT", "2.5")

    assert env_bool("FLAG") is True
    assert env_bool("UNSET_FLAG", default=True) is True
    assert env_list("HOSTS") == ["a.example", "b.example"]
    assert env_float("WAIT", 1.0) == 2.5
    assert env_float("UNSET_WAIT", 1.0) == 1.0


def test_it_refuses_a_negative_timeout(monkeypatch):
    monkeypatch.setenv("WAIT", "-1")

    with pytest.raises(ImproperlyConfigured, match="WAIT='-1' must be at least 0"):
        env_float("WAIT", 1.0)


def test_it_passes_the_deploy_check_with_production_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={
            "PATH": os.environ["PATH"],
            "DEBUG": "false",
            "SECRET_KEY": "a-long-random-production-secret-" + "q7Z" * 12,
            "ALLOWED_HOSTS": "reviewer.example.com",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
