"""Count failed logins, so that guessing passwords is slow."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from reviewer.models import LoginFailure


def _recent() -> Q:
    window = timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    return Q(at__gte=timezone.now() - window)


def too_many_failures(username: str, address: str) -> bool:
    """Tell whether this username or address failed too often lately."""
    recent = LoginFailure.objects.filter(_recent())
    limit = settings.LOGIN_FAILURE_LIMIT
    by_user = recent.filter(username__iexact=username).count() if username else 0
    by_address = recent.filter(address=address).count() if address else 0
    # An address may be a whole office behind one proxy: allow it more.
    return by_user >= limit or by_address >= limit * 4


def record_failure(username: str, address: str) -> None:
    """Remember one failed login, and forget those older than a day."""
    LoginFailure.objects.filter(at__lt=timezone.now() - timedelta(days=1)).delete()
    LoginFailure.objects.create(username=username[:150], address=address or None)


def forget_failures(username: str) -> None:
    """Clear a user's failures once they log in."""
    LoginFailure.objects.filter(username__iexact=username).delete()
