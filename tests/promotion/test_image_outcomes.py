"""What a run makes of each image status, and of a create call refused whole."""

import pytest

from reviewer.models import Batch, Outcome, PromotionRun, Review, ReviewState
from reviewer.services import promotion
from reviewer.services.promotion import RunStopped
from tests.promotion.helpers import promote, states, training_set

pytestmark = pytest.mark.django_db(transaction=True)

RETRY, FIX, TERMINAL = Outcome.Kind.RETRY, Outcome.Kind.FIX, Outcome.Kind.TERMINAL
APPROVED, FAILED = ReviewState.APPROVED, ReviewState.FAILED


@pytest.mark.parametrize(
    ("status", "kind", "state", "reason"),
    [
        ("ErrorStorage", RETRY, APPROVED, ""),
        ("ErrorUnknown", RETRY, APPROVED, ""),
        ("ErrorTagLimitExceed", FIX, FAILED, "The image has too many tags."),
        ("ErrorRegionLimitExceed", FIX, FAILED, "The image has too many regions."),
        (
            "ErrorNegativeAndRegularTagOnSameImage",
            FIX,
            FAILED,
            "A negative tag goes with regular tags on the image.",
        ),
        (
            "ErrorSource",
            TERMINAL,
            FAILED,
            "The service could not find the prediction's image.",
        ),
        (
            "ErrorImageFormat",
            TERMINAL,
            FAILED,
            "The service cannot read the image's format.",
        ),
        (
            "ErrorImageSize",
            TERMINAL,
            FAILED,
            "The image is too large for the training set.",
        ),
        (
            "ErrorLimitExceed",
            TERMINAL,
            FAILED,
            "The project's training image limit is reached.",
        ),
    ],
)
def test_each_image_status_decides_what_becomes_of_its_review(
    emulator, cv_client, approved, new_run, monkeypatch, status, kind, state, reason
):
    # One pass a run: an image to retry waits for the next run, not this one's.
    monkeypatch.setattr(promotion, "MAX_PASSES", 1)
    project = approved.project
    failing, *others = approved.predictions
    emulator.fail_image(failing, status)

    run = promote(cv_client, new_run(project))

    assert Batch.objects.get().http_status == 207
    outcome = Outcome.objects.get(run=run, review_id=failing)
    assert (outcome.kind, outcome.status) == (kind, status)
    review = Review.objects.get(pk=failing)
    assert (review.state, review.failure_reason) == (state, reason)
    assert training_set(emulator, project) == sorted(others)

    promote(cv_client, new_run(project))

    review.refresh_from_db()
    assert review.state == (ReviewState.PROMOTED if kind == RETRY else FAILED)


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (401, None, "refused the training key"),
        (404, "NotFoundProject", "does not know this project"),
    ],
)
def test_a_refused_create_call_stops_the_run_and_the_next_run_sends_the_batch(
    emulator, cv_client, approved, new_run, status, code, message
):
    project = approved.project
    emulator.inject(status=status, operation="CreateImagesFromPredictions", code=code)
    run = new_run(project)

    with pytest.raises(RunStopped, match=message):
        promote(cv_client, run)

    run.refresh_from_db()
    assert run.status == PromotionRun.Status.STOPPED
    assert message in run.error
    assert "nothing was marked failed" in run.error
    assert not Outcome.objects.exclude(kind=Outcome.Kind.PENDING).exists()
    assert FAILED not in states(project)
    assert Batch.objects.get().status == Batch.Status.PENDING
    assert training_set(emulator, project) == []

    promote(cv_client, new_run(project))

    batch = Batch.objects.get()
    assert (batch.status, batch.attempts) == (Batch.Status.ANSWERED, 2)
    assert states(project) == {ReviewState.PROMOTED}
    assert training_set(emulator, project) == sorted(approved.predictions)
