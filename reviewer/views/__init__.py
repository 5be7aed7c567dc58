"""Thin views: check access, call one service or selector, render."""

from django.contrib.auth.decorators import permission_required

can_review = permission_required("reviewer.review", raise_exception=True)
can_bulk_accept = permission_required("reviewer.bulk_accept", raise_exception=True)
can_promote = permission_required("reviewer.promote", raise_exception=True)
can_audit = permission_required("reviewer.audit", raise_exception=True)
can_export = permission_required("reviewer.export", raise_exception=True)
