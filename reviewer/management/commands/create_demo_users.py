from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from reviewer.roles import ANNOTATORS, LEADS

DEMO_USERS = (
    ("annotator", "annotator-demo", ANNOTATORS),
    ("lead", "lead-demo", LEADS),
)


class Command(BaseCommand):
    help = "Create the demo annotator and lead (for local demos only)."

    def handle(self, *args, **options):
        users = get_user_model()
        for username, password, role in DEMO_USERS:
            user, _ = users.objects.get_or_create(username=username)
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(f"  {username:<10} password: {password}  ({role})")
