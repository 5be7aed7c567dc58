"""Forms that read what the browser sends; services receive plain values."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.http import QueryDict

from reviewer.models import Iteration, Outcome, Project, Review, ReviewState, Tag
from reviewer.security import client_address
from reviewer.services import logins
from reviewer.services.audit import AuditFilters
from reviewer.services.queue import EXPIRY_CHOICES, ORDERS, QueueFilters


class QueueFilterForm(forms.Form):
    """The queue's filters, read from and written to the URL."""

    state = forms.ChoiceField(
        choices=[("", "Any state"), *ReviewState.choices], required=False
    )
    iteration = forms.ModelChoiceField(
        queryset=Iteration.objects.none(), required=False, empty_label="Any iteration"
    )
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, empty_label="Any tag"
    )
    min_probability = forms.FloatField(min_value=0, max_value=1, required=False)
    max_probability = forms.FloatField(min_value=0, max_value=1, required=False)
    expiry = forms.ChoiceField(choices=EXPIRY_CHOICES.items(), required=False)
    order = forms.ChoiceField(choices=ORDERS.items(), required=False)
    sample = forms.ChoiceField(
        choices=[("", "Every item"), ("pending", "Audit sample to judge")],
        required=False,
    )

    def __init__(self, project: Project, data: QueryDict) -> None:
        super().__init__(data)
        self.fields["iteration"].queryset = project.iterations.all()
        self.fields["tag"].queryset = project.tags.all()

    def clean(self):
        cleaned = super().clean()
        low = cleaned.get("min_probability")
        high = cleaned.get("max_probability")
        if low is not None and high is not None and low > high:
            self.add_error(
                None, "The lowest probability must not be above the highest."
            )
            del cleaned["min_probability"], cleaned["max_probability"]
        return cleaned

    def filters(self) -> QueueFilters:
        """Return the filters to apply, ignoring fields that did not validate."""
        self.is_valid()
        data = self.cleaned_data
        return QueueFilters(
            state=data.get("state") or ReviewState.TO_REVIEW,
            iteration_id=_pk(data.get("iteration")),
            tag_id=_pk(data.get("tag")),
            min_probability=data.get("min_probability"),
            max_probability=data.get("max_probability"),
            expiry=data.get("expiry") or "",
            order=data.get("order") or "suggested",
            audit_pending=data.get("sample") == "pending",
        )


def filters_from_query(
    project: Project, query: QueryDict
) -> tuple[QueueFilterForm, QueueFilters]:
    """Bind the URL's query to the filter form and return the filters to apply."""
    form = QueueFilterForm(project, query)
    return form, form.filters()


def queue_filters(project: Project, query: QueryDict) -> QueueFilters:
    """Return the filters in the URL; with none, the defaults, without a form."""
    return filters_from_query(project, query)[1] if query else QueueFilters()


class BulkAcceptForm(forms.Form):
    min_probability = forms.FloatField(
        min_value=0,
        max_value=1,
        label="Keep labels with probability at least",
    )


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("accept", "Accept"), ("reject", "Reject"), ("skip", "Skip")]
    )
    version = forms.IntegerField(min_value=0)
    labels = forms.CharField(required=False, max_length=200_000)


class AuditFilterForm(forms.Form):
    """The lead's filters over reviewed items and promotion outcomes, in the URL."""

    relabelled = forms.BooleanField(required=False, label="Relabelled")
    relabelled_from = forms.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, empty_label="Any tag"
    )
    relabelled_to = forms.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, empty_label="Any tag"
    )
    min_added = forms.IntegerField(min_value=1, required=False, label="Added at least")
    unchanged = forms.BooleanField(required=False, label="Accepted unchanged")
    low_iou = forms.BooleanField(required=False, label="Low IoU")
    reviewer = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Any reviewer",
    )
    since = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    bulk = forms.BooleanField(required=False, label="Bulk accepted")
    sampled = forms.BooleanField(required=False, label="Sampled for audit")
    outcome = forms.ChoiceField(
        choices=[("", "Any outcome"), *Outcome.Kind.choices], required=False
    )
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, empty_label="Any tag"
    )

    def __init__(self, project: Project, data: QueryDict) -> None:
        super().__init__(data)
        for name in ("relabelled_from", "relabelled_to", "tag"):
            self.fields[name].queryset = project.tags.all()
        self.fields["reviewer"].queryset = get_user_model().objects.filter(
            pk__in=Review.objects.filter(project=project).values("decided_by")
        )

    def filters(self) -> AuditFilters:
        """Return the filters to apply, ignoring fields that did not validate."""
        self.is_valid()
        data = self.cleaned_data
        return AuditFilters(
            relabelled=bool(data.get("relabelled")),
            relabelled_from=_pk(data.get("relabelled_from")),
            relabelled_to=_pk(data.get("relabelled_to")),
            min_added=data.get("min_added"),
            unchanged=bool(data.get("unchanged")),
            low_iou=bool(data.get("low_iou")),
            reviewer_id=_pk(data.get("reviewer")),
            since=data.get("since"),
            until=data.get("until"),
            bulk=bool(data.get("bulk")),
            sampled=bool(data.get("sampled")),
            outcome=data.get("outcome") or "",
            tag_id=_pk(data.get("tag")),
        )


def _pk(instance):
    return instance.pk if instance is not None else None


class ThrottledLoginForm(AuthenticationForm):
    """Refuse to check a password after too many recent failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else ""
        if logins.too_many_failures(username, address):
            raise forms.ValidationError(
                "Too many failed attempts. Wait a few minutes and try again.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            logins.record_failure(username, address)
            raise
        logins.forget_failures(username)
        return cleaned
