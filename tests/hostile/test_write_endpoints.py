"""A corpus of bad requests to every write endpoint and filter page.

Each must get a clear 4xx, or a redirect with a message, or a page that ignores the
bad filter; never a 500, and never a change to a review or the promotion ledger.
"""

import json
import math
from collections.abc import Callable
from uuid import uuid4

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from reviewer.customvision.limits import MAX_REGIONS_PER_IMAGE
from tests.hostile.world import World, snapshot

pytestmark = pytest.mark.django_db

Send = Callable[[World, Client], HttpResponse]
Build = Callable[[World], object]

BOX = [0.1, 0.1, 0.2, 0.2]
FOREIGN = "foreign"
CSRF = "CSRF verification failed"


def region(world: World, **changes: object) -> dict:
    """A valid new Apple box, with some fields changed."""
    return {"tag": world.tags["Apple"], "source": None, "box": BOX, **changes}


def boxes(*changes: dict) -> Build:
    """Labels of one box per change, as the browser would send them."""
    return lambda world: json.dumps([region(world, **change) for change in changes])


def classes(*names: str, **changes: object) -> Build:
    """Labels of the classification project, one tag per name."""
    return lambda world: json.dumps(
        [{"tag": world.class_tags[name], "source": None, **changes} for name in names]
    )


def raw(text: str) -> Build:
    """Labels exactly as written, Apple's id put in for {apple}."""
    return lambda world: text.replace("{apple}", world.tags["Apple"])


def decide(
    labels: Build | None = None,
    *,
    item: str = "item",
    project: str = "project",
    **fields: str | None,
) -> Send:
    """Post Accept on an item, with some form fields changed or (None) left out."""

    def send(world: World, client: Client) -> HttpResponse:
        data = {"action": "accept", "version": "0", **fields}
        if labels is not None:
            data["labels"] = labels(world)
        form = {name: value for name, value in data.items() if value is not None}
        url = _url("review-decide", world, project, item)
        return _as("annotator", world, client).post(url, form)

    return send


def decide_body(body: bytes, content_type: str) -> Send:
    """Post a body of any type where the decision form is expected."""

    def send(world: World, client: Client) -> HttpResponse:
        url = _url("review-decide", world, "project", "item")
        client = _as("annotator", world, client)
        return client.generic("POST", url, body, content_type=content_type)

    return send


def undo(item: str = "decided", project: str = "project") -> Send:
    """Ask to undo the decision on an item, as the annotator."""

    def send(world: World, client: Client) -> HttpResponse:
        url = _url("review-undo", world, project, item)
        return _as("annotator", world, client).post(url)

    return send


def post(
    name: str,
    data: dict | None = None,
    query: str = "",
    *,
    user: str = "lead",
    project: str = "project",
) -> Send:
    """Post a form to a project's endpoint, as the lead unless told otherwise."""

    def send(world: World, client: Client) -> HttpResponse:
        url = _url(name, world, project) + query
        return _as(user, world, client).post(url, data or {})

    return send


def get(name: str, query: str | Build = "", *roles: str) -> Send:
    """Open a page with a query string, as the lead; roles name the URL's ids."""

    def send(world: World, client: Client) -> HttpResponse:
        url = _url(name, world, *(roles or ["project"]))
        text = query(world) if callable(query) else query
        return _as("lead", world, client).get(url + text)

    return send


def without_csrf(send: Send) -> Send:
    """Send the same request from a client that checks the CSRF token."""
    return lambda world, client: send(world, Client(enforce_csrf_checks=True))


def _as(user: str, world: World, client: Client) -> Client:
    client.force_login(world.users[user])
    return client


def _url(name: str, world: World, *roles: str) -> str:
    """Reverse a URL whose ids are the world's rows of these roles."""
    return reverse(f"reviewer:{name}", args=[_id(world, role) for role in roles])


def _id(world: World, role: str) -> object:
    """A row's id by its role in the world; FOREIGN is an id that nothing has.

    A role the world does not have is put in the URL as written.
    """
    if role == FOREIGN:
        return uuid4()
    value = getattr(world, role, role)
    return getattr(value, "pk", value)


def case(send: Send, status: int, says: str = "", *, id: str) -> object:
    """One named request, the status it must get and a phrase the answer must say."""
    return pytest.param(send, status, says, id=id)


