from django.contrib.auth.management import create_permissions
from django.db import migrations

from reviewer.roles import ROLE_PERMISSIONS, ensure_roles


def create_roles(apps, schema_editor):
    """Create the Annotators and Leads groups with their permissions."""
    # Permissions are normally made after migrating; the groups need them now.
    app = apps.get_app_config("reviewer")
    app.models_module = True
    create_permissions(app, verbosity=0, apps=apps)
    app.models_module = None
    ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reviewer", "0005_review_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
