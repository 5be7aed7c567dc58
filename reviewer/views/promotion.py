from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from reviewer.models import Project, PromotionRun
from reviewer.services import audit, promotion
from reviewer.views import can_promote

# What the Promote and Retry failed buttons send: whether to send only retries.
SCOPES = {"": False, "retries": True}


@can_promote
def promotion_manifest(request: HttpRequest, project_id) -> HttpResponse:
    """Show what a promotion of the project would send, and its recent runs."""
    project = get_object_or_404(Project, pk=project_id)
    context = {
        "project": project,
        "manifest": promotion.manifest(project, timezone.now()),
        **_progress_context(promotion.active_promotion(project)),
        "runs": project.promotion_runs.select_related("requested_by")[:10],
    }
    return render(request, "reviewer/promotion.html", context)


@require_POST
@can_promote
def promotion_start(request: HttpRequest, project_id) -> HttpResponse:
    """Queue the promotion (or the retry of what failed) for the worker."""
    project = get_object_or_404(Project, pk=project_id)
    scope = request.POST.get("scope", "")
    if scope not in SCOPES:
        message = "Unknown scope: promote all, or only retries."
        return HttpResponseBadRequest(message, content_type="text/plain")
    run = promotion.queue_promotion(project, request.user, only_retries=SCOPES[scope])
    if not request.htmx:
        return redirect("reviewer:promotion-run", project_id=project.pk, run_id=run.pk)
    return _progress(request, run)


@can_promote
def promotion_run(request: HttpRequest, project_id, run_id: int) -> HttpResponse:
    """Show one run: its counts, its batches and every image's outcome."""
    run = get_object_or_404(
        PromotionRun.objects.select_related("project", "requested_by"),
        pk=run_id,
        project_id=project_id,
    )
    context = {
        **_progress_context(run),
        "project": run.project,
        "batches": audit.run_batches(run),
        "outcomes": run.outcomes.select_related("review__decided_by"),
    }
    return render(request, "reviewer/promotion_run.html", context)


@can_promote
def promotion_progress(request: HttpRequest, project_id, run_id: int) -> HttpResponse:
    """Show how far a run got; the fragment polls itself until the run ends."""
    run = get_object_or_404(PromotionRun, pk=run_id, project_id=project_id)
    return _progress(request, run)


def _progress(request: HttpRequest, run: PromotionRun) -> HttpResponse:
    context = _progress_context(run)
    return render(request, "reviewer/partials/promotion_progress.html", context)


def _progress_context(run: PromotionRun | None) -> dict:
    if run is None:
        return {"run": None}
    counts = promotion.run_counts(run)
    return {
        "run": run,
        "project_id": run.project_id,
        "counts": counts,
        "done": counts["total"] - counts["pending"],
    }