OUTSIDE = "reaches outside the image"
FOUR_NUMBERS = "needs a box of four numbers"
POSITIVE = "positive width and height"
NOT_NUMBER = "not a number"
NOT_PROJECT = "not in this project"

DECIDE = [
    case(
        decide(boxes({"box": [-0.1, 0.1, 0.2, 0.2]})), 422, OUTSIDE, id="left-below-0"
    ),
    case(decide(boxes({"box": [0.1, -0.5, 0.2, 0.2]})), 422, OUTSIDE, id="top-below-0"),
    case(decide(boxes({"box": [0.9, 0.1, 0.2, 0.2]})), 422, OUTSIDE, id="right-past-1"),
    case(
        decide(boxes({"box": [0.1, 0.9, 0.2, 0.2]})), 422, OUTSIDE, id="bottom-past-1"
    ),
    case(
        decide(boxes({"box": [1.5, 1.5, 0.1, 0.1]})), 422, OUTSIDE, id="corner-past-1"
    ),
    case(decide(boxes({"box": [0.1, 0.1, 0, 0.2]})), 422, POSITIVE, id="zero-width"),
    case(decide(boxes({"box": [0.1, 0.1, 0.2, 0]})), 422, POSITIVE, id="zero-height"),
    case(decide(boxes({"box": [0.5, 0.5, -0.2, 0.2]})), 422, POSITIVE, id="neg-width"),
    case(decide(boxes({"box": [0.5, 0.5, 0.2, -0.2]})), 422, POSITIVE, id="neg-height"),
    case(decide(boxes({"box": [math.nan, 0.1, 0.2, 0.2]})), 422, NOT_NUMBER, id="nan"),
    case(decide(boxes({"box": [0.1, math.inf, 0.2, 0.2]})), 422, NOT_NUMBER, id="inf"),
    case(
        decide(boxes({"box": [0.1, 0.1, -math.inf, 0.2]})),
        422,
        NOT_NUMBER,
        id="minus-infinity",
    ),
    case(decide(boxes({"box": [0.1, 0.1, 1e308, 0.2]})), 422, OUTSIDE, id="1e308"),
    case(
        decide(raw('[{"tag": "{apple}", "box": [0.1, 0.1, 1e999, 0.2]}]')),
        422,
        NOT_NUMBER,
        id="1e999-overflows-to-infinity",
    ),
    case(
        decide(raw('[{"tag": "{apple}", "box": [1%s, 0.1, 0.2, 0.2]}]' % ("0" * 400))),
        422,
        NOT_NUMBER,
        id="integer-of-400-digits",
    ),
    case(
        decide(raw('[{"tag": "{apple}", "box": [1%s, 0.1, 0.2, 0.2]}]' % ("0" * 5000))),
        422,
        "not sent as JSON",
        id="integer-of-5000-digits",
    ),
    case(
        decide(boxes({"box": ["0.1", "0.1", "0.2", "0.2"]})),
        422,
        FOUR_NUMBERS,
        id="string-coordinates",
    ),
    case(
        decide(boxes({"box": [True, False, True, True]})),
        422,
        FOUR_NUMBERS,
        id="boolean-coordinates",
    ),
    case(decide(boxes({"box": [None] * 4})), 422, FOUR_NUMBERS, id="null-coordinates"),
    case(decide(boxes({"box": BOX[:3]})), 422, FOUR_NUMBERS, id="three-coordinates"),
    case(decide(boxes({"box": [*BOX, 0.1]})), 422, FOUR_NUMBERS, id="five-coordinates"),
    case(decide(boxes({"box": {"left": 0.1}})), 422, FOUR_NUMBERS, id="box-as-object"),
    case(decide(boxes({"box": None})), 422, FOUR_NUMBERS, id="box-missing"),
    case(
        decide(boxes({"box": [[0.1], [0.1], [0.2], [0.2]]})),
        422,
        FOUR_NUMBERS,
        id="nested-coordinates",
    ),
    case(
        decide(raw('[[{"a": [1, {"b": null}]}], "x", 3]')),
        422,
        "is not an object",
        id="nested-garbage",
    ),
    case(decide(raw('{"tag": "{apple}"}')), 422, "must be a list", id="labels-object"),
    case(decide(raw("[{")), 422, "not sent as JSON", id="truncated-json"),
    case(decide(raw("")), 422, "not sent as JSON", id="empty-labels"),
    case(decide(raw("[]")), 422, "Add a box", id="no-labels"),
    case(decide(raw("null")), 422, "must be a list", id="labels-null"),
    case(
        decide(boxes(*[{}] * (MAX_REGIONS_PER_IMAGE + 1))),
        422,
        "over the limit of 300",
        id="301-regions",
    ),
    case(decide(boxes({"tag": str(uuid4())})), 422, NOT_PROJECT, id="unknown-tag"),
    case(decide(boxes({"tag": "Apple"})), 422, NOT_PROJECT, id="tag-by-name"),
    case(decide(boxes({"tag": {"id": 1}})), 422, NOT_PROJECT, id="tag-as-object"),
    case(decide(boxes({"tag": None})), 422, NOT_PROJECT, id="tag-missing"),
    case(
        decide(lambda w: json.dumps([region(w, tag=w.class_tags["Apple"])])),
        422,
        NOT_PROJECT,
        id="tag-of-another-project",
    ),
    case(
        decide(lambda w: json.dumps([region(w, tag=w.tags["Gone"])])),
        422,
        NOT_PROJECT,
        id="tag-removed-from-the-service",
    ),
    case(
        decide(lambda w: json.dumps([region(w, tag=w.tags["Nothing"])])),
        422,
        "negative tag",
        id="negative-tag-on-a-box",
    ),
    case(
        decide(lambda w: json.dumps([region(w, source=w.other_source)])),
        422,
        "box of another image",
        id="source-of-another-prediction",
    ),
    case(
        decide(boxes({"source": 2**63 + 1})),
        422,
        "box of another image",
        id="source-beyond-64-bits",
    ),
    case(
        decide(boxes({"source": {"pk": 1}})),
        422,
        "box of another image",
        id="source-as-object",
    ),
    case(
        decide(boxes({"source": [1]})),
        422,
        "box of another image",
        id="source-as-list",
    ),
    case(
        decide(lambda w: json.dumps([region(w, source=str(w.source))])),
        422,
        "box of another image",
        id="source-as-string",
    ),
    case(
        decide(lambda w: json.dumps([region(w, source=w.source + 0.5)])),
        422,
        "box of another image",
        id="source-as-fraction",
    ),
    case(
        decide(classes("Nothing", "Apple"), item="class_item", project="classes"),
        422,
        "negative tag cannot go with other tags",
        id="negative-with-regular-tag",
    ),
    case(
        decide(classes("Apple", "Pear"), item="class_item", project="classes"),
        422,
        "exactly one tag",
        id="two-tags-in-multiclass",
    ),
    case(
        decide(classes("Apple", box=BOX), item="class_item", project="classes"),
        422,
        "classifies images",
        id="box-in-classification",
    ),
    case(
        decide(classes(*["Apple"] * 101), item="class_item", project="classes"),
        422,
        "over the limit of 100",
        id="101-tags-in-classification",
    ),
    case(decide(raw("x" * 200_001)), 400, "incomplete", id="labels-over-form-limit"),
    case(decide(raw("x" * 10_000_000)), 400, id="10-mb-body"),
    case(decide(raw("[]"), action=None), 400, "incomplete", id="action-missing"),
    case(decide(raw("[]"), action="approve"), 400, "incomplete", id="action-unknown"),
    case(decide(raw("[]"), action="ACCEPT"), 400, "incomplete", id="action-shouting"),
    case(decide(raw("[]"), version=None), 400, "incomplete", id="version-missing"),
    case(decide(raw("[]"), version="-1"), 400, "incomplete", id="version-negative"),
    case(decide(raw("[]"), version="1.5"), 400, "incomplete", id="version-fraction"),
    case(decide(raw("[]"), version="0x10"), 400, "incomplete", id="version-hex"),
    case(
        decide(raw("[]"), version="9" * 40), 409, "Nothing was saved", id="version-huge"
    ),
    case(decide(raw("[]"), version="7"), 409, "Nothing was saved", id="version-stale"),
    case(
        decide(boxes({}), item="class_item"),
        404,
        id="item-of-another-project",
    ),
    case(decide(boxes({}), item=FOREIGN), 404, id="item-unknown"),
    case(decide(boxes({}), project=FOREIGN), 404, id="project-unknown"),
    case(without_csrf(decide(boxes({}))), 403, CSRF, id="decide-without-csrf"),
]

