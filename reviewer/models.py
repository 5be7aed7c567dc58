"""The cache of what Custom Vision returned, and the ledger of our own work."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from reviewer.customvision.limits import PREDICTION_RETENTION_DAYS

RETENTION = timedelta(days=PREDICTION_RETENTION_DAYS)
# A project's service status in which it answers for its tags and predictions.
READY_STATUSES = ("", "Succeeded")


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


class ServiceError(models.TextChoices):
    KEY_REFUSED = "key_refused", "The training key was refused"
    UNREACHABLE = "unreachable", "The service could not be reached"
    FAILING = "failing", "The service answered with errors"
    PROJECT_GONE = "project_gone", "The service no longer knows the project"


class Project(models.Model):
    """A Custom Vision project as the service last described it."""

    id = models.UUIDField(primary_key=True, help_text="The service's project id.")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=ProjectKind.choices)
    domain_id = models.UUIDField()
    status = models.CharField(max_length=20, blank=True)
    default_threshold = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Boxes and tags below this probability start hidden, and bulk "
        "accept starts from it.",
    )
    last_synced_at = models.DateTimeField(null=True, blank=True)
    service_error = models.CharField(
        max_length=20,
        blank=True,
        choices=ServiceError.choices,
        help_text="Why the last sync or promotion could not use the service; "
        "empty once one succeeds.",
    )
    service_error_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_object_detection(self) -> bool:
        return self.kind == ProjectKind.OBJECT_DETECTION

    @property
    def is_ready(self) -> bool:
        """Whether the service answers for its predictions (not still importing)."""
        return self.status in READY_STATUSES


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


class PredictionQuerySet(models.QuerySet):
    def for_review(self) -> "PredictionQuerySet":
        """Load what the review screen shows in a fixed number of queries."""
        labels = models.Prefetch(
            "labels", queryset=PredictedLabel.objects.select_related("tag")
        )
        return self.select_related("project", "iteration", "review").prefetch_related(
            labels
        )


class Prediction(models.Model):
    """One stored image prediction: the image the model saw and what it said."""

    id = models.UUIDField(primary_key=True, help_text="The service's prediction id.")
    # Indexed first in (project, created): an index of its own would only slow syncs.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="predictions", db_index=False
    )
    iteration = models.ForeignKey(
        Iteration, on_delete=models.SET_NULL, null=True, related_name="predictions"
    )
    created = models.DateTimeField(help_text="When the model saw the image.")
    thumbnail_uri = models.TextField(blank=True)
    resized_image_uri = models.TextField(blank=True)
    original_image_uri = models.TextField(blank=True)
    uris_fetched_at = models.DateTimeField(
        help_text="When the signed image links were read; they expire in about a day."
    )
    removed_at = models.DateTimeField(
        null=True, help_text="When we learnt the service no longer has it."
    )
    image_width = models.PositiveIntegerField(
        null=True, help_text="Of the original image, in pixels; read on export."
    )
    image_height = models.PositiveIntegerField(
        null=True, help_text="Of the original image, in pixels; read on export."
    )

    objects = PredictionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["project", "created"])]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def expires_at(self) -> datetime:
        return self.created + RETENTION

    def days_left(self, now: datetime) -> int:
        """Whole days until the service deletes the prediction; 0 once expired."""
        return max((self.expires_at - now).days, 0)


class Box(models.Model):
    """A box normalised to 0-1 of the image; empty in classification."""

    left = models.FloatField(null=True)
    top = models.FloatField(null=True)
    width = models.FloatField(null=True)
    height = models.FloatField(null=True)

    class Meta:
        abstract = True

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        if self.left is None:
            return None
        return (self.left, self.top, self.width, self.height)


class PredictedLabel(Box):
    """A tag the model predicted, with its probability and, in detection, a box."""

    prediction = models.ForeignKey(
        Prediction, on_delete=models.CASCADE, related_name="labels"
    )
    # Indexed first in (tag, probability).
    tag = models.ForeignKey(
        Tag, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    probability = models.FloatField()

    class Meta(Box.Meta):
        ordering = ["-probability"]
        indexes = [models.Index(fields=["tag", "probability"])]

    def __str__(self) -> str:
        return f"{self.tag_id} at {self.probability:.2f}"


class ReviewState(models.TextChoices):
    TO_REVIEW = "to_review", "To review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SKIPPED = "skipped", "Skipped"
    IN_BATCH = "in_batch", "In a batch"
    PROMOTED = "promoted", "Promoted"
    FAILED = "failed", "Failed"


class Review(models.Model):
    """The human side of one prediction: its state, lease and decision."""

    prediction = models.OneToOneField(
        Prediction, on_delete=models.CASCADE, primary_key=True, related_name="review"
    )
    # Indexed first in both of the queue's indexes below.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    state = models.CharField(
        max_length=20, choices=ReviewState.choices, default=ReviewState.TO_REVIEW
    )
    # The queue's sort keys, copied from the prediction (neither ever changes) so the
    # next item is found by walking one index instead of joining every item.
    uncertainty = models.FloatField(
        default=0.5,
        help_text="How far the prediction's least certain label is from 0.5; "
        "lower is less sure and comes first.",
    )
    predicted_at = models.DateTimeField(help_text="The prediction's time.")
    version = models.PositiveIntegerField(default=0)
    leased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True)
    bulk_accepted = models.BooleanField(default=False)
    audit_sample = models.BooleanField(default=False)
    changed = models.BooleanField(
        default=False, help_text="The approved labels differ from the prediction."
    )
    failure_reason = models.TextField(blank=True)
    receipt = models.JSONField(
        default=dict,
        blank=True,
        help_text="Counts of what the reviewer changed: unchanged, moved, relabelled, "
        "deleted, added, and the lowest IoU of a kept box.",
    )
    audit_verdict = models.CharField(
        max_length=20,
        blank=True,
        choices=[("confirmed", "Confirmed"), ("corrected", "Corrected")],
    )
    audited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    audited_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "state", "uncertainty", "prediction"]),
            models.Index(fields=["project", "state", "predicted_at", "prediction"]),
        ]
        permissions = [
            ("review", "Can review predictions"),
            ("bulk_accept", "Can accept many predictions at once"),
            ("promote", "Can promote approved predictions into the training set"),
            ("audit", "Can audit reviews, promotions and the model's quality"),
            ("export", "Can export promotions and approved labels"),
        ]

    def __str__(self) -> str:
        return f"review of {self.prediction_id}"


class ApprovedLabel(Box):
    """A tag, and in detection a box, that a reviewer approved for promotion."""

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="approved_labels"
    )
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(
        PredictedLabel,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        help_text="The predicted label it came from; empty when a reviewer added it.",
    )

    def __str__(self) -> str:
        return f"{self.tag_id} ({'predicted' if self.source_id else 'added'})"


class Correction(models.Model):
    """One line of a review's receipt: what became of one predicted or added label."""

    class Kind(models.TextChoices):
        UNCHANGED = "unchanged", "Accepted unchanged"
        MOVED = "moved", "Moved or resized"
        RELABELLED = "relabelled", "Relabelled"
        DELETED = "deleted", "Deleted (false positive)"
        ADDED = "added", "Added (missed)"

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="corrections"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    predicted = models.ForeignKey(
        PredictedLabel, on_delete=models.CASCADE, null=True, related_name="+"
    )
    from_tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, null=True, related_name="+"
    )
    to_tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, null=True, related_name="+"
    )
    probability = models.FloatField(null=True)
    iou = models.FloatField(null=True, help_text="Of the predicted and approved box.")

    class Meta:
        indexes = [models.Index(fields=["kind", "from_tag", "to_tag"])]

    def __str__(self) -> str:
        return f"{self.kind} on {self.review_id}"


