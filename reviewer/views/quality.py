from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from reviewer.models import Project
from reviewer.services import quality
from reviewer.views import can_audit


@can_audit
def project_quality(request: HttpRequest, project_id) -> HttpResponse:
    """Show the model's figures per tag against the reviewers', and each reviewer's."""
    project = get_object_or_404(Project, pk=project_id)
    iteration_id = _uuid_or_none(request.GET.get("iteration"))
    context = {
        "project": project,
        "report": quality.quality_report(project, iteration_id),
    }
    return render(request, "reviewer/quality.html", context)


def _uuid_or_none(raw: str | None) -> UUID | None:
    try:
        return UUID(raw)
    except (TypeError, ValueError):
        return None
