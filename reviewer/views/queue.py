from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from reviewer.forms import BulkAcceptForm, filters_from_query
from reviewer.models import Project
from reviewer.services import queue
from reviewer.services.review import bulk_accept
from reviewer.services.sync import active_sync
from reviewer.views import can_bulk_accept, can_review, query_without_page


@can_review
def project_queue(request: HttpRequest, project_id) -> HttpResponse:
    """Show a project's counts, filters and matching items; the list is a fragment."""
    project = get_object_or_404(Project, pk=project_id)
    form, filters = filters_from_query(project, request.GET)
    now = timezone.now()
    page = _page_number(request)
    reviews = queue.matching_reviews(project, filters, now)
    rows = queue.queue_page(reviews, page)
    context = {
        "project": project,
        "form": form,
        "rows": rows[: queue.PAGE_SIZE],
        "has_next_page": len(rows) > queue.PAGE_SIZE,
        "page": page,
        "matching": reviews.count(),
        "query": query_without_page(request),
        "now": now,
    }
    if request.htmx.target == "queue-results":
        return render(request, "reviewer/partials/queue_results.html", context)

    context["counts"] = queue.state_counts(project, now)
    context["sync_run"] = active_sync(project)
    context["bulk_form"] = BulkAcceptForm(
        initial={"min_probability": project.default_threshold}
    )
    return render(request, "reviewer/queue.html", context)


def _page_number(request: HttpRequest) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


@require_POST
@can_bulk_accept
def queue_bulk_accept(request: HttpRequest, project_id) -> HttpResponse:
    """Accept every filtered item as predicted, at the threshold the lead chose."""
    project = get_object_or_404(Project, pk=project_id)
    _, filters = filters_from_query(project, request.GET)
    form = BulkAcceptForm(request.POST)
    if form.is_valid():
        result = bulk_accept(
            project,
            filters,
            form.cleaned_data["min_probability"],
            request.user,
            timezone.now(),
        )
        messages.success(
            request,
            f"Accepted {result.accepted} items as predicted; {result.left} left "
            f"because nothing reached the threshold; {result.sampled} sampled "
            "for audit.",
        )
    else:
        messages.error(request, "Choose a probability between 0 and 1.")
    url = reverse("reviewer:project-queue", args=[project.pk])
    return redirect(f"{url}?{request.GET.urlencode()}")