UNDO = [
    case(undo(item="item"), 409, "Only your own", id="undo-nothing-decided"),
    case(undo(), 409, "Only your own", id="undo-another-users-decision"),
    case(undo(item="class_item"), 404, id="undo-item-of-another-project"),
    case(undo(item=FOREIGN), 404, id="undo-item-unknown"),
    case(without_csrf(undo()), 403, CSRF, id="undo-without-csrf"),
]

CHOOSE = "Choose a probability"
REFUSED_FILTERS = "filters in the address are not valid"

BULK = [
    case(post("bulk-accept"), 302, CHOOSE, id="bulk-threshold-missing"),
    *(
        case(post("bulk-accept", {"min_probability": value}), 302, CHOOSE, id=name)
        for name, value in [
            ("bulk-threshold-empty", ""),
            ("bulk-threshold-word", "high"),
            ("bulk-threshold-negative", "-0.1"),
            ("bulk-threshold-above-1", "1.01"),
            ("bulk-threshold-nan", "NaN"),
            ("bulk-threshold-infinity", "Infinity"),
            ("bulk-threshold-1e999", "1e999"),
            ("bulk-threshold-hex", "0x1"),
            ("bulk-threshold-sql", "0.5; DELETE FROM reviewer_review"),
        ]
    ),
    *(
        case(
            post("bulk-accept", {"min_probability": "0.5"}, query),
            302,
            REFUSED_FILTERS,
            id=name,
        )
        for name, query in [
            ("bulk-filter-tag-by-name", "?tag=Apple"),
            ("bulk-filter-tag-unknown", f"?tag={uuid4()}"),
            ("bulk-filter-state-unknown", "?state=everything"),
            ("bulk-filter-probability-nan", "?min_probability=NaN"),
            ("bulk-filter-crossed", "?min_probability=0.9&max_probability=0.1"),
            ("bulk-filter-expiry-huge", "?expiry=99999999999999999999"),
            ("bulk-filter-iteration-garbage", "?iteration=%00%FF%3Cscript%3E"),
        ]
    ),
    case(post("bulk-accept", user="annotator"), 403, id="bulk-by-an-annotator"),
    case(post("bulk-accept", project=FOREIGN), 404, id="bulk-project-unknown"),
    case(
        without_csrf(post("bulk-accept", {"min_probability": "0.5"})),
        403,
        CSRF,
        id="bulk-without-csrf",
    ),
]

