"""The two roles, as Django groups with the app's permissions."""

ANNOTATORS = "Annotators"
LEADS = "Leads"

ROLE_PERMISSIONS = {
    ANNOTATORS: ["review"],
    LEADS: ["review", "bulk_accept", "promote", "audit", "export"],
}


def ensure_roles(group_model, permission_model) -> None:
    """Create or update the role groups; takes models so migrations can use it."""
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set(
            permission_model.objects.filter(
                content_type__app_label="reviewer", codename__in=codenames
            )
        )
