"""The one seam between the app and the Custom Vision Training API v3.3.

Every call has a (connect, read) timeout, sends the key only to the API, logs one
INFO line, and returns typed objects or raises a typed CustomVisionError.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError
from urllib3.util.retry import Retry

from reviewer.customvision import limits
from reviewer.customvision.errors import (
    CustomVisionError,
    MalformedResponseError,
    TransportError,
    error_for_status,
    snippet,
)
from reviewer.customvision.types import (
    CreateSummary,
    Domain,
    ImageBatch,
    ImageBytes,
    Iteration,
    PredictionPage,
    Project,
    Tag,
    TagFilter,
    TaggedImage,
    format_time,
    read_integer,
    read_list,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = "prediction-reviewer/0.1"
RETRY_STATUSES = frozenset({429, 502, 503, 504})

# The only POST sent through the retrying adapter is QueryPredictions, a read.
READ_METHODS = frozenset({"GET", "DELETE", "POST"})

CREATE_PATH = "/projects/{projectId}/images/predictions"
ORDERS = frozenset({limits.ORDER_NEWEST, limits.ORDER_OLDEST, limits.ORDER_SUGGESTED})
SIGNED_QUERY = re.compile(r"\?[\w.~%-]+=[^\s\"'<>()]*")
# Far above a page of stored predictions; more is a broken or hostile answer.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Answer:
    """An HTTP answer of the expected status, with how long the call took."""

    operation: str
    response: requests.Response
    duration_ms: int


class CustomVisionClient:
    """Call the Custom Vision Training API v3.3 and return typed objects."""

    def __init__(
        self,
        endpoint: str,
        training_key: str,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._base = endpoint.rstrip("/") + limits.API_PREFIX
        self._key = training_key
        self._timeout = (connect_timeout, read_timeout)

        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        reads = HTTPAdapter(max_retries=_read_retry(retries, backoff))
        self.session.mount("https://", reads)
        self.session.mount("http://", reads)

        # Creates never retry (mounted per project path): the promotion service decides.
        self._create_adapter = HTTPAdapter(max_retries=0)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def get_projects(self) -> list[Project]:
        """Return every project the key can see."""
        answer = self._request("GetProjects", "GET", "/projects")
        return self._parse(answer, _list_of(Project.from_json))

    def get_project(self, project_id: str) -> Project:
        """Return one project."""
        answer = self._request(
            "GetProject", "GET", "/projects/{projectId}", projectId=project_id
        )
        return self._parse(answer, Project.from_json)

    def get_domains(self) -> list[Domain]:
        """Return every domain."""
        answer = self._request("GetDomains", "GET", "/domains")
        return self._parse(answer, _list_of(Domain.from_json))

    def get_domain(self, domain_id: str) -> Domain:
        """Return one domain, whose type says what a project is."""
        answer = self._request(
            "GetDomain", "GET", "/domains/{domainId}", domainId=domain_id
        )
        return self._parse(answer, Domain.from_json)

    def get_tags(self, project_id: str) -> list[Tag]:
        """Return the tags of a project."""
        answer = self._request(
            "GetTags", "GET", "/projects/{projectId}/tags", projectId=project_id
        )
        return self._parse(answer, _list_of(Tag.from_json))

    def get_iterations(self, project_id: str) -> list[Iteration]:
        """Return the training iterations of a project."""
        answer = self._request(
            "GetIterations",
            "GET",
            "/projects/{projectId}/iterations",
            projectId=project_id,
        )
        return self._parse(answer, _list_of(Iteration.from_json))

    def query_predictions(
        self,
        project_id: str,
        *,
        iteration_id: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        order_by: str = limits.ORDER_NEWEST,
        tag_filters: Sequence[TagFilter] = (),
        max_count: int | None = None,
    ) -> Iterator[PredictionPage]:
        """Yield pages of stored predictions until the service has no more."""
        if order_by not in ORDERS:
            raise ValueError(f"order_by must be one of {sorted(ORDERS)}")

        if len(tag_filters) > limits.MAX_QUERY_TAG_FILTERS:
            raise ValueError(f"at most {limits.MAX_QUERY_TAG_FILTERS} tag filters")

        query = {
            "orderBy": order_by,
            "tags": [tag_filter.to_body() for tag_filter in tag_filters],
            "iterationId": iteration_id,
            "startTime": format_time(start_time) if start_time else None,
            "endTime": format_time(end_time) if end_time else None,
            "maxCount": max_count,
        }
        token = {key: value for key, value in query.items() if value is not None}
        return self._prediction_pages(project_id, token)

    def create_images_from_predictions(
        self, project_id: str, batch: ImageBatch
    ) -> CreateSummary:
        """Promote a batch of predictions into the training set, sending it once."""
        request_body = json.dumps(batch.to_body())
        self.session.mount(
            self._url(CREATE_PATH, projectId=project_id), self._create_adapter
        )

        answer = self._request(
            "CreateImagesFromPredictions",
            "POST",
            CREATE_PATH,
            expect=(200, 207),
            body=request_body,
            projectId=project_id,
        )

        read_summary = partial(
            CreateSummary.from_json,
            http_status=answer.response.status_code,
            request_body=request_body,
            response_body=self._redact(answer.response.text),
            duration_ms=answer.duration_ms,
            sent_ids=batch.prediction_ids,
        )
        return self._parse(answer, read_summary)

    def delete_predictions(self, project_id: str, ids: Sequence[str]) -> None:
        """Delete stored predictions, at most 64 in one call."""
        if not 0 < len(ids) <= limits.MAX_DELETE_PREDICTION_IDS:
            raise ValueError(f"delete 1 to {limits.MAX_DELETE_PREDICTION_IDS} ids")

        self._request(
            "DeletePrediction",
            "DELETE",
            "/projects/{projectId}/predictions",
            expect=(200, 204),
            params="ids=" + ",".join(quote(pid, safe="") for pid in ids),
            projectId=project_id,
        )

    def get_tagged_images(
        self,
        project_id: str,
        *,
        take: int = 50,
        skip: int = 0,
        iteration_id: str | None = None,
    ) -> list[TaggedImage]:
        """Return one page of the training set's tagged images."""
        if not 0 <= take <= limits.MAX_TAGGED_IMAGES_TAKE or skip < 0:
            raise ValueError(f"take 0 to {limits.MAX_TAGGED_IMAGES_TAKE}, skip >= 0")

        params = {"take": take, "skip": skip, "iterationId": iteration_id}
        answer = self._request(
            "GetTaggedImages",
            "GET",
            "/projects/{projectId}/images/tagged",
            params=params,
            projectId=project_id,
        )
        return self._parse(answer, _list_of(TaggedImage.from_json))

    def get_tagged_image_count(self, project_id: str) -> int:
        """Return how many tagged images the training set holds."""
        answer = self._request(
            "GetTaggedImageCount",
            "GET",
            "/projects/{projectId}/images/tagged/count",
            projectId=project_id,
        )
        return self._parse(answer, partial(read_integer, what="count"))

    def get_images_by_ids(
        self, project_id: str, image_ids: Sequence[str]
    ) -> list[TaggedImage]:
        """Return training images by id, at most 256; unknown ids are left out."""
        if not 0 < len(image_ids) <= limits.MAX_IMAGES_BY_IDS:
            raise ValueError(f"ask for 1 to {limits.MAX_IMAGES_BY_IDS} images")

        answer = self._request(
            "GetImagesByIds",
            "GET",
            "/projects/{projectId}/images/id",
            params="imageIds=" + ",".join(quote(iid, safe="") for iid in image_ids),
            projectId=project_id,
        )
        return self._parse(answer, _list_of(TaggedImage.from_json))

    def fetch_image(self, project_id: str, uri: str) -> ImageBytes:
        """Return an image's bytes from a signed link or, if relative, GetArtifact."""
        parts = urlsplit(uri)
        if parts.scheme and parts.netloc:
            return self._fetch_signed_link(uri)

        answer = self._request(
            "GetArtifact",
            "GET",
            "/projects/{projectId}/artifacts",
            params={"path": uri},
            projectId=project_id,
        )
        return _image_bytes(answer.response)

    def _fetch_signed_link(self, uri: str) -> ImageBytes:
        """Fetch a storage link without the key: storage must never see it."""
        parts = urlsplit(uri)

        # No redirects: the caller checked this link's host, not where it leads.
        answer = self._exchange(
            "FetchImage",
            "GET",
            uri,
            f"{parts.hostname}{parts.path}",
            (200,),
            allow_redirects=False,
        )
        return _image_bytes(answer.response)

    def _prediction_pages(
        self, project_id: str, token: dict[str, Any]
    ) -> Iterator[PredictionPage]:
        """Send the token back page after page until its continuation is empty."""
        while True:
            answer = self._request(
                "QueryPredictions",
                "POST",
                "/projects/{projectId}/predictions/query",
                body=json.dumps(token),
                projectId=project_id,
            )
            page = self._parse(answer, PredictionPage.from_json)
            yield page

            if page.is_last:
                return

            token = page.token

    def _url(self, template: str, **path: str) -> str:
        """Return the full URL of an API path, its ids escaped."""
        escaped = {name: quote(value, safe="") for name, value in path.items()}
        return self._base + template.format(**escaped)

    def _request(
        self,
        operation: str,
        method: str,
        template: str,
        *,
        expect: Sequence[int] = (200,),
        body: str | None = None,
        params: dict[str, Any] | str | None = None,
        **path: str,
    ) -> _Answer:
        """Send one API call with the key and return its answer."""
        headers = {"Training-Key": self._key}
        if body is not None:
            headers["Content-Type"] = "application/json"

        # No redirects: requests would carry the key header to another host.
        return self._exchange(
            operation,
            method,
            self._url(template, **path),
            template,
            expect,
            headers=headers,
            data=body,
            params=params,
            allow_redirects=False,
        )

    def _exchange(
        self,
        operation: str,
        method: str,
        url: str,
        log_path: str,
        expect: Sequence[int],
        **options: Any,
    ) -> _Answer:
        """Send a request, log one line for it, and raise a typed error on failure."""
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, timeout=self._timeout, **options
            )
        except requests.RequestException as exc:
            error = self._transport_error(operation, exc)
            _log_call(operation, method, log_path, type(error).__name__, started)
            raise error from None

        duration_ms = _log_call(
            operation, method, log_path, response.status_code, started
        )

        if response.status_code not in expect:
            raise self._status_error(operation, response)

        return _Answer(operation, response, duration_ms)

    def _parse(self, answer: _Answer, parser: Callable[[Any], T]) -> T:
        """Turn an answer's JSON into typed objects, or raise MalformedResponseError."""
        if len(answer.response.content) > MAX_ANSWER_BYTES:
            raise self._malformed(answer, "the answer is too large")

        try:
            return parser(json.loads(answer.response.content))
        except MalformedResponseError as exc:
            raise self._malformed(answer, exc.message) from None
        except ValueError:
            raise self._malformed(answer, "the answer is not JSON") from None

    def _malformed(self, answer: _Answer, detail: str) -> MalformedResponseError:
        """Log a surprising answer and build its error."""
        body = snippet(self._redact(answer.response.text))
        logger.warning(
            "customvision %s answered an unexpected shape (%s): %s",
            answer.operation,
            detail,
            body,
        )

        # The service answered success, so it may have done the work.
        return MalformedResponseError(
            detail,
            operation=answer.operation,
            status=answer.response.status_code,
            outcome_unknown=True,
        )

    def _status_error(
        self, operation: str, response: requests.Response
    ) -> CustomVisionError:
        """Build the typed error for an answer of an unexpected status."""
        status = response.status_code
        body = self._redact(response.text)

        if 400 <= status < 500:
            logger.debug(
                "customvision %s answered %s: %s", operation, status, snippet(body)
            )
        else:
            logger.warning(
                "customvision %s answered %s: %s", operation, status, snippet(body)
            )

        return error_for_status(
            status, body, operation=operation, retry_after=_retry_after(response)
        )

    def _transport_error(
        self, operation: str, exc: requests.RequestException
    ) -> TransportError:
        """Build the typed error for a request that got no HTTP answer."""
        return TransportError(
            f"{type(exc).__name__}: {snippet(self._redact(str(exc)))}",
            operation=operation,
            retryable=True,
            outcome_unknown=_may_have_arrived(exc),
        )

    def _redact(self, text: str) -> str:
        """Remove the key and signed links' query strings from a text."""
        text = SIGNED_QUERY.sub("?…", text)
        return text.replace(self._key, "***") if self._key else text


