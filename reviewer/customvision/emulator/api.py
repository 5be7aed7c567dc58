"""The Training API operations the emulator answers, and their routes."""

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from reviewer.customvision import limits
from reviewer.customvision.emulator import images, promotions, queries, render
from reviewer.customvision.emulator.config import EmulatorConfig
from reviewer.customvision.emulator.faults import Faults
from reviewer.customvision.emulator.state import DOMAINS, State
from reviewer.customvision.emulator.wire import ApiError, Response, json_response

MUTATING = frozenset({"CreateImagesFromPredictions", "DeletePrediction"})
TAGGED_IMAGES_ORDERS = (limits.ORDER_NEWEST, limits.ORDER_OLDEST)


@dataclass
class Call:
    """One API request and what its operation needs to answer it."""

    state: State
    faults: Faults
    config: EmulatorConfig
    links: render.Links
    query: dict[str, str]
    body: bytes
    now: float

    def json(self) -> object:
        """Return the JSON body, refusing one that is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise ApiError(
                400, "BadRequest", f"The body is not JSON: {error}"
            ) from error

    def ids(self, name: str) -> list[str]:
        """Return a comma-separated query parameter as a list."""
        return [part for part in self.query.get(name, "").split(",") if part]

    def integer(self, name: str, default: int) -> int:
        """Return an integer query parameter, refusing one that is not."""
        try:
            return int(self.query.get(name) or default)
        except ValueError as error:
            raise ApiError(400, "BadRequest", f"{name} is not a number.") from error


@dataclass(frozen=True)
class Route:
    """An operation, the method and path that reach it, and how it answers."""

    method: str
    pattern: re.Pattern[str]
    operation: str
    answer: Callable[..., Response]


ROUTES: list[Route] = []


def route(method: str, path: str) -> Callable[[Callable], Callable]:
    """Serve a function as the operation whose operationId is its CamelCase name."""

    def register(answer: Callable[..., Response]) -> Callable[..., Response]:
        operation = "".join(word.title() for word in answer.__name__.split("_"))
        pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path))
        ROUTES.append(Route(method, pattern, operation, answer))
        return answer

    return register


def find(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Return the route for a request and its path parameters, or None."""
    for candidate in ROUTES:
        found = candidate.pattern.fullmatch(path)
        if found and candidate.method == method:
            return candidate, found.groupdict()
    return None


@route("GET", "/domains")
def get_domains(call: Call) -> Response:
    """Answer GetDomains."""
    return json_response(200, list(DOMAINS))


@route("GET", "/domains/{domain_id}")
def get_domain(call: Call, domain_id: str) -> Response:
    """Answer GetDomain."""
    for domain in DOMAINS:
        if domain["id"] == domain_id:
            return json_response(200, domain)
    raise ApiError(404, "NotFoundDomain", f"No domain {domain_id}.")


@route("GET", "/projects")
def get_projects(call: Call) -> Response:
    """Answer GetProjects."""
    with call.state.lock:
        projects = list(call.state.projects.values())
    return json_response(200, [render.project(p, call.links) for p in projects])


@route("GET", "/projects/{project_id}")
def get_project(call: Call, project_id: str) -> Response:
    """Answer GetProject."""
    return json_response(
        200, render.project(call.state.project(project_id), call.links)
    )


@route("GET", "/projects/{project_id}/tags")
def get_tags(call: Call, project_id: str) -> Response:
    """Answer GetTags, counting each tag's training images."""
    with call.state.lock:
        call.state.project(project_id)
        counts = Counter(
            tag["tagId"]
            for image in call.state.images[project_id].values()
            for tag in image["tags"]
        )
        tags = call.state.tags[project_id].values()
        answer = [{**tag, "imageCount": counts[tag["id"]]} for tag in tags]
    return json_response(200, answer)


@route("GET", "/projects/{project_id}/iterations")
def get_iterations(call: Call, project_id: str) -> Response:
    """Answer GetIterations."""
    with call.state.lock:
        call.state.project(project_id)
        return json_response(200, call.state.iterations[project_id])


@route("POST", "/projects/{project_id}/predictions/query")
def query_predictions(call: Call, project_id: str) -> Response:
    """Answer QueryPredictions with one page and the token for the next."""
    token = call.json()
    query = queries.parse(token, call.config.page_size)
    with call.state.lock:
        call.state.project(project_id)
        page, continuation = queries.run(call.state, project_id, query, call.now)
        results = [render.stored_prediction(call.state, p, call.links) for p in page]
    token = queries.answer_token(token, query, continuation)
    return json_response(200, {"token": token, "results": results})


