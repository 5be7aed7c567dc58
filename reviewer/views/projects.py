from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reviewer.models import Project
from reviewer.services import outages
from reviewer.views import can_review


@can_review
def project_list(request: HttpRequest) -> HttpResponse:
    """List the projects known to the app."""
    projects = list(Project.objects.for_listing())
    context = {"projects": projects, "service_banner": outages.latest_banner(projects)}
    return render(request, "reviewer/project_list.html", context)
