from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from reviewer.forms import AuditFilterForm
from reviewer.models import Prediction, Project
from reviewer.services import audit
from reviewer.views import can_audit, query_without_page


@can_audit
def audit_items(request: HttpRequest, project_id) -> HttpResponse:
    """List the project's reviewed items by what the reviewers changed."""
    project = get_object_or_404(Project, pk=project_id)
    form = AuditFilterForm(project, request.GET)
    items = audit.reviewed_items(project, form.filters())
    context = {
        "project": project,
        "form": form,
        "page": Paginator(items, audit.PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query_without_page(request),
        "pending_audits": audit.pending_audits(project),
    }
    if request.htmx.target == "audit-results":
        return render(request, "reviewer/partials/audit_results.html", context)
    return render(request, "reviewer/audit.html", context)


@can_audit
def audit_item(request: HttpRequest, project_id, prediction_id) -> HttpResponse:
    """Show one reviewed item: both boxes, its receipt, its decisions and outcomes."""
    prediction = get_object_or_404(
        Prediction.objects.select_related("project", "review__decided_by"),
        pk=prediction_id,
        project_id=project_id,
    )
    review = prediction.review
    context = {
        "project": prediction.project,
        "prediction": prediction,
        "review": review,
        "predicted": prediction.labels.select_related("tag"),
        "approved": review.approved_labels.select_related("tag"),
        "corrections": review.corrections.select_related("from_tag", "to_tag"),
        "outcomes": review.outcomes.select_related("run", "batch"),
    }
    return render(request, "reviewer/audit_item.html", context)


@can_audit
def promotion_history(request: HttpRequest, project_id) -> HttpResponse:
    """List the project's promotion runs and every image outcome, filtered."""
    project = get_object_or_404(Project, pk=project_id)
    form = AuditFilterForm(project, request.GET)
    outcomes = audit.promotion_outcomes(project, form.filters())
    context = {
        "project": project,
        "form": form,
        "runs": audit.recent_runs(project),
        "page": Paginator(outcomes, audit.PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query_without_page(request),
    }
    return render(request, "reviewer/promotions.html", context)
