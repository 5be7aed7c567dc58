"""A detection project promoted once through the emulator, with a ledger to export."""

import pytest

from reviewer.models import ApprovedLabel, PromotionRun, Review
from reviewer.services.promotion import execute_run


@pytest.fixture
def promoted(approved, cv_client, lead, settings):
    """Three images promoted, one with a box a reviewer added; one sent back to fix."""
    settings.PROMOTION_RATE = 1000
    project = approved.project
    broken, added_to, *_ = Review.objects.filter(project=project).order_by("pk")
    broken.approved_labels.update(width=0)
    ApprovedLabel.objects.create(
        review=added_to,
        tag=project.tags.get(name="Cherry"),
        left=0.25,
        top=0.4,
        width=0.5,
        height=0.125,
    )

    execute_run(
        cv_client, PromotionRun.objects.create(project=project, requested_by=lead)
    )
    approved.broken = broken
    approved.added_to = added_to
    return approved
