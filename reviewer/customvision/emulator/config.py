"""How an emulator behaves: its key, its links, its pace and its faults."""

from dataclasses import dataclass
from pathlib import Path

DEFAULT_TRAINING_KEY = "emulator-demo-key"


@dataclass
class EmulatorConfig:
    """Settings an emulator starts with; tests may change them while it runs."""

    training_key: str = DEFAULT_TRAINING_KEY
    uri_ttl: int = 86_400
    latency_ms: int = 0
    rps_limit: float | None = None
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    page_size: int = 50
    relative_uris: bool = False
    state_file: str | Path | None = None
