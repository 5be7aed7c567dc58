"""Thin views: check access, call one service or selector, render."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest

can_review = permission_required("reviewer.review", raise_exception=True)
can_bulk_accept = permission_required("reviewer.bulk_accept", raise_exception=True)
can_promote = permission_required("reviewer.promote", raise_exception=True)
can_audit = permission_required("reviewer.audit", raise_exception=True)
can_export = permission_required("reviewer.export", raise_exception=True)


def query_without_page(request: HttpRequest) -> str:
    """Return the URL's filters without the page number, for pager links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
