"""Faults while paging through stored predictions: the cache stays whole, the next
sync completes it."""

import time
from collections import Counter

import pytest
from django.utils import timezone

from reviewer.customvision.client import CustomVisionClient
from reviewer.customvision.emulator.wire import Response
from reviewer.customvision.errors import CustomVisionError
from reviewer.models import PredictedLabel, Prediction, Review, SyncRun
from reviewer.services import sync as sync_service
from reviewer.services.projects import sync_projects
from reviewer.services.sync import active_sync, queue_sync, run_sync_run
from tests.fixtures.projects import sync

pytestmark = pytest.mark.django_db

PREDICTIONS = 400
PAGE = 50
QUERY = "QueryPredictions"


@pytest.fixture
def remote(emulator, cv_client, cv_settings):
    """A synthetic project of eight pages on the service, known to the cache."""
    emulator.config.page_size = PAGE
    project_id = emulator.seed_synthetic(predictions=PREDICTIONS, tags=10)
    sync_projects(cv_client, only=[project_id])
    return project_id


def oldest_first(emulator, project_id: str) -> list[str]:
    predictions = emulator.state.project_predictions(project_id).values()
    return [p.id for p in sorted(predictions, key=lambda p: (p.created, p.id))]


def assert_whole(emulator, project_id: str) -> int:
    """Every cached prediction has its review and all its labels; pages are whole."""
    cached = {str(pk) for pk in Prediction.objects.values_list("pk", flat=True)}
    assert Review.objects.count() == len(cached)
    assert not Prediction.objects.filter(review=None).exists()
    labels = Counter(
        str(pk) for pk in PredictedLabel.objects.values_list("prediction_id", flat=True)
    )
    predictions = emulator.state.project_predictions(project_id)
    for prediction_id in cached:
        expected = len(emulator.state.labels_of(predictions[prediction_id]))
        assert labels[prediction_id] == expected, prediction_id
    # Pages come oldest first and each is stored whole: the cache holds a prefix.
    assert cached == set(oldest_first(emulator, project_id)[: len(cached)])
    return len(cached)


def fail_after_pages(pages: int, fault):
    """A progress callback that sets off a fault once `pages` pages are stored.

    The sync fetches the next page while it stores one, so that page may arrive
    before the fault does.
    """

    def progress(run: SyncRun) -> None:
        if run.pages == pages:
            fault()

    return progress


def first_sync(project_id: str, client, progress=None) -> SyncRun:
    run = SyncRun.objects.create(project_id=project_id)
    with pytest.raises(Exception) as raised:
        run_sync_run(client, run, progress=progress)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error, raised.value
    return run


def assert_next_sync_completes(emulator, cv_client, project_id: str) -> None:
    project = sync(cv_client, project_id)
    run = project.sync_runs.first()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert assert_whole(emulator, project_id) == PREDICTIONS
    assert active_sync(project) is None


def test_503s_beyond_the_client_retries_leave_whole_pages(emulator, cv_client, remote):
    # The client tries a read four times; five 503s in a row exhaust it.
    run = first_sync(
        remote,
        cv_client,
        fail_after_pages(3, lambda: emulator.inject(503, count=5, operation=QUERY)),
    )

    assert "HTTP 503" in run.error
    stored = assert_whole(emulator, remote)
    assert stored in (3 * PAGE, 4 * PAGE)
    assert run.added == stored == run.pages * PAGE
    assert_next_sync_completes(emulator, cv_client, remote)


def test_throttling_and_slow_answers_while_paging_only_slow_the_sync(
    emulator, cv_client, remote
):
    emulator.config.latency_ms = 30
    run = SyncRun.objects.create(project_id=remote)
    started = time.monotonic()

    run_sync_run(
        cv_client,
        run,
        progress=fail_after_pages(
            3, lambda: emulator.inject(429, count=2, operation=QUERY, retry_after=1)
        ),
    )

    # Two throttled tries, each waited out for its Retry-After second.
    assert time.monotonic() - started >= 2
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert assert_whole(emulator, remote) == PREDICTIONS
    throttled = [entry for entry in emulator.request_log if entry[3] == 429]
    assert len(throttled) == 2


def test_lost_answers_leave_whole_pages(emulator, cv_client, remote):
    run = first_sync(
        remote,
        cv_client,
        fail_after_pages(2, lambda: emulator.drop_next(count=5, operation=QUERY)),
    )

    assert "no answer" in run.error
    stored = assert_whole(emulator, remote)
    assert stored in (2 * PAGE, 3 * PAGE)
    assert run.added == stored
    assert_next_sync_completes(emulator, cv_client, remote)


def test_an_unreadable_page_leaves_whole_pages(
    emulator, cv_client, remote, monkeypatch
):
    answer = emulator._answer
    queries = Counter()

    def garbled(request, route, params):
        if route.operation == QUERY:
            queries[QUERY] += 1
            if queries[QUERY] == 4:
                return Response(200, b'{"results": [{"id": 5}], "token": ')
        return answer(request, route, params)

    monkeypatch.setattr(emulator, "_answer", garbled)

    run = first_sync(remote, cv_client)

    assert "not JSON" in run.error
    assert assert_whole(emulator, remote) == 3 * PAGE
    assert_next_sync_completes(emulator, cv_client, remote)


def test_a_crash_while_storing_a_page_leaves_nothing_of_it(
    emulator, cv_client, remote, monkeypatch
):
    refresh_links = Prediction.objects.bulk_update

    def crash_on_the_fifth_page(*args, **kwargs):
        # Called last, once the page's predictions, labels and reviews are written.
        if Prediction.objects.count() > 4 * PAGE:
            raise RuntimeError("The worker died here.")
        return refresh_links(*args, **kwargs)

    monkeypatch.setattr(Prediction.objects, "bulk_update", crash_on_the_fifth_page)

    run = first_sync(remote, cv_client)

    assert "unexpected error (RuntimeError)" in run.error
    assert assert_whole(emulator, remote) == 4 * PAGE
    assert active_sync(run.project) is None
    monkeypatch.undo()
    assert_next_sync_completes(emulator, cv_client, remote)


def test_random_faults_on_every_call_are_completed_by_later_syncs(emulator, remote):
    # No client retries: every 503 ends a sync, which the next one resumes.
    emulator.config.fail_rate = 0.25
    client = CustomVisionClient(emulator.endpoint, "test-key", retries=0, backoff=0)
    runs = []
    for _ in range(60):
        run = SyncRun.objects.create(project_id=remote)
        try:
            run_sync_run(client, run)
        except CustomVisionError:
            run.refresh_from_db()
        runs.append(run.status)
        assert_whole(emulator, remote)
        if run.status == SyncRun.Status.SUCCEEDED:
            break
    client.close()

    assert SyncRun.Status.FAILED in runs
    assert runs[-1] == SyncRun.Status.SUCCEEDED
    assert assert_whole(emulator, remote) == PREDICTIONS


def test_a_sync_whose_worker_died_no_longer_blocks_the_next(
    emulator, cv_client, remote, django_capture_on_commit_callbacks
):
    # SIGKILL leaves the run "running"; its lease, renewed after each page, lapses.
    dead = SyncRun.objects.create(
        project_id=remote,
        status=SyncRun.Status.RUNNING,
        started_at=timezone.now() - sync_service.LEASE * 2,
        lease_expires_at=timezone.now() - sync_service.LEASE,
    )

    with django_capture_on_commit_callbacks(execute=False):
        run = queue_sync(dead.project)

    assert run.pk != dead.pk
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED
    assert "worker stopped" in dead.error
