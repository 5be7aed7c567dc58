"""The log-in backend: each request's user arrives knowing the app's permissions."""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, Q

APP_LABEL = "reviewer"
CODENAMES = ("review", "bulk_accept", "promote", "audit", "export")


class ReviewerBackend(ModelBackend):
    """Read the user and their reviewer permissions in one query instead of three.

    Every page checks one of these permissions; other permissions (the admin's) are
    read as ModelBackend reads them.
    """

    def get_user(self, user_id):
        sql, params = _user_query()
        users = get_user_model()._default_manager.raw(sql, [*params, user_id])
        user = next(iter(users), None)
        return user if user and self.user_can_authenticate(user) else None

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        app_label, _, codename = perm.partition(".")
        granted = getattr(user_obj, _attribute(codename), None)
        if app_label != APP_LABEL or granted is None or obj is not None:
            return super().has_perm(user_obj, perm, obj)
        return user_obj.is_active and (user_obj.is_superuser or bool(granted))


@cache
def _user_query() -> tuple[str, tuple]:
    """The SQL that reads a user and their permissions, compiled once.

    Compiling the five EXISTS subqueries took longer than running them. The user's
    id is the last parameter; the rest are returned.
    """
    granted = {
        _attribute(codename): Exists(
            Permission.objects.filter(
                Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")),
                codename=codename,
                content_type__app_label=APP_LABEL,
            )
        )
        for codename in CODENAMES
    }
    users = get_user_model()._default_manager.annotate(**granted)
    sql, params = users.filter(pk=0).query.sql_with_params()
    if params[-1] != 0:
        raise ImproperlyConfigured("The user's id is not the query's last parameter.")
    return sql, params[:-1]


def _attribute(codename: str) -> str:
    return f"_may_{codename}"
