from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from reviewer.models import Project, SyncRun
from reviewer.services.sync import queue_sync
from reviewer.views import can_review


@require_POST
@can_review
def sync_start(request: HttpRequest, project_id) -> HttpResponse:
    """Queue a background sync of the project and show its progress."""
    project = get_object_or_404(Project, pk=project_id)
    run = queue_sync(project, request.user)
    if not request.htmx:
        return redirect("reviewer:project-queue", project_id=project.pk)
    return _progress(request, run)


@can_review
def sync_progress(request: HttpRequest, project_id, run_id: int) -> HttpResponse:
    """Show how far a sync got; the fragment polls itself until the run ends."""
    run = get_object_or_404(SyncRun, pk=run_id, project_id=project_id)
    return _progress(request, run)


def _progress(request: HttpRequest, run: SyncRun) -> HttpResponse:
    context = {
        "run": run,
        "project_id": run.project_id,
        "share": run.share_done(timezone.now()),
    }
    return render(request, "reviewer/partials/sync_progress.html", context)
