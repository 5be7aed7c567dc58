"""Refresh the cached projects, tags and iterations from Custom Vision."""

import logging

from django.db import transaction
from django.utils import timezone

from reviewer.customvision import limits, types
from reviewer.customvision.client import CustomVisionClient
from reviewer.models import READY_STATUSES, Iteration, Project, ProjectKind, Tag

logger = logging.getLogger(__name__)


def project_kind(project: types.Project, domains: dict[str, types.Domain]) -> str:
    """Say what a project is: the domain's type decides, not classificationType."""
    domain = domains.get(project.domain_id)
    if domain is not None and domain.type == limits.DOMAIN_OBJECT_DETECTION:
        return ProjectKind.OBJECT_DETECTION
    if project.classification_type == limits.CLASSIFICATION_MULTILABEL:
        return ProjectKind.MULTILABEL
    return ProjectKind.MULTICLASS


def sync_projects(
    client: CustomVisionClient, only: list[str] | None = None
) -> list[Project]:
    """Upsert every project the key can see (or only those named), with tags."""
    domains = {domain.id: domain for domain in client.get_domains()}
    wanted = {str(project_id) for project_id in only or ()}
    projects = [
        project
        for project in client.get_projects()
        if not wanted or project.id in wanted
    ]
    missing = wanted - {project.id for project in projects}
    if missing:
        raise ProjectNotFound(sorted(missing))

    return [_sync_project(client, project, domains) for project in projects]


class ProjectNotFound(LookupError):
    """Raised when a project named by the operator is not on the service."""

    def __init__(self, project_ids: list[str]) -> None:
        self.project_ids = project_ids
        super().__init__(f"No such project on the service: {', '.join(project_ids)}")


def _sync_project(
    client: CustomVisionClient,
    remote: types.Project,
    domains: dict[str, types.Domain],
) -> Project:
    ready = (remote.status or "") in READY_STATUSES
    tags = client.get_tags(remote.id) if ready else []
    iterations = client.get_iterations(remote.id) if ready else []

    with transaction.atomic():
        project, _ = Project.objects.update_or_create(
            id=remote.id,
            defaults={
                "name": remote.name,
                "description": remote.description or "",
                "kind": project_kind(remote, domains),
                "domain_id": remote.domain_id,
                "status": remote.status or "",
            },
        )
        if ready:
            _store_tags(project, tags)
            _store_iterations(project, iterations)
    return project


def _store_tags(project: Project, tags: list[types.Tag]) -> None:
    Tag.objects.bulk_create(
        [Tag(id=tag.id, project=project, name=tag.name, type=tag.type) for tag in tags],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["name", "type", "removed_at"],
    )
    project.tags.exclude(id__in=[tag.id for tag in tags]).filter(
        removed_at=None
    ).update(removed_at=timezone.now())


def _store_iterations(project: Project, iterations: list[types.Iteration]) -> None:
    Iteration.objects.bulk_create(
        [
            Iteration(
                id=iteration.id,
                project=project,
                name=iteration.name,
                status=iteration.status or "",
                created=iteration.created,
                publish_name=iteration.publish_name or "",
            )
            for iteration in iterations
        ],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["name", "status", "created", "publish_name"],
    )
