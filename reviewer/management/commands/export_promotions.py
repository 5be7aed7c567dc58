from django.core.management.base import BaseCommand, CommandError

from reviewer.management.projects import cached_project
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
