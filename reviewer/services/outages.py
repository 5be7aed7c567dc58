"""Remember when Custom Vision last failed a sync or a promotion, and say so."""

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.utils import timezone

from reviewer.customvision.errors import (
    AuthenticationError,
    NotFoundError,
    TransportError,
)
from reviewer.models import Project, ServiceError
from reviewer.services.projects import ProjectNotFound

SENTENCES = {
    ServiceError.KEY_REFUSED: "Custom Vision refused the training key at {at}",
    ServiceError.UNREACHABLE: "Custom Vision could not be reached at {at}",
    ServiceError.FAILING: "Custom Vision answered with errors at {at}",
    ServiceError.PROJECT_GONE: "Custom Vision no longer knew this project at {at}",
}


# What to tell whoever can fix it, for the failures a retry will not cure.
ADVICE = {
    ServiceError.KEY_REFUSED: "Custom Vision refused the training key. Check "
    "CUSTOMVISION_TRAINING_KEY and CUSTOMVISION_ENDPOINT",
    ServiceError.PROJECT_GONE: "Custom Vision does not know this project any more "
    "(it may have been deleted)",
}


def explain(error: Exception) -> str:
    """Say what stopped a call, as advice where the fix is in configuration."""
    return ADVICE.get(kind_of(error), str(error))


def needs_a_fix(error: Exception) -> bool:
    """Tell whether only a change of configuration or project cures the failure."""
    return kind_of(error) in ADVICE


def kind_of(error: Exception) -> str:
    """Sort a failed call into what the pages tell the user."""
    if isinstance(error, AuthenticationError):
        return ServiceError.KEY_REFUSED
    if isinstance(error, TransportError):
        return ServiceError.UNREACHABLE
    if isinstance(error, NotFoundError | ProjectNotFound):
        return ServiceError.PROJECT_GONE
    return ServiceError.FAILING


def record(projects: QuerySet[Project], error: Exception) -> None:
    """Note on the projects that the service failed them just now."""
    projects.update(service_error=kind_of(error), service_error_at=timezone.now())


def clear(project_id) -> None:
    """Forget a project's last failure: the service answered it since."""
    Project.objects.filter(pk=project_id).exclude(service_error="").update(
        service_error="", service_error_at=None
    )


def banner(project: Project) -> str:
    """Say that the pages show the cache because the service failed, if it did."""
    if not project.service_error:
        return ""
    return _sentence(project.service_error, project.service_error_at)


def latest_banner(projects: Iterable[Project]) -> str:
    """Say the newest failure among the projects, unless a sync succeeded since."""
    projects = list(projects)
    failed = [project for project in projects if project.service_error]
    if not failed:
        return ""
    last = max(failed, key=lambda project: project.service_error_at)
    synced = [project.last_synced_at for project in projects if project.last_synced_at]
    if synced and max(synced) > last.service_error_at:
        return ""
    return _sentence(last.service_error, last.service_error_at)


def _sentence(kind: str, at: datetime) -> str:
    moment = f"{at.astimezone(UTC):%H:%M} UTC" if at else "an unknown time"
    return f"{SENTENCES[kind].format(at=moment)}; the pages show the cache."
