from contextlib import closing

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from reviewer.customvision.client import client_from_settings
from reviewer.management.projects import cached_projects
from reviewer.models import READY_STATUSES, Project, PromotionRun
from reviewer.services.promotion import (
    RunStopped,
    execute_run,
    queue_promotion,
    run_counts,
)


class Command(BaseCommand):
    help = (
        "Promote the approved predictions of every cached project, or of those named, "
        "into their training sets. Queues the work for the worker unless --wait."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--project",
            action="append",
            dest="projects",
            metavar="ID",
            help="Only this project (repeatable); every cached project when omitted.",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Run the promotion here, to the end, printing progress.",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Send only the items whose last attempt may be retried.",
        )

    def handle(self, *args, projects=None, wait=False, retry_failed=False, **options):
        targets = _projects(projects)
        for project in targets:
            run = queue_promotion(
                project, None, only_retries=retry_failed, enqueue=not wait
            )
            if not wait:
                self.stdout.write(f"Queued promotion {run.pk} of {project.name}.")
                continue
            self._run_here(run)

    def _run_here(self, run: PromotionRun) -> None:
        self._recorded = 0
        with closing(client_from_settings()) as client:
            try:
                execute_run(client, run, progress=self._show_progress)
            except RunStopped as error:
                raise CommandError(str(error)) from error
        counts = run_counts(run)
        if self.stdout.isatty():
            self.stdout.write("")
        self.stdout.write(
            f"{run.project.name}: {counts['promoted']} promoted, "
            f"{counts['retry']} to retry, {counts['fix']} back to review, "
            f"{counts['terminal']} cannot be promoted."
        )
        for status, number in _by_status(run):
            self.stdout.write(f"  {status:<40} {number}")

    def _show_progress(self, run: PromotionRun) -> None:
        """Redraw a line on a terminal; elsewhere, add one as outcomes are recorded."""
        counts = run_counts(run)
        done = counts["total"] - counts["pending"]
        line = f"  {run.project.name}: {done} of {counts['total']} recorded"
        if self.stdout.isatty():
            self.stdout.write("\r" + line, ending="")
            self.stdout.flush()
        elif done != self._recorded:
            self.stdout.write(line)
        self._recorded = done


def _projects(ids: list[str] | None) -> list[Project]:
    if not ids:
        return list(Project.objects.filter(status__in=READY_STATUSES))
    return cached_projects(ids)


def _by_status(run: PromotionRun) -> list[tuple[str, int]]:
    rows = run.outcomes.values("status").annotate(number=Count("pk"))
    return sorted((row["status"] or "pending", row["number"]) for row in rows)
