"""P1: how fast `sync_predictions` pulls stored predictions, against bare paging.

The emulator serves 100,000 stored predictions (five boxes each, 200 tags). The
bare loop only pages through the same answers with `requests`; the sync also
parses and stores them in PostgreSQL. Targets: the sync within 1.5 x the bare
loop, a second sync with nothing new within 5 % of the first, and a peak of
traced memory that does not grow with the number of predictions.

Run with `python -m benchmarks.sync`; it exits non-zero when a target is missed.
"""

import gc
import io
import sys
import time
import tracemalloc
from contextlib import closing

import requests

from benchmarks.harness import (
    Figure,
    client_of,
    django_on,
    emulator_process,
    machine,
    report,
    throwaway_database,
)

PREDICTIONS = 100_000
SMALL = 20_000
TAGS = 200
BOXES = 5
DATABASE = "bench_p1_sync"


def bare_paging(server, project_id: str) -> tuple[float, int]:
    """Page through every stored prediction with requests alone; time it."""
    url = f"{server.endpoint}/customvision/v3.3/training/projects/{project_id}"
    session = requests.Session()
    session.headers["Training-Key"] = server.training_key
    token: dict = {"orderBy": "Oldest"}
    seen = 0
    started = time.perf_counter()
    while True:
        answer = session.post(f"{url}/predictions/query", json=token, timeout=30)
        answer.raise_for_status()
        body = answer.json()
        seen += len(body["results"])
        token = body["token"]
        if not token.get("continuation"):
            break
    return time.perf_counter() - started, seen


def timed_sync(server) -> tuple[float, str]:
    """Run the sync command an operator runs against the emulator; time it."""
    from django.conf import settings
    from django.core.management import call_command

    settings.CUSTOMVISION_ENDPOINT = server.endpoint
    settings.CUSTOMVISION_TRAINING_KEY = server.training_key
    out = io.StringIO()
    started = time.perf_counter()
    call_command("sync_predictions", stdout=out)
    return time.perf_counter() - started, out.getvalue().strip().splitlines()[-1]


def peak_memory(server) -> tuple[float, int]:
    """Sync into an empty cache; return the traced peak (MB) and how many it stored."""
    from reviewer.models import Prediction

    _empty_the_cache()
    gc.collect()
    tracemalloc.start()
    timed_sync(server)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, Prediction.objects.count()


def _empty_the_cache() -> None:
    from django.db import connection

    from reviewer.models import PredictedLabel, Prediction, Project, Review, SyncRun

    tables = [
        model._meta.db_table
        for model in (PredictedLabel, Review, Prediction, SyncRun, Project)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def seeded(predictions: int):
    """An emulator process holding one synthetic project of this size."""
    return emulator_process(f"--seed-predictions={predictions}", f"--seed-tags={TAGS}")


def main() -> int:
    """Print the figures of P1; return 1 if a target is missed."""
    with throwaway_database(DATABASE) as url:
        django_on(url)
        with seeded(PREDICTIONS) as server:
            with closing(client_of(server)) as client:
                (project,) = client.get_projects()
                next(client.query_predictions(project.id, order_by="Oldest"))

            bare, seen = bare_paging(server, project.id)
            first, summary = timed_sync(server)
            second, _ = timed_sync(server)
            bare_again, _ = bare_paging(server, project.id)
            bare = min(bare, bare_again)
            large_peak, large_stored = peak_memory(server)
        with seeded(SMALL) as server:
            small_peak, small_stored = peak_memory(server)

    print(f"machine: {machine()}")
    print("emulator in its own process; PostgreSQL; page size 50 (the default)")
    print(f"{seen:,} predictions of {BOXES} boxes over {TAGS} tags in each loop")
    print(f"bare paging: {bare:.2f} s ({seen / bare:,.0f} predictions/s)")
    print(f"first sync: {first:.2f} s ({PREDICTIONS / first:,.0f} predictions/s)")
    print(f"  {summary}")
    print(f"second sync, nothing new: {second:.3f} s")
    print(
        f"traced peak: {small_peak:.1f} MB syncing {small_stored:,},"
        f" {large_peak:.1f} MB syncing {large_stored:,}"
    )
    return report(
        [
            Figure("first sync vs 1.5 x bare paging", first, 1.5 * bare, " s"),
            Figure("second sync vs 5 % of the first", second, 0.05 * first, " s"),
            # Flat: five times the predictions may not cost more than 1.25 x memory.
            Figure(
                f"peak at {PREDICTIONS:,} vs 1.25 x peak at {SMALL:,}",
                large_peak,
                1.25 * small_peak,
                " MB",
            ),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
