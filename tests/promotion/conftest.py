import pytest
from django.utils import timezone

from reviewer.models import PromotionRun
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept


@pytest.fixture
def approved(detection_project, annotator):
    """The detection project with all four items approved as predicted."""
    bulk_accept(
        detection_project.project, QueueFilters(), 0.5, annotator, timezone.now()
    )
    return detection_project


@pytest.fixture
def new_run(lead):
    def make(project, **fields) -> PromotionRun:
        return PromotionRun.objects.create(project=project, requested_by=lead, **fields)

    return make


@pytest.fixture(autouse=True)
def fast_promotion(settings):
    settings.PROMOTION_RATE = 1000
    settings.PROMOTION_LEASE_SECONDS = 1
