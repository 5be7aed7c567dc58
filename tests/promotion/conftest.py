import pytest

from reviewer.models import PromotionRun


@pytest.fixture
def new_run(lead):
    def make(project, **fields) -> PromotionRun:
        return PromotionRun.objects.create(project=project, requested_by=lead, **fields)

    return make


@pytest.fixture(autouse=True)
def fast_promotion(settings):
    settings.PROMOTION_RATE = 1000
    settings.PROMOTION_LEASE_SECONDS = 1
