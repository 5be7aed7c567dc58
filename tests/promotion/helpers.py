"""Run promotions against the emulator and read back what they did."""

import time

from reviewer.models import PromotionRun, Review
from reviewer.services.promotion import execute_run


def no_pause(seconds: float) -> None:
    time.sleep(min(seconds, 0.05))


def promote(cv_client, run) -> PromotionRun:
    return execute_run(cv_client, run, pause=no_pause)


def training_set(emulator, project) -> list[str]:
    """The prediction ids the emulator's training set holds, one per image."""
    return sorted(
        image["predictionId"] for image in emulator.state.tagged_images(str(project.pk))
    )


def states(project) -> set[str]:
    return set(Review.objects.filter(project=project).values_list("state", flat=True))
