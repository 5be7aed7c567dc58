from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reviewer.management.projects import cached_project
from reviewer.services.queue import QueueFilters
from reviewer.services.review import bulk_accept


class Command(BaseCommand):
    help = (
        "Accept every prediction of a project still to review as predicted, keeping "
        "the tags and boxes at or above a probability."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="ID")
        parser.add_argument("--min-probability", required=True, type=float, metavar="P")
        parser.add_argument(
            "--as",
            dest="username",
            metavar="USERNAME",
            help="Record the decisions as this user's.",
        )

    def handle(self, *args, project, min_probability, username=None, **options):
        if not 0 <= min_probability <= 1:
            raise CommandError("--min-probability must be between 0 and 1.")
        target = cached_project(project)
        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user named {username!r}.")

        result = bulk_accept(
            target, QueueFilters(), min_probability, user, timezone.now()
        )
        self.stdout.write(
            f"Accepted {result.accepted} predictions; left {result.left} where "
            f"nothing reached {min_probability}; {result.sampled} sampled for audit."
        )
