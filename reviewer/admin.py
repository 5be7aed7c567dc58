from django.contrib import admin

from reviewer.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projects come from the service; staff set only the review threshold."""

    list_display = ["name", "kind", "default_threshold", "last_synced_at"]
    fields = ["name", "kind", "status", "default_threshold", "last_synced_at"]
    readonly_fields = ["name", "kind", "status", "last_synced_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
