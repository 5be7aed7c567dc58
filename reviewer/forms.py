"""Forms that read what the browser sends; services receive plain values."""

from django import forms
from django.http import QueryDict

from reviewer.models import Iteration, Project, ReviewState, Tag
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
        iteration = data.get("iteration")
        tag = data.get("tag")
        return QueueFilters(
            state=data.get("state") or ReviewState.TO_REVIEW,
            iteration_id=iteration.pk if iteration else None,
            tag_id=tag.pk if tag else None,
            min_probability=data.get("min_probability"),
            max_probability=data.get("max_probability"),
            expiry=data.get("expiry") or "",
            order=data.get("order") or "suggested",
        )


def filters_from_query(
    project: Project, query: QueryDict
) -> tuple[QueueFilterForm, QueueFilters]:
    """Bind the URL's query to the filter form and return the filters to apply."""
    form = QueueFilterForm(project, query)
    return form, form.filters()


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
