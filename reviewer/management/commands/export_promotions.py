import uuid

from django.core.management.base import BaseCommand, CommandError

from reviewer.models import Project
from reviewer.services.exports import parse_day, promotion_outcomes, promotions_csv


class Command(BaseCommand):
    help = (
        "Write the promotion outcomes as CSV to standard output, one row per image "
        "and attempt, oldest first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", metavar="ID", help="Only this project.")
        parser.add_argument(
            "--since",
            metavar="YYYY-MM-DD",
            help="Only outcomes recorded on this day or later.",
        )

    def handle(self, *args, project=None, since=None, **options):
        day = None
        if since is not None:
            day = parse_day(since)
            if day is None:
                raise CommandError(
                    f"--since must be a day like 2024-05-31, not {since!r}."
                )
        target = cached_project(project) if project else None

        for line in promotions_csv(promotion_outcomes(target, since=day)):
            self.stdout.write(line, ending="")


def cached_project(project_id: str) -> Project:
    """Return the cached project with this id, or say how to get it."""
    try:
        return Project.objects.get(pk=uuid.UUID(project_id))
    except (ValueError, Project.DoesNotExist):
        raise CommandError(
            f"No project {project_id!r} in the cache; run sync_predictions first."
        ) from None
