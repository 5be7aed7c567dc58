import time
from collections import Counter
from contextlib import closing

from django.core.management.base import BaseCommand, CommandError

from reviewer.customvision.client import client_from_settings
from reviewer.customvision.errors import CustomVisionError
from reviewer.models import Project, SyncRun
from reviewer.services import outages
from reviewer.services.projects import ProjectNotFound, sync_projects
from reviewer.services.sync import run_sync_run


class Command(BaseCommand):
    help = (
        "Pull new stored predictions from Custom Vision into the cache, for every "
        "project the key can see or only those named. Safe to run again at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--project",
            action="append",
            dest="projects",
            metavar="ID",
            help="Only this project (repeatable); all projects when omitted.",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Read every stored prediction, not only the new ones, and take out "
            "of the queue those the service no longer keeps (deleted, or promoted "
            "elsewhere). Slower: run it daily, say.",
        )

    def handle(self, *args, projects=None, full=False, **options):
        started = time.monotonic()
        totals: Counter[str] = Counter()
        synced = []
        with closing(client_from_settings()) as client:
            try:
                synced = sync_projects(client, only=projects)
                for project in synced:
                    if project.is_ready:
                        run = SyncRun.objects.create(project=project, full=full)
                        run_sync_run(client, run, progress=self._show_progress)
                        self._show_done(run)
                        totals.update(
                            pages=run.pages,
                            seen=run.seen,
                            added=run.added,
                            removed=run.removed,
                        )
            except (CustomVisionError, ProjectNotFound) as error:
                if isinstance(error, CustomVisionError) and not synced:
                    # The key and the endpoint serve every project: all show it.
                    outages.record(Project.objects.all(), error)
                raise CommandError(str(error)) from error

        waiting = [project.name for project in synced if not project.is_ready]
        if waiting:
            self.stdout.write(
                f"  Not synced while the service is still preparing them: "
                f"{', '.join(waiting)}"
            )
        removed = f"{totals['removed']} no longer on the service, " if full else ""
        self.stdout.write(
            f"Synced {len(synced) - len(waiting)} projects: {totals['pages']} pages, "
            f"{totals['seen']} predictions seen, {totals['added']} new, {removed}"
            f"in {time.monotonic() - started:.1f} s."
        )

    def _show_progress(self, run: SyncRun) -> None:
        if self.stdout.isatty():
            self.stdout.write(
                f"\r  {run.project.name}: page {run.pages}, {run.seen} seen, "
                f"{run.added} new",
                ending="",
            )
            self.stdout.flush()

    def _show_done(self, run: SyncRun) -> None:
        if self.stdout.isatty():
            self.stdout.write("")
        removed = f", {run.removed} no longer on the service" if run.full else ""
        self.stdout.write(
            f"  {run.project.name}: {run.seen} seen, {run.added} new{removed} "
            f"in {run.pages} pages"
        )
