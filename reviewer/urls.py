from django.contrib import admin
from django.urls import include, path

from reviewer.views import health, projects

app_patterns = (
    [
        path("", projects.project_list, name="project-list"),
    ],
    "reviewer",
)

urlpatterns = [
    path("", include(app_patterns)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.health, name="health"),
]
