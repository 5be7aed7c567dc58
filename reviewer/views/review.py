import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from reviewer.forms import DecisionForm, queue_filters
from reviewer.models import Prediction, Project, Review, ReviewState
from reviewer.services.review import (
    Card,
    LeaseHeld,
    ReviewError,
    VersionConflict,
    as_predicted,
    claim,
    claim_next,
    decide_and_claim_next,
    peek_next,
    undo,
)
from reviewer.views import can_review

INCOMPLETE = "The decision was incomplete."


@can_review
def review_start(request: HttpRequest, project_id) -> HttpResponse:
    """Claim the first item matching the queue's filters and open it."""
    project = get_object_or_404(Project, pk=project_id)
    filters = queue_filters(project, request.GET)
    review = claim_next(project, request.user, filters, timezone.now())
    if review is None:
        return render(request, "reviewer/review.html", _done_context(request, project))
    return redirect(_item_url(project.pk, review.pk, request))


@can_review
def review_item(request: HttpRequest, project_id, prediction_id) -> HttpResponse:
    """Open one item for review, claiming it unless someone else holds it."""
    prediction = _prediction(project_id, prediction_id)
    now = timezone.now()
    notice = ""
    if not claim(prediction.review, request.user, now):
        notice = str(LeaseHeld(prediction.review))
    context = _card_context(request, _card(request, prediction, now), notice=notice)
    return render(request, "reviewer/review.html", context)


@require_POST
@can_review
def review_decide(request: HttpRequest, project_id, prediction_id) -> HttpResponse:
    """Save Accept, Reject or Skip, then show the next matching item."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _refusal(request, project_id, prediction_id, INCOMPLETE, 400)

    # The filters need only the project's id; the service loads the project.
    filters = queue_filters(Project(pk=project_id), request.GET)
    try:
        decision = decide_and_claim_next(
            project_id,
            prediction_id,
            request.user,
            form.cleaned_data["action"],
            form.cleaned_data["version"],
            form.cleaned_data["labels"],
            filters,
            timezone.now(),
        )
    except Review.DoesNotExist:
        raise Http404("No such item in this project.") from None
    except ReviewError as error:
        status = 409 if isinstance(error, VersionConflict | LeaseHeld) else 422
        return _refusal(request, project_id, prediction_id, str(error), status)

    project = decision.review.project
    if decision.next is None:
        return _show_done(request, project, undo_id=prediction_id)
    url = _item_url(project.pk, decision.next.prediction.pk, request)
    if not request.htmx:
        return redirect(url)
    return _show_card(request, decision.next, url, undo_id=prediction_id)


@require_POST
@can_review
def review_undo(request: HttpRequest, project_id, prediction_id) -> HttpResponse:
    """Put the user's last decision back to review and reopen that item."""
    prediction = _prediction(project_id, prediction_id)
    now = timezone.now()
    try:
        undo(prediction.pk, request.user, now)
    except ReviewError as error:
        return _refusal(request, project_id, prediction_id, str(error), 409)

    url = _item_url(project_id, prediction_id, request)
    if not request.htmx:
        return redirect(url)
    prediction = _prediction(project_id, prediction_id)
    return _show_card(request, _card(request, prediction, now), url)


def _prediction(project_id, prediction_id) -> Prediction:
    return get_object_or_404(
        Prediction.objects.for_review(), pk=prediction_id, project_id=project_id
    )


def _card(request, prediction: Prediction, now) -> Card:
    project = prediction.project
    filters = queue_filters(project, request.GET)
    following = peek_next(project, request.user, filters, now, passed=(prediction.pk,))
    return Card(
        prediction, list(prediction.labels.all()), list(project.tags.all()), following
    )


def _show_done(request, project: Project, undo_id=None) -> HttpResponse:
    context = _done_context(request, project, undo_id=undo_id)
    if not request.htmx:
        return render(request, "reviewer/review.html", context)
    return render(request, "reviewer/partials/review_card.html", context)


def _show_card(request, card: Card, url: str, undo_id=None) -> HttpResponse:
    context = _card_context(request, card, undo_id=undo_id)
    response = render(request, "reviewer/partials/review_card.html", context)
    response["HX-Push-Url"] = url
    return response


def _refusal(request, project_id, prediction_id, message: str, status: int):
    prediction = _prediction(project_id, prediction_id)
    if request.htmx:
        context = {"problems": message}
        response = render(
            request, "reviewer/partials/review_problems.html", context, status=status
        )
        response["HX-Retarget"] = "#review-problems"
        response["HX-Reswap"] = "outerHTML"
        return response
    card = _card(request, prediction, timezone.now())
    context = _card_context(request, card, problems=message)
    return render(request, "reviewer/review.html", context, status=status)


def _item_url(project_id, prediction_id, request: HttpRequest) -> str:
    url = reverse("reviewer:review-item", args=[project_id, prediction_id])
    query = request.GET.urlencode()
    return f"{url}?{query}" if query else url


def _done_context(request, project: Project, undo_id=None) -> dict:
    return {
        "project": project,
        "prediction": None,
        "query": request.GET.urlencode(),
        "undo_id": undo_id,
    }


def _card_context(request, card: Card, *, notice="", problems="", undo_id=None) -> dict:
    prediction, labels, tags = card.prediction, card.labels, card.tags
    project = prediction.project
    review = prediction.review
    now = timezone.now()
    if review.state == ReviewState.APPROVED:
        initial = [
            _label_json(label.tag_id, label.source_id, label.box)
            for label in review.approved_labels.all()
        ]
    else:
        shown = [
            label for label in labels if label.probability >= project.default_threshold
        ]
        initial = [
            _label_json(label.tag_id, label.pk, label.box)
            for label in as_predicted(project, shown)
        ]
    active = [tag for tag in tags if tag.removed_at is None]
    keys = dict(zip((tag.pk for tag in active), KEYS, strict=False))
    names = {tag.pk: tag.name for tag in tags}
    return {
        "project": project,
        "prediction": prediction,
        "review": review,
        "tag_choices": [(tag, keys.get(tag.pk)) for tag in active],
        "label_rows": [(label, names.get(label.tag_id, "")) for label in labels],
        "now": now,
        "editor": {
            "kind": project.kind,
            "threshold": project.default_threshold,
            "tags": [_tag_json(tag, keys.get(tag.pk)) for tag in tags],
            "labels": [
                {
                    **_label_json(label.tag_id, label.pk, label.box),
                    "probability": label.probability,
                }
                for label in labels
            ],
        },
        "initial_labels_json": json.dumps(initial),
        "following": card.following,
        "query": request.GET.urlencode(),
        "notice": notice,
        "problems": problems,
        "undo_id": undo_id,
    }


KEYS = "1234567890"


def _tag_json(tag, key: str | None) -> dict:
    return {
        "id": str(tag.pk),
        "name": tag.name,
        "type": tag.type,
        "key": key,
        "removed": tag.removed_at is not None,
    }


def _label_json(tag_id, source_id, box) -> dict:
    return {"tag": str(tag_id), "source": source_id, "box": list(box) if box else None}
