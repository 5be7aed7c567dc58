"""The app served with `benchmarks.trivial_urls`: gunicorn runs `benchmarks.trivial`."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
application = get_wsgi_application()
settings.ROOT_URLCONF = "benchmarks.trivial_urls"
