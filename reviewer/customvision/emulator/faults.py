"""Throttling and injected failures: what makes the emulator misbehave on purpose."""

import math
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

FAULT_SEED = 20_201_106


@dataclass
class Fault:
    """A failure for the next `remaining` requests, of one operation if named."""

    remaining: int
    operation: str | None
    status: int = 0
    retry_after: int | None = None
    code: str | None = None


class Faults:
    """Queued failures, the random ones, and a token bucket for the rate limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget queued failures and restart the random ones and the bucket."""
        with self._lock:
            self._injections: list[Fault] = []
            self._drops: list[Fault] = []
            self._image_statuses: dict[str, str] = {}
            self._random = random.Random(FAULT_SEED)
            self._rate: float | None = None
            self._tokens = 0.0
            self._stamp = 0.0

    def inject(self, fault: Fault) -> None:
        """Answer the requests the fault names with its status."""
        with self._lock:
            self._injections.append(fault)

    def drop_next(self, fault: Fault) -> None:
        """Lose the answers to the requests the fault names."""
        with self._lock:
            self._drops.append(fault)

    def fail_image(self, prediction_id: str, status: str) -> None:
        """Answer `status` for the prediction in the next batch that names it."""
        with self._lock:
            self._image_statuses[prediction_id] = status

    def image_statuses(self, prediction_ids: Iterable[str]) -> dict[str, str]:
        """Take the statuses set for any of these predictions."""
        with self._lock:
            return {
                prediction_id: self._image_statuses.pop(prediction_id)
                for prediction_id in prediction_ids
                if prediction_id in self._image_statuses
            }

    def injection(self, operation: str | None) -> Fault | None:
        """Take the queued failure for this request, if any."""
        with self._lock:
            return _take(self._injections, operation)

    def drops(self, operation: str | None, drop_rate: float) -> bool:
        """Say whether to lose this answer: queued drops first, then by chance."""
        with self._lock:
            if _take(self._drops, operation):
                return True
            return drop_rate > 0 and self._random.random() < drop_rate

    def fails(self, fail_rate: float) -> bool:
        """Say whether this request fails by chance."""
        with self._lock:
            return fail_rate > 0 and self._random.random() < fail_rate

    def wait_needed(self, rate: float | None, now: float) -> int | None:
        """Take a token for one request; when none is left, return seconds to wait."""
        if rate is None:
            return None

        with self._lock:
            burst = max(rate, 1.0)
            if rate != self._rate:
                self._rate, self._tokens, self._stamp = rate, burst, now
            self._tokens = min(burst, self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            return max(1, math.ceil((1 - self._tokens) / rate))


def _take(queue: list[Fault], operation: str | None) -> Fault | None:
    for fault in queue:
        if fault.operation in (None, operation):
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.remove(fault)
            return fault
    return None