SCOPE = "Unknown scope"

START = [
    case(post("sync-start", project=FOREIGN), 404, id="sync-project-unknown"),
    case(without_csrf(post("sync-start")), 403, CSRF, id="sync-without-csrf"),
    case(get("sync-start"), 405, id="sync-by-get"),
    case(
        post("promotion-start", {"scope": "everything"}),
        400,
        SCOPE,
        id="promote-scope-unknown",
    ),
    case(
        post("promotion-start", {"scope": "Retries"}),
        400,
        SCOPE,
        id="promote-scope-shouting",
    ),
    case(
        post("promotion-start", {"scope": "x" * 100_000}),
        400,
        SCOPE,
        id="promote-scope-huge",
    ),
    case(post("promotion-start", user="annotator"), 403, id="promote-by-annotator"),
    case(post("promotion-start", project=FOREIGN), 404, id="promote-project-unknown"),
    case(without_csrf(post("promotion-start")), 403, CSRF, id="promote-without-csrf"),
    case(get("promotion-start"), 405, id="promote-by-get"),
]

FORM = "The decision was incomplete"

BODIES = [
    case(
        decide_body(b'{"action": "accept", "version": 0}', "application/json"),
        400,
        FORM,
        id="json-instead-of-form",
    ),
    case(
        decide_body(b"action=accept&version=0", "text/plain"),
        400,
        FORM,
        id="text-instead-of-form",
    ),
    case(
        decide_body(b"--x\r\ngarbage\r\n--x--", "multipart/form-data; boundary=x"),
        400,
        id="multipart-garbage",
    ),
    case(
        decide_body(b"\x00\xff" * 100, "multipart/form-data"),
        400,
        id="multipart-without-boundary",
    ),
    case(
        decide_body(
            b"action=accept&version=0&labels=%FF%FE",
            "application/x-www-form-urlencoded",
        ),
        422,
        "not sent as JSON",
        id="form-labels-not-utf8",
    ),
    case(
        decide_body(
            b"action=accept&version=0&labels=%00", "application/x-www-form-urlencoded"
        ),
        400,
        FORM,
        id="form-labels-with-nul",
    ),
]