def client_from_settings() -> CustomVisionClient:
    """Build the client from the CUSTOMVISION_* Django settings."""
    # Imported here so that the client works without Django configured.
    from django.conf import settings

    return CustomVisionClient(
        settings.CUSTOMVISION_ENDPOINT,
        settings.CUSTOMVISION_TRAINING_KEY,
        connect_timeout=settings.CUSTOMVISION_CONNECT_TIMEOUT,
        read_timeout=settings.CUSTOMVISION_READ_TIMEOUT,
    )


def _read_retry(retries: int, backoff: float) -> Retry:
    """Return the retry policy for idempotent reads, honouring Retry-After."""
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        allowed_methods=READ_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _list_of(parser: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    """Make a parser for a JSON array of one kind of object."""

    def parse(value: Any) -> list[T]:
        return [parser(item) for item in read_list(value, "the answer")]

    return parse


def _log_call(
    operation: str, method: str, path: str, outcome: object, started: float
) -> int:
    """Log the one INFO line of a call and return its duration in milliseconds."""
    duration_ms = round((time.monotonic() - started) * 1000)
    logger.info(
        "customvision %s %s %s -> %s in %d ms",
        operation,
        method,
        path,
        outcome,
        duration_ms,
    )
    return duration_ms


def _may_have_arrived(exc: requests.RequestException) -> bool:
    """Tell whether a failed request may have reached the service."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason

    return not isinstance(reason, ConnectTimeoutError)


def _retry_after(response: requests.Response) -> float | None:
    """Return the seconds a Retry-After header asks for, if it gives seconds."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _image_bytes(response: requests.Response) -> ImageBytes:
    """Return the bytes and media type of an image answer."""
    content_type = response.headers.get("Content-Type", "application/octet-stream")
    return ImageBytes(content=response.content, content_type=content_type)
