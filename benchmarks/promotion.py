"""P5: how close promotion comes to the service's rate limit, and how often it hits it.

An emulator in its own process (the service is remote) holds 10,000 stored
predictions of five boxes over 20 tags, answers every call after 50 ms and allows
10 calls a second (429 and Retry-After beyond). The predictions are synced into
PostgreSQL and bulk-accepted; `execute_run` then promotes them as the worker would,
planning included. Targets: the run within 1.2 x (its calls / 10 per second), and at
most 1 % of its calls answered 429, both counted from the emulator's log.

Run with `python -m benchmarks.promotion`; it exits non-zero when a target is missed.
"""

import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

from benchmarks.harness import (
    Figure,
    client_of,
    django_on,
    emulator_answers,
    emulator_process,
    machine,
    report,
    throwaway_database,
)

IMAGES = 10_000
TAGS = 20
BOXES = 5
RATE_LIMIT = 10.0
LATENCY_MS = 50
DATABASE = "bench_p5_promotion"
CREATE_PATH = "/images/predictions"


def approved_project(client) -> object:
    """Sync the emulator's project and accept every item as predicted."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from reviewer.models import SyncRun
    from reviewer.services.projects import sync_projects
    from reviewer.services.queue import QueueFilters
    from reviewer.services.review import bulk_accept
    from reviewer.services.sync import run_sync_run

    (project,) = sync_projects(client)
    run_sync_run(client, SyncRun.objects.create(project=project))
    lead = get_user_model().objects.create_user("bench-lead")
    accepted = bulk_accept(project, QueueFilters(), 0.0, lead, timezone.now())
    assert accepted.accepted == IMAGES, accepted
    return project, lead


def promote(client, project, lead) -> tuple[float, object]:
    """Run one promotion of the project as the worker would; time it."""
    from reviewer.services.promotion import execute_run, queue_promotion

    run = queue_promotion(project, lead, enqueue=False)
    started = time.perf_counter()
    run = execute_run(client, run)
    return time.perf_counter() - started, run


def main() -> int:
    """Print the figures of P5; return 1 if a target is missed."""
    log = Path(tempfile.mkdtemp()) / "emulator.log"
    emulator = emulator_process(
        f"--seed-predictions={IMAGES}",
        f"--seed-tags={TAGS}",
        f"--latency-ms={LATENCY_MS}",
        f"--rps-limit={RATE_LIMIT:g}",
        "--page-size=256",
        log=log,
    )
    with throwaway_database(DATABASE) as url, emulator as server:
        django_on(url, PROMOTION_RATE=str(RATE_LIMIT))
        from reviewer.models import Outcome
        from reviewer.services.promotion import run_counts

        with closing(client_of(server, backoff=0)) as client:
            project, lead = approved_project(client)
            before = len(emulator_answers(log))
            seconds, run = promote(client, project, lead)
        calls = emulator_answers(log)[before:]
        counts = run_counts(run)
        promoted = Outcome.objects.filter(run=run, kind=Outcome.Kind.PROMOTED).count()

    creates = [path for _, path, _ in calls if path.endswith(CREATE_PATH)]
    statuses = Counter(status for *_, status in calls)
    print(f"machine: {machine()}")
    print(
        f"{IMAGES:,} approved images, {BOXES} boxes over {TAGS} tags;"
        f" emulator in its own process, {LATENCY_MS} ms a call,"
        f" {RATE_LIMIT:g} calls/s; PROMOTION_RATE {RATE_LIMIT:g}"
    )
    print(
        f"run {run.status}: {promoted:,} promoted, outcomes {counts};"
        f" {len(creates)} create calls, {len(calls)} calls in all"
    )
    print(f"answers: {dict(sorted(statuses.items()))}")
    print(f"wall time {seconds:.2f} s, ideal {len(calls) / RATE_LIMIT:.2f} s")
    # A fast run that promoted less than everything measures nothing.
    complete = run.status == "finished" and promoted == IMAGES
    if not complete:
        print(f"MISSED: the run promoted {promoted:,} of {IMAGES:,} images")
    return int(not complete) | report(
        [
            Figure(
                "wall time vs 1.2 x calls / 10 per s",
                seconds,
                1.2 * len(calls) / RATE_LIMIT,
                " s",
            ),
            Figure("429 answers vs 1 % of calls", statuses["429"], 0.01 * len(calls)),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
