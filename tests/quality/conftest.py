import pytest
from django.contrib.auth import get_user_model

from tests.quality.rows import make_shop


@pytest.fixture
def shop(db):
    """A detection project with three tags, two iterations and nothing reviewed."""
    return make_shop()


@pytest.fixture
def bea(db):
    """A second annotator."""
    return get_user_model().objects.create_user("bea", password="bea-password-1")