@route("DELETE", "/projects/{project_id}/predictions")
def delete_prediction(call: Call, project_id: str) -> Response:
    """Answer DeletePrediction."""
    prediction_ids = call.ids("ids")
    if not prediction_ids:
        raise ApiError(400, "BadRequestPredictionIdsMissing", "Name predictions.")
    if len(prediction_ids) > limits.MAX_DELETE_PREDICTION_IDS:
        raise ApiError(
            400,
            "BadRequestPredictionIdsExceededCount",
            f"At most {limits.MAX_DELETE_PREDICTION_IDS} predictions at a time.",
        )

    call.state.delete_predictions(project_id, prediction_ids)
    return Response(204, content_type="")


@route("POST", "/projects/{project_id}/images/predictions")
def create_images_from_predictions(call: Call, project_id: str) -> Response:
    """Answer CreateImagesFromPredictions: 200 when all were created, else 207."""
    outcomes = promotions.create(
        call.state, call.faults, project_id, call.json(), call.now
    )
    successful = all(o.status in promotions.SUCCESSES for o in outcomes)
    results = [
        {
            "sourceUrl": outcome.prediction_id,
            "status": outcome.status,
            "image": None,
        }
        for outcome in outcomes
    ]
    for result, outcome in zip(results, outcomes, strict=True):
        if outcome.image is not None:
            result["image"] = render.image(outcome.image, project_id, call.links)
    summary = {"isBatchSuccessful": successful, "images": results}
    return json_response(200 if successful else 207, summary)


@route("GET", "/projects/{project_id}/images/tagged")
def get_tagged_images(call: Call, project_id: str) -> Response:
    """Answer GetTaggedImages; iterationId is accepted, all images are current."""
    take, skip = call.integer("take", 50), call.integer("skip", 0)
    if not 0 <= take <= limits.MAX_TAGGED_IMAGES_TAKE or skip < 0:
        raise ApiError(400, "BadRequest", "take or skip is out of range.")
    order = call.query.get("orderBy") or limits.ORDER_NEWEST
    if order not in TAGGED_IMAGES_ORDERS:
        raise ApiError(400, "BadRequest", f"Unknown orderBy {order!r}.")

    found = _tagged_images(call, project_id)
    if order == limits.ORDER_NEWEST:
        found.reverse()
    page = found[skip : skip + take]
    return json_response(200, [render.image(i, project_id, call.links) for i in page])


@route("GET", "/projects/{project_id}/images/tagged/count")
def get_tagged_image_count(call: Call, project_id: str) -> Response:
    """Answer GetTaggedImageCount with a bare number."""
    return json_response(200, len(_tagged_images(call, project_id)))


@route("GET", "/projects/{project_id}/images/id")
def get_images_by_ids(call: Call, project_id: str) -> Response:
    """Answer GetImagesByIds; unknown ids are left out."""
    image_ids = call.ids("imageIds")
    if len(image_ids) > limits.MAX_IMAGES_BY_IDS:
        raise ApiError(400, "BadRequestInvalidIds", "Too many image ids.")

    with call.state.lock:
        call.state.project(project_id)
        stored = call.state.images[project_id]
        found = [stored[image_id] for image_id in image_ids if image_id in stored]
    return json_response(200, [render.image(i, project_id, call.links) for i in found])


@route("GET", "/projects/{project_id}/artifacts")
def get_artifact(call: Call, project_id: str) -> Response:
    """Answer GetArtifact with a picture's bytes."""
    return picture(call.state, project_id, call.query.get("path", ""), call.now)


def picture(state: State, project_id: str, artifact: str, now: float) -> Response:
    """Answer with one size of a picture named by its artifact path."""
    parsed = images.parse_artifact_path(artifact)
    if parsed is None:
        raise ApiError(400, "BadRequestInvalidArtifactUri", "Unknown artifact path.")

    subject_id, size = parsed
    state.project(project_id)
    shapes = state.shapes_of(project_id, subject_id, now)
    if shapes is None:
        raise ApiError(404, "NotFound", "No such artifact.")
    body = images.picture(subject_id, shapes, size)
    return Response(200, body, images.content_type(size))


def _tagged_images(call: Call, project_id: str) -> list[dict]:
    wanted = set(call.ids("tagIds"))
    with call.state.lock:
        call.state.project(project_id)
        stored = call.state.images[project_id].values()
        return [
            image
            for image in stored
            if image["tags"]
            and (not wanted or wanted & {tag["tagId"] for tag in image["tags"]})
        ]
