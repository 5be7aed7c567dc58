"""Serve a prediction's image through the app, refreshing links that expired."""

from contextlib import closing
from datetime import timedelta
from urllib.parse import urlsplit

from django.utils import timezone

from reviewer.customvision.client import client_from_settings
from reviewer.customvision.errors import AuthenticationError, NotFoundError
from reviewer.customvision.types import ImageBytes
from reviewer.models import Prediction
from reviewer.security import image_host_allowed
from reviewer.services.sync import refresh_image_links

SIZES = {
    "thumbnail": "thumbnail_uri",
    "resized": "resized_image_uri",
    "original": "original_image_uri",
}
# Signed links last about a day; renew them a little before that.
LINK_LIFETIME = timedelta(hours=20)


class ImageGone(LookupError):
    """The service no longer stores this prediction or this size of its image."""


class ImageRefused(PermissionError):
    """The image link points at a host outside IMAGE_HOSTS."""


def prediction_image(prediction: Prediction, size: str) -> ImageBytes:
    """Return the bytes of one size of a prediction's image."""
    with closing(client_from_settings()) as client:
        if timezone.now() - prediction.uris_fetched_at > LINK_LIFETIME:
            _refresh(client, prediction)
        try:
            return client.fetch_image(
                str(prediction.project_id), _uri(prediction, size)
            )
        except (AuthenticationError, NotFoundError):
            # The link expired early or was revoked: one fresh link, one more try.
            _refresh(client, prediction)
            return client.fetch_image(
                str(prediction.project_id), _uri(prediction, size)
            )


def _refresh(client, prediction: Prediction) -> None:
    if not refresh_image_links(client, prediction):
        raise ImageGone("The service no longer stores this prediction.")


def _uri(prediction: Prediction, size: str) -> str:
    uri = getattr(prediction, SIZES[size])
    if not uri:
        raise ImageGone(f"The service gave no {size} image for this prediction.")
    if urlsplit(uri).scheme and not image_host_allowed(uri):
        raise ImageRefused(f"Images from {urlsplit(uri).hostname} are not allowed.")
    return uri
