"""The cache of what Custom Vision returned, and the ledger of our own work."""

from django.db import models


class ProjectKind(models.TextChoices):
    OBJECT_DETECTION = "object_detection", "Object detection"
    MULTICLASS = "multiclass", "Multiclass classification"
    MULTILABEL = "multilabel", "Multilabel classification"


class ProjectQuerySet(models.QuerySet):
    def for_listing(self) -> "ProjectQuerySet":
        """Annotate each project with the number of tags it has on the service."""
        return self.annotate(
            tag_count=models.Count("tags", filter=models.Q(tags__removed_at=None))
        ).order_by("name")


class Project(models.Model):
    """A Custom Vision project as the service last described it."""

    id = models.UUIDField(primary_key=True, help_text="The service's project id.")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=ProjectKind.choices)
    domain_id = models.UUIDField()
    status = models.CharField(max_length=20, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_object_detection(self) -> bool:
        return self.kind == ProjectKind.OBJECT_DETECTION


class Tag(models.Model):
    """A tag of a project; `removed_at` is set once the service no longer lists it."""

    id = models.UUIDField(primary_key=True, help_text="The service's tag id.")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=20, default="Regular")
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Iteration(models.Model):
    """A trained iteration of a project."""

    id = models.UUIDField(primary_key=True, help_text="The service's iteration id.")
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="iterations"
    )
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=30, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    publish_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.name
