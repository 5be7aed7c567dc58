from django.contrib import admin
from django.urls import include, path

from reviewer.views import (
    accounts,
    audit,
    exports,
    health,
    images,
    projects,
    promotion,
    quality,
    queue,
    review,
    sync,
)

project = "projects/<uuid:project_id>/"
item = project + "review/<uuid:prediction_id>/"

app_patterns = (
    [
        path("", projects.project_list, name="project-list"),
        path(project, queue.project_queue, name="project-queue"),
        path(project + "bulk-accept", queue.queue_bulk_accept, name="bulk-accept"),
        path(project + "sync", sync.sync_start, name="sync-start"),
        path(project + "sync/<int:run_id>", sync.sync_progress, name="sync-progress"),
        path(project + "review/", review.review_start, name="review-start"),
        path(item, review.review_item, name="review-item"),
        path(item + "decide", review.review_decide, name="review-decide"),
        path(item + "undo", review.review_undo, name="review-undo"),
        path(
            project + "promotion/",
            promotion.promotion_manifest,
            name="promotion-manifest",
        ),
        path(
            project + "promotion/start",
            promotion.promotion_start,
            name="promotion-start",
        ),
        path(project + "audit/", audit.audit_items, name="audit-items"),
        path(
            project + "audit/<uuid:prediction_id>/",
            audit.audit_item,
            name="audit-item",
        ),
        path(project + "promotions/", audit.promotion_history, name="promotions"),
        path(
            project + "promotions/<int:run_id>/",
            promotion.promotion_run,
            name="promotion-run",
        ),
        path(
            project + "promotions/<int:run_id>/progress",
            promotion.promotion_progress,
            name="promotion-progress",
        ),
        path(
            project + "promotions/export.csv",
            exports.promotions_export,
            name="promotions-export",
        ),
        path(
            project + "labels/export",
            exports.labels_export,
            name="labels-export",
        ),
        path(project + "quality/", quality.project_quality, name="project-quality"),
        path(
            project + "predictions/<uuid:prediction_id>/<str:size>",
            images.prediction_image_view,
            name="prediction-image",
        ),
    ],
    "reviewer",
)

urlpatterns = [
    path("", include(app_patterns)),
    path("accounts/login/", accounts.ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.health, name="health"),
]
