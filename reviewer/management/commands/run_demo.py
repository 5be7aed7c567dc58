import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

DEMO_DIR = Path(settings.BASE_DIR) / ".demo"
SERVER_ADDRESS = "127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Run the whole demo: the emulator with demo data, migrations, demo users, "
        "a sync, the task worker and the web server. Ctrl-C stops everything."
    )

    def handle(self, *args, **options):
        DEMO_DIR.mkdir(exist_ok=True)
        children: list[subprocess.Popen] = []
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            children.append(self._start_emulator())
            call_command("migrate", verbosity=0)
            self.stdout.write("Demo logins:")
            call_command("create_demo_users")
            call_command("sync_predictions")
            children.append(_manage("db_worker"))
            children.append(_manage("runserver", SERVER_ADDRESS, "--noreload"))
            self.stdout.write(
                self.style.SUCCESS(f"\nOpen http://{SERVER_ADDRESS}/ (Ctrl-C stops)")
            )
            _wait_for_any(children)
        except KeyboardInterrupt:
            pass
        finally:
            _stop(children)

    def _start_emulator(self) -> subprocess.Popen:
        endpoint = settings.CUSTOMVISION_ENDPOINT.rstrip("/")
        port = endpoint.rsplit(":", 1)[-1]
        emulator = _manage(
            "customvision_emulator",
            "--port",
            port,
            "--seed",
            "demo",
            "--training-key",
            settings.CUSTOMVISION_TRAINING_KEY,
            "--state",
            str(DEMO_DIR / "emulator.json"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if emulator.poll() is not None:
                raise CommandError("The emulator stopped at start; see its output.")
            try:
                requests.get(endpoint, timeout=1)
                return emulator
            except requests.ConnectionError:
                time.sleep(0.2)
        _stop([emulator])
        raise CommandError(f"The emulator did not answer on {endpoint} in 30 s.")


def _manage(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args])  # noqa: S603


def _wait_for_any(children: list[subprocess.Popen]) -> None:
    while all(child.poll() is None for child in children):
        time.sleep(0.5)


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
