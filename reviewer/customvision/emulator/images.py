"""Pictures of simple scenes, drawn on request, and the signed links to them."""

import base64
import hashlib
import hmac
import io
import random
import zlib
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

from PIL import Image, ImageDraw

from reviewer.customvision.emulator.scenes import Box, Shape

BLOB_PREFIX = "/blobs/"
ORIGINAL_SIZE = (1024, 768)
SIZES = {
    "thumbnail": ((150, 113), "jpg"),
    "resized": ((512, 384), "jpg"),
    "original": (ORIGINAL_SIZE, "png"),
}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
SAS_FIELDS = {"sv": "2019-12-12", "sr": "b", "sp": "r"}
EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def artifact_path(subject_id: str, size: str) -> str:
    """Name one size of a picture of a project, prediction or training image."""
    return f"{subject_id}/{size}.{SIZES[size][1]}"


def parse_artifact_path(path: str) -> tuple[str, str] | None:
    """Split an artifact path into subject id and size, or None when malformed."""
    subject_id, _, name = path.partition("/")
    size, _, extension = name.partition(".")
    if size not in SIZES or SIZES[size][1] != extension or not subject_id:
        return None
    return subject_id, size


def content_type(size: str) -> str:
    """Return the media type of a picture size."""
    return CONTENT_TYPES[SIZES[size][1]]


def signed_query(secret: bytes, blob_path: str, expires_at: float) -> str:
    """Return a SAS-style query string that lets anyone read the blob until expiry."""
    expiry = datetime.fromtimestamp(int(expires_at), UTC).strftime(EXPIRY_FORMAT)
    signature = _signature(secret, blob_path, expiry)
    return urlencode({**SAS_FIELDS, "se": expiry, "sig": signature})


def refusal(secret: bytes, blob_path: str, query: dict[str, str], now: float) -> str:
    """Say why a blob link may not be read, or return an empty string."""
    expiry, signature = query.get("se", ""), query.get("sig", "")
    expected = _signature(secret, blob_path, expiry)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return "Signature did not match."
    expires_at = datetime.strptime(expiry, EXPIRY_FORMAT).replace(tzinfo=UTC)
    if expires_at.timestamp() <= now:
        return "Signed expiry time has passed."
    return ""


@lru_cache(maxsize=256)
def picture(subject_id: str, shapes: tuple[Shape, ...], size: str) -> bytes:
    """Draw a scene: a coloured background, shelves, and one shape per object."""
    (width, height), extension = SIZES[size]
    rng = random.Random(subject_id)
    image = Image.new("RGB", (width, height), _pastel(rng))
    draw = ImageDraw.Draw(image)
    for shelf in (0.48, 0.98):
        draw.rectangle(_pixels((0, shelf, 1, 0.02), width, height), fill=(120, 90, 60))

    for number, shape in enumerate(shapes):
        box = shape.box or _centred(number)
        _draw_shape(draw, shape.tag_id, _pixels(box, width, height))

    buffer = io.BytesIO()
    image.save(buffer, "JPEG" if extension == "jpg" else "PNG", quality=80)
    return buffer.getvalue()


def _draw_shape(draw: ImageDraw.ImageDraw, tag_id: str, corners: list[int]) -> None:
    colour_seed = zlib.crc32(tag_id.encode())
    colour = tuple((colour_seed >> shift) & 0xFF for shift in (0, 8, 16))
    if colour_seed % 3 == 0:
        draw.ellipse(corners, fill=colour, outline=(30, 30, 30), width=2)
    elif colour_seed % 3 == 1:
        draw.rectangle(corners, fill=colour, outline=(30, 30, 30), width=2)
    else:
        draw.rounded_rectangle(corners, radius=8, fill=colour, outline=(30, 30, 30))


def _pixels(box: Box, width: int, height: int) -> list[int]:
    left, top, box_width, box_height = box
    right, bottom = left + box_width, top + box_height
    return [
        round(left * width),
        round(top * height),
        round(right * width),
        round(bottom * height),
    ]


def _centred(number: int) -> Box:
    margin = 0.2 + 0.08 * number
    return (margin, margin, max(1 - 2 * margin, 0.05), max(1 - 2 * margin, 0.05))


def _pastel(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.randint(150, 235) for _ in range(3))


def _signature(secret: bytes, blob_path: str, expiry: str) -> str:
    digest = hmac.new(secret, f"{blob_path}\n{expiry}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode()
