"""Find the cached projects a command was asked about, or say how to get them."""

import uuid

from django.core.management.base import CommandError

from reviewer.models import Project


def cached_project(project_id: str) -> Project:
    """Return the cached project with this id, or explain what is wrong."""
    return cached_projects([project_id])[0]


def cached_projects(project_ids: list[str]) -> list[Project]:
    """Return the cached projects with these ids, in order."""
    try:
        wanted = [uuid.UUID(pk) for pk in project_ids]
    except ValueError:
        raise CommandError("A project id must be a UUID.") from None
    found = Project.objects.in_bulk(wanted)
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise CommandError(
            f"Not in the cache: {', '.join(missing)}; run sync_predictions first."
        )
    return [found[pk] for pk in wanted]
