"""Measure how many promotion calls `pack` needs on four generated sets of images.

Run with `python -m benchmarks.packing`; it exits non-zero when a target is missed.
"""

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from benchmarks.harness import Figure, report
from reviewer.services.packing import PackItem, lower_bound, next_fit, pack

IMAGES = 10_000
TAG_IDS = [f"tag-{rank:03d}" for rank in range(1, 201)]
GROUPS = [(("camera", camera),) for camera in ("north", "south", "east")]
ZIPF_WEIGHTS = list(accumulate(1 / rank**1.1 for rank in range(1, 201)))
SEED = 20240601


def one_tag(rng: random.Random) -> set[str]:
    """Draw one tag, every tag alike."""
    return {rng.choice(TAG_IDS)}


def one_to_three_uniform(rng: random.Random) -> set[str]:
    """Draw one to three distinct tags, every tag alike."""
    return set(rng.sample(TAG_IDS, rng.randint(1, 3)))


def one_to_three_zipf(rng: random.Random) -> set[str]:
    """Draw one to three distinct tags, the tag of rank r with weight 1 / r^1.1."""
    wanted = rng.randint(1, 3)
    tags: set[str] = set()
    while len(tags) < wanted:
        tags.add(rng.choices(TAG_IDS, cum_weights=ZIPF_WEIGHTS)[0])
    return tags


def four_to_eight_random(rng: random.Random) -> set[str]:
    """Draw four to eight distinct tags, every tag alike."""
    return set(rng.sample(TAG_IDS, rng.randint(4, 8)))


SETS: dict[str, Callable[[random.Random], set[str]]] = {
    "one tag per image": one_tag,
    "1-3 tags, uniform": one_to_three_uniform,
    "1-3 tags, Zipf 1/rank^1.1": one_to_three_zipf,
    "4-8 tags, adversarial": four_to_eight_random,
}


def images(name: str, count: int = IMAGES, seed: int = SEED) -> list[PackItem]:
    """Build the named set: each image in a random camera group, in arrival order."""
    rng = random.Random(f"{seed}-{name}")
    draw = SETS[name]
    return [
        PackItem(key=index, tag_ids=frozenset(draw(rng)), group=rng.choice(GROUPS))
        for index in range(count)
    ]


@dataclass(frozen=True)
class Outcome:
    """What packing one set cost, next to the bound and the naive baseline."""

    name: str
    calls: int
    bound: int
    next_fit_calls: int
    seconds: float

    @property
    def over_bound(self) -> float:
        return self.calls / self.bound

    @property
    def over_next_fit(self) -> float:
        return self.calls / self.next_fit_calls

    def figures(self) -> list[Figure]:
        """This set's calls against each target that applies to it."""
        figures = [
            Figure(f"{self.name}: calls vs next-fit", self.calls, self.next_fit_calls)
        ]
        if self.name == "one tag per image":
            figures.append(
                Figure(f"{self.name}: calls vs bound", self.calls, self.bound)
            )
        if self.name.startswith("1-3"):
            figures.append(
                Figure(
                    f"{self.name}: calls vs 0.4 x next-fit",
                    self.calls,
                    0.4 * self.next_fit_calls,
                )
            )
        return figures


def measure(name: str) -> Outcome:
    """Pack the named set and count its calls; time the packing on one core."""
    items = images(name)

    started = time.process_time()
    calls = len(pack(items))
    seconds = time.process_time() - started

    return Outcome(name, calls, lower_bound(items), len(next_fit(items)), seconds)


def missed(outcome: Outcome) -> str:
    return ", ".join(figure.name for figure in outcome.figures() if not figure.met)


def main() -> int:
    """Print each set's figures and the worst ratio; return 1 if a target is missed."""
    outcomes = [measure(name) for name in SETS]
    print(f"{'set':28} calls bound next-fit  /bound  /next-fit  cpu s  targets")
    for outcome in outcomes:
        print(
            f"{outcome.name:28} {outcome.calls:5} {outcome.bound:5}"
            f" {outcome.next_fit_calls:8} {outcome.over_bound:7.3f}"
            f" {outcome.over_next_fit:10.3f} {outcome.seconds:6.2f}"
            f"  {missed(outcome) or 'met'}"
        )

    return report([figure for outcome in outcomes for figure in outcome.figures()])


if __name__ == "__main__":
    sys.exit(main())
