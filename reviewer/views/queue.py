from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from reviewer.forms import BulkAcceptForm, filters_from_query
from reviewer.models import Project
from reviewer.services import outages, queue
from reviewer.services.review import bulk_accept, bulk_candidates
from reviewer.services.sync import active_sync
from reviewer.views import can_bulk_accept, can_review, query_without_page


@can_review
def project_queue(request: HttpRequest, project_id) -> HttpResponse:
    """Show a project's counts, filters and matching items; the list is a fragment."""
    project = get_object_or_404(Project, pk=project_id)
    form, filters = filters_from_query(project, request.GET)
    now = timezone.now()
    reviews = queue.with_thumbnail_data(queue.matching_reviews(project, filters, now))
    page = Paginator(reviews, queue.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "form": form,
        "page": page,
        "matching": page.paginator.count,
        "query": query_without_page(request),
        "now": now,
    }
    if request.user.has_perm("reviewer.bulk_accept"):
        context["bulk_form"] = BulkAcceptForm(
            initial={"min_probability": project.default_threshold}
        )
        context["bulk_count"] = bulk_candidates(
            project, filters, request.user, now
        ).count()
    if request.htmx.target == "queue-results":
        return render(request, "reviewer/partials/queue_results.html", context)

    context["counts"] = queue.state_counts(project, now)
    context["sync_run"] = active_sync(project)
    context["service_banner"] = outages.banner(project)
    return render(request, "reviewer/queue.html", context)


@require_POST
@can_bulk_accept
def queue_bulk_accept(request: HttpRequest, project_id) -> HttpResponse:
    """Accept every filtered item as predicted, at the threshold the lead chose."""
    project = get_object_or_404(Project, pk=project_id)
    filter_form, filters = filters_from_query(project, request.GET)
    form = BulkAcceptForm(request.POST)
    if filter_form.errors:
        # Ignoring a bad filter would widen the accept to items nobody chose.
        messages.error(request, "The filters in the address are not valid; fix them.")
    elif form.is_valid():
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
