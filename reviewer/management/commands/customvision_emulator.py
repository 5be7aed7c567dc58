"""Serve the local Custom Vision emulator until Ctrl-C or SIGTERM."""

import signal
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviewer.customvision import limits
from reviewer.customvision.emulator import Emulator, EmulatorConfig
from reviewer.customvision.emulator.config import DEFAULT_TRAINING_KEY

DEFAULT_SYNTHETIC_TAGS = 200
MAX_SYNTHETIC_TAGS = 500
RULES = (
    ("port", lambda port: 0 <= port <= 65_535, "between 0 and 65535"),
    ("training_key", bool, "a non-empty string"),
    ("uri_ttl", lambda seconds: seconds >= 1, "at least 1 second"),
    ("latency_ms", lambda ms: ms >= 0, "0 or more"),
    ("rps_limit", lambda rate: rate > 0, "above 0"),
    ("fail_rate", lambda share: 0 <= share <= 1, "between 0 and 1"),
    ("drop_rate", lambda share: 0 <= share <= 1, "between 0 and 1"),
    ("page_size", lambda size: size >= 1, "at least 1"),
    ("seed_predictions", lambda count: count >= 1, "at least 1"),
    (
        "seed_tags",
        lambda count: 1 <= count <= MAX_SYNTHETIC_TAGS,
        f"between 1 and {MAX_SYNTHETIC_TAGS}",
    ),
)


class Command(BaseCommand):
    help = (
        "Serve an emulated Custom Vision Training API v3.3 with demo data, "
        "throttling and faults on demand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Default 127.0.0.1.")
        parser.add_argument("--port", type=int, default=5010, help="Default 5010.")
        parser.add_argument(
            "--training-key",
            default=DEFAULT_TRAINING_KEY,
            help=f"The key clients must send (default {DEFAULT_TRAINING_KEY}).",
        )
        parser.add_argument(
            "--seed",
            choices=["demo", "none"],
            default="demo",
            help="demo: a detection and a classification project with a few "
            "hundred predictions (default); none: empty.",
        )
        parser.add_argument(
            "--seed-predictions",
            type=int,
            metavar="N",
            help="Also add a synthetic object-detection project of N predictions.",
        )
        parser.add_argument(
            "--seed-tags",
            type=int,
            metavar="T",
            help=f"Tags of the synthetic project (default {DEFAULT_SYNTHETIC_TAGS}).",
        )
        parser.add_argument(
            "--uri-ttl",
            type=int,
            default=86_400,
            metavar="S",
            help="Seconds a signed image link lives (default a day).",
        )
        parser.add_argument(
            "--latency-ms", type=int, default=0, metavar="MS", help="Added per call."
        )
        parser.add_argument(
            "--rps-limit",
            type=float,
            metavar="R",
            help="Requests a second; beyond it 429 with Retry-After.",
        )
        parser.add_argument(
            "--fail-rate",
            type=float,
            default=0.0,
            metavar="F",
            help="Share of calls answered 503.",
        )
        parser.add_argument(
            "--drop-rate",
            type=float,
            default=0.0,
            metavar="F",
            help="Share of CreateImagesFromPredictions calls processed, then the "
            "connection dropped unanswered.",
        )
        parser.add_argument(
            "--page-size",
            type=int,
            default=50,
            metavar="N",
            help="QueryPredictions page size (default 50).",
        )
        parser.add_argument(
            "--relative-uris",
            action="store_true",
            help="Give image links as paths for GetArtifact, as behind a VNET.",
        )
        parser.add_argument(
            "--state",
            metavar="FILE",
            help="Load FILE instead of seeding when it exists; save changes to it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        _check(options)
        config = _config(options)
        emulator = self._prepared(config, options)
        stopping = _stop_signal()
        try:
            emulator.start(host=options["host"], port=options["port"])
        except OSError as error:
            message = f"Cannot listen on port {options['port']}: {error}"
            raise CommandError(message) from error

        self.stdout.write(
            f"Custom Vision emulator at {emulator.endpoint}{limits.API_PREFIX}\n"
            f"CUSTOMVISION_ENDPOINT={emulator.endpoint}\n"
            f"Training key: {config.training_key}\n"
            "Ctrl-C stops it."
        )
        self.stdout.flush()
        stopping.wait()
        emulator.stop()
        self.stdout.write("Stopped.")

    def _prepared(self, config: EmulatorConfig, options: dict) -> Emulator:
        """Load the state file, or seed what the options ask for and save it."""
        loaded = bool(config.state_file) and Path(config.state_file).exists()
        try:
            emulator = Emulator(config)
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(f"Cannot read the state file: {error!r}") from error
        if loaded:
            self.stdout.write(f"Loaded the state from {config.state_file}.")
            return emulator

        if options["seed"] == "demo":
            emulator.seed_demo()
        if options["seed_predictions"]:
            tags = options["seed_tags"] or DEFAULT_SYNTHETIC_TAGS
            emulator.seed_synthetic(options["seed_predictions"], tags)
        emulator.save()
        return emulator


def _check(options: dict) -> None:
    """Refuse option values the emulator cannot honour."""
    for name, valid, rule in RULES:
        if options[name] is not None and not valid(options[name]):
            raise CommandError(f"--{name.replace('_', '-')} must be {rule}.")
    if options["seed_tags"] is not None and not options["seed_predictions"]:
        raise CommandError("--seed-tags needs --seed-predictions.")


def _config(options: dict) -> EmulatorConfig:
    return EmulatorConfig(
        training_key=options["training_key"],
        uri_ttl=options["uri_ttl"],
        latency_ms=options["latency_ms"],
        rps_limit=options["rps_limit"],
        fail_rate=options["fail_rate"],
        drop_rate=options["drop_rate"],
        page_size=options["page_size"],
        relative_uris=options["relative_uris"],
        state_file=options["state"],
    )


def _stop_signal() -> threading.Event:
    """Return an event that Ctrl-C or SIGTERM sets, instead of killing the process."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    return stopping