SHOWN = 'class="error" role="alert"'
MARKED = 'aria-invalid="true"'

PAGES = [
    *(
        case(get("project-queue", query), 200, says, id=f"queue-{name}")
        for name, query, says in [
            ("page-huge", "?page=99999999999999999999", ""),
            ("page-negative", "?page=-3", ""),
            ("page-word", "?page=last", ""),
            ("tag-by-name", "?tag=Apple", SHOWN),
            ("iteration-garbage", "?iteration=%00%FF", SHOWN),
            ("probability-nan", "?min_probability=NaN", SHOWN),
            ("probability-1e999", "?max_probability=1e999", SHOWN),
            ("state-script", "?state=%3Cscript%3E", SHOWN),
            ("order-unknown", "?order=random()", SHOWN),
            ("expiry-huge", "?expiry=99999999999999999999", SHOWN),
            ("sample-unknown", "?sample=all", SHOWN),
        ]
    ),
    case(
        get("project-queue", lambda w: f"?tag={w.class_tags['Apple']}"),
        200,
        SHOWN,
        id="queue-tag-of-another-project",
    ),
    *(
        case(get("audit-items", query), 200, says, id=f"audit-{name}")
        for name, query, says in [
            ("since-not-a-day", "?since=2024-13-45", MARKED),
            ("since-year-99999", "?since=99999-01-01", MARKED),
            ("until-year-0", "?until=0000-01-01", MARKED),
            ("until-last-day", "?until=9999-12-31&since=0001-01-01", ""),
            ("min-added-huge", "?min_added=99999999999999999999", ""),
            ("min-added-zero", "?min_added=0", ""),
            ("reviewer-huge", "?reviewer=99999999999999999999", ""),
            ("reviewer-word", "?reviewer=admin", ""),
            ("relabelled-from-garbage", "?relabelled_from=%27%20OR%201=1", ""),
            ("page-huge", "?page=99999999999999999999", ""),
        ]
    ),
    *(
        case(get("promotions", query), 200, id=f"promotions-{name}")
        for name, query in [
            ("since-garbage", "?since=yesterday"),
            ("outcome-unknown", "?outcome=%3Cb%3E"),
            ("tag-unknown", f"?tag={uuid4()}"),
            ("page-huge", "?page=99999999999999999999"),
        ]
    ),
    *(
        case(get("project-quality", query), 200, id=f"quality-{name}")
        for name, query in [
            ("iteration-garbage", "?iteration=%00"),
            ("iteration-unknown", f"?iteration={uuid4()}"),
            ("iteration-huge", "?iteration=" + "f" * 10_000),
        ]
    ),
    *(
        case(get("promotions-export", query), 200, id=f"export-{name}")
        for name, query in [
            ("since-garbage", "?since=2024-02-30"),
            ("reviewer-huge", "?reviewer=99999999999999999999"),
            ("tag-garbage", "?tag=%00"),
        ]
    ),
    case(get("labels-export", "?format=%3Cx%3E"), 200, id="labels-export-garbage"),
    case(post("labels-export"), 405, id="labels-export-by-post"),
    case(
        get("review-item", "", "project", "class_item"),
        404,
        id="review-item-of-another-project",
    ),
    case(
        get("audit-item", "", "project", "class_item"),
        404,
        id="audit-item-of-another-project",
    ),
    case(
        get("sync-progress", "", "project", "class_sync"),
        404,
        id="sync-run-of-another-project",
    ),
    case(
        get("prediction-image", "", "project", "class_item", "thumbnail"),
        404,
        id="image-of-another-project",
    ),
]


@pytest.mark.parametrize(
    ("send", "status", "says"), DECIDE + UNDO + BULK + START + BODIES + PAGES
)
def test_it_refuses_hostile_input_without_changing_anything(
    world, client, send, status, says
):
    before = snapshot()

    response = send(world, client)

    assert response.status_code == status
    assert says in _said(response)
    assert snapshot() == before


def test_the_corpus_holds_at_least_fifty_cases_to_write_endpoints():
    assert len(DECIDE + UNDO + BULK + START + BODIES) >= 50


def _said(response: HttpResponse) -> str:
    """The page's text, a streamed body, or the messages a redirect carries."""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    messages = " ".join(str(message) for message in get_messages(response.wsgi_request))
    return response.content.decode() + messages
