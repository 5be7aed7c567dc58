from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from reviewer.forms import AuditFilterForm
from reviewer.models import Project
from reviewer.services import exports
from reviewer.views import can_export


@require_GET
@can_export
def promotions_export(request: HttpRequest, project_id) -> StreamingHttpResponse:
    """Stream the project's promotion outcomes as CSV, filtered like the page."""
    project = get_object_or_404(Project, pk=project_id)
    filters = AuditFilterForm(project, request.GET).filters()
    return _stream(exports.promotions_download(project, filters))


@require_GET
@can_export
def labels_export(request: HttpRequest, project_id) -> StreamingHttpResponse:
    """Stream the approved labels as COCO for detection, JSON Lines otherwise."""
    project = get_object_or_404(Project, pk=project_id)
    return _stream(exports.labels_download(project))


def _stream(download: exports.Download) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        download.chunks, content_type=f"{download.content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, download.filename
    )
    return response
