"""The app's URLs and one more view that only answers "ok", to compare P2 against.

It runs behind the same middleware (session, log-in, security headers) as every page,
so the difference is what the review path itself costs.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


# benchmarks.review calls this path.
urlpatterns = [path("bench/trivial", trivial), path("", include("reviewer.urls"))]
