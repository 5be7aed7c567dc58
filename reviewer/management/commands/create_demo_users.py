from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

DEMO_USERS = (
    ("annotator", "annotator-demo", False),
    ("lead", "lead-demo", True),
)


class Command(BaseCommand):
    help = "Create the demo annotator and lead (for local demos only)."

    def handle(self, *args, **options):
        users = get_user_model()
        for username, password, is_staff in DEMO_USERS:
            user, _ = users.objects.get_or_create(username=username)
            user.is_staff = is_staff
            user.set_password(password)
            user.save()
            if is_staff:
                user.user_permissions.add(
                    *Permission.objects.filter(codename__in=["bulk_accept", "promote"])
                )
            self.stdout.write(f"  {username:<10} password: {password}")
