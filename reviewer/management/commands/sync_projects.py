from django.core.management.base import BaseCommand, CommandError

from reviewer.customvision.client import client_from_settings
from reviewer.customvision.errors import CustomVisionError
from reviewer.services.projects import ProjectNotFound, sync_projects


class Command(BaseCommand):
    help = "Refresh the cached projects, tags and iterations from Custom Vision."

    def add_arguments(self, parser):
        parser.add_argument(
            "--project",
            action="append",
            dest="projects",
            metavar="ID",
            help="Only this project (repeatable); all projects when omitted.",
        )

    def handle(self, *args, projects=None, **options):
        try:
            synced = sync_projects(client_from_settings(), only=projects)
        except (CustomVisionError, ProjectNotFound) as error:
            raise CommandError(str(error)) from error

        for project in synced:
            self.stdout.write(
                f"{project.id}  {project.get_kind_display():<28} {project.name}"
            )
        self.stdout.write(self.style.SUCCESS(f"Synced {len(synced)} projects."))
