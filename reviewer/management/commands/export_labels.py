from django.core.management.base import BaseCommand, CommandError

from reviewer.management.projects import cached_project
from reviewer.services.exports import LABEL_FORMATS, WrongFormat, labels_export


class Command(BaseCommand):
    help = (
        "Write a project's approved labels to standard output: COCO JSON for object "
        "detection, JSON Lines (one image a line) for classification."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="ID")
        parser.add_argument(
            "--format",
            dest="file_format",
            required=True,
            choices=sorted(LABEL_FORMATS),
            help="coco for object detection, jsonl for classification.",
        )

    def handle(self, *args, project, file_format, **options):
        target = cached_project(project)
        try:
            chunks = labels_export(target, file_format)
        except WrongFormat as error:
            raise CommandError(str(error)) from None

        for chunk in chunks:
            self.stdout.write(chunk, ending="")
