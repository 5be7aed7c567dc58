"""P2: how fast "accept and load the next item" answers, against a trivial view.

The emulator's predictions are synced into PostgreSQL: a project of 1,000, then one
of 99,000, so the database holds 1,000 and then 100,000. The queries of opening an
item and of deciding on it are counted at both sizes. Then gunicorn serves the app
with WORKERS workers and CLIENTS annotators, logged in through the form, accept item
after item for SECONDS (each decision is one htmx post that saves it and answers
with the next card), after which the same clients call a view that only answers "ok"
for as long.

Targets: the decision's p95 within 2 x the trivial view's p95; at most 10 queries to
open an item and to decide, the same at 1,000 and at 100,000 predictions.

Run with `python -m benchmarks.review`; it exits non-zero when a target is missed.
"""

import statistics
import sys
import time

from benchmarks.harness import (
    Figure,
    django_on,
    emulator,
    gunicorn,
    machine,
    report,
    throwaway_database,
)
from benchmarks.load_review import (
    Annotator,
    collect_static,
    keep_reviewing,
    make_annotators,
    synced_project,
    together,
)

# Served by benchmarks.trivial_urls when gunicorn runs benchmarks.trivial.
TRIVIAL = "/bench/trivial"
PREDICTIONS = 100_000
SMALL = 1_000
CLIENTS = 8
WORKERS = 4
SECONDS = 20
BUDGET = 10
DATABASE = "bench_p2_review"
ACCEPT = (("accept", 1.0),)


def query_counts(project_id: str, username: str) -> tuple[int, int]:
    """Count the queries of opening the project's first item and accepting it."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from benchmarks.queries import review_queries

    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.get(username=username))
    page, decision = review_queries(client, project_id)
    return len(page), len(decision)


def p95(milliseconds: list[float]) -> float:
    return statistics.quantiles(milliseconds, n=100)[94]


def trivial_calls(timings: list[float]):
    """Work for `together`: call the trivial view until the deadline, timing it."""

    def work(annotator: Annotator, deadline: float) -> None:
        while time.monotonic() < deadline:
            sent = time.monotonic()
            answer = annotator.session.get(annotator.base + TRIVIAL, timeout=30)
            answer.raise_for_status()
            timings.append((time.monotonic() - sent) * 1000)

    return work


def main() -> int:
    """Print the figures of P2; return 1 if a target is missed."""
    with throwaway_database(DATABASE) as url:
        django_on(url)
        collect_static()
        (counter, *names) = make_annotators(CLIENTS + 1)
        with emulator(page_size=256) as server:
            started = time.monotonic()
            small = synced_project(server, SMALL)
            at_small = query_counts(small, counter)
            large = synced_project(server, PREDICTIONS - SMALL)
            at_large = query_counts(large, counter)
            prepared = time.monotonic() - started
        with gunicorn(WORKERS, wsgi="benchmarks.trivial") as base:
            annotators = [
                Annotator(base, large, name, seed, ACCEPT)
                for seed, name in enumerate(names)
            ]
            for annotator in annotators:
                annotator.log_in()
            together(annotators, keep_reviewing, SECONDS)
            trivial: list[float] = []
            together(annotators, trivial_calls(trivial), SECONDS)

    decisions = [ms for one in annotators for ms in one.journal.decide_ms]
    failures = [failure for one in annotators for failure in one.journal.failures]
    print(f"machine: {machine()}")
    print(f"synced {PREDICTIONS:,} predictions in {prepared:.0f} s")
    print(
        f"queries to open an item / to decide: {at_small[0]} / {at_small[1]} at"
        f" {SMALL:,} predictions, {at_large[0]} / {at_large[1]} at {PREDICTIONS:,}"
    )
    print(
        f"{CLIENTS} clients, {WORKERS} gunicorn workers, {SECONDS} s each:"
        f" {len(decisions):,} decisions ({len(decisions) / SECONDS:.0f}/s),"
        f" {len(trivial):,} trivial calls ({len(trivial) / SECONDS:.0f}/s)"
    )
    print(
        f"decision p50 {statistics.median(decisions):.1f} ms,"
        f" p95 {p95(decisions):.1f} ms; trivial p50"
        f" {statistics.median(trivial):.1f} ms, p95 {p95(trivial):.1f} ms"
    )
    if failures:
        print(f"{len(failures)} refused decisions, first: {failures[0]}")
    return report(
        [
            Figure("decision p95 vs 2 x trivial p95", p95(decisions), 2 * p95(trivial)),
            Figure("queries to open an item", max(at_small[0], at_large[0]), BUDGET),
            Figure("queries to decide", max(at_small[1], at_large[1]), BUDGET),
            # The same at both sizes: the larger database may not need more.
            Figure(
                f"queries at {PREDICTIONS:,} vs at {SMALL:,}",
                sum(at_large),
                sum(at_small),
            ),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
