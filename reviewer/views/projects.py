from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reviewer.models import Project
from reviewer.views import can_review


@can_review
def project_list(request: HttpRequest) -> HttpResponse:
    """List the projects known to the app."""
    projects = Project.objects.for_listing()
    return render(request, "reviewer/project_list.html", {"projects": projects})