class SyncRun(models.Model):
    """One pull of stored predictions for a project: what was asked and found."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="sync_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    window_start = models.DateTimeField(
        null=True, help_text="Predictions created from here on were asked for."
    )
    reached = models.DateTimeField(
        null=True, help_text="When the newest prediction stored so far was made."
    )
    full = models.BooleanField(
        default=False,
        help_text="Asked for every stored prediction, to find those the service "
        "no longer keeps.",
    )
    pages = models.PositiveIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(
        default=0, help_text="Cached predictions a full sync no longer found."
    )
    error = models.TextField(blank=True)
    lease_expires_at = models.DateTimeField(
        null=True, help_text="The worker renews this after each page it stores."
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"sync {self.pk} of {self.project_id}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def share_done(self, now: datetime) -> float:
        """Estimate progress from how far through the time window paging got."""
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        if not self.reached or not self.started_at:
            return 0.0

        start = self.window_start or self.reached
        span = (self.started_at - start).total_seconds()
        if span <= 0:
            return 0.0
        return min(max((self.reached - start).total_seconds() / span, 0.0), 0.99)


class PromotionRun(models.Model):
    """One request to promote a project's approved items: who asked, what came of it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped"

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="promotion_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    only_retries = models.BooleanField(
        default=False, help_text="Send only items whose last attempt may be retried."
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    worker = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(
        null=True, help_text="The worker renews this while it runs."
    )
    error = models.TextField(blank=True, help_text="Why the run stopped, if it did.")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"promotion {self.pk} of {self.project_id}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class Batch(models.Model):
    """One CreateImagesFromPredictions call, recorded before it is sent."""

    class Status(models.TextChoices):
        PENDING = "pending", "Written, not sent"
        SENT = "sent", "Sent, no answer yet"
        ANSWERED = "answered", "Answered"
        ABANDONED = "abandoned", "Not sent: the run stopped"

    run = models.ForeignKey(
        PromotionRun, on_delete=models.CASCADE, related_name="batches"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING
    )
    request_body = models.JSONField(help_text="Exactly what is sent, every time.")
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(
        null=True, help_text="The service asked us to wait until then."
    )
    worker = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_sent_at = models.DateTimeField(null=True)
    last_sent_at = models.DateTimeField(null=True)
    answered_at = models.DateTimeField(null=True)
    duration_ms = models.PositiveIntegerField(null=True)
    http_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True, help_text="The last failure of the call.")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"batch {self.pk}"


class Outcome(models.Model):
    """What became of one approved item in a promotion run."""

    class Kind(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        PROMOTED = "promoted", "Promoted"
        RETRY = "retry", "Retry later"
        FIX = "fix", "Back to review"
        TERMINAL = "terminal", "Cannot be promoted"

    run = models.ForeignKey(
        PromotionRun, on_delete=models.CASCADE, related_name="outcomes"
    )
    batch = models.ForeignKey(
        Batch,
        on_delete=models.CASCADE,
        null=True,
        related_name="outcomes",
        help_text="Empty when pre-flight kept the item back.",
    )
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="outcomes"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PENDING)
    status = models.CharField(
        max_length=50, blank=True, help_text="The service's status, or ours."
    )
    training_image_id = models.UUIDField(null=True)
    message = models.TextField(blank=True)
    recorded_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "kind"])]

    def __str__(self) -> str:
        return f"{self.review_id}: {self.status or self.kind}"


class LoginFailure(models.Model):
    """One failed login, kept for the throttling window."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} from {self.address}"
