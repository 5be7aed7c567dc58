from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from reviewer.customvision.errors import CustomVisionError
from reviewer.models import Prediction
from reviewer.services.images import (
    SIZES,
    ImageGone,
    ImageRefused,
    prediction_image,
)
from reviewer.views import can_review


@require_GET
@can_review
def prediction_image_view(
    request: HttpRequest, project_id, prediction_id, size: str
) -> HttpResponse:
    """Pass one of a prediction's images to the browser, behind the login."""
    prediction = get_object_or_404(Prediction, pk=prediction_id, project_id=project_id)
    if size not in SIZES:
        return HttpResponse(
            "No such image size.", status=404, content_type="text/plain"
        )
    try:
        image = prediction_image(prediction, size)
    except ImageGone as error:
        return HttpResponse(str(error), status=404, content_type="text/plain")
    except ImageRefused as error:
        return HttpResponse(str(error), status=403, content_type="text/plain")
    except CustomVisionError:
        return HttpResponse(
            "Custom Vision did not send the image; try again shortly.",
            status=502,
            content_type="text/plain",
        )
    response = HttpResponse(image.content, content_type=image.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
