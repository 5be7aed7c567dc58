"""Bad arguments to every command end in a CommandError that says why, and no change."""

import io
import json
from collections.abc import Callable
from uuid import uuid4

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from reviewer.customvision.limits import (
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE_LENGTH,
)
from reviewer.models import Batch, Outcome
from tests.hostile.world import World, cache, snapshot

pytestmark = pytest.mark.django_db

Arguments = Callable[[World], list[str]]
UNKNOWN = str(uuid4())
NOT_CACHED = "Not in the cache"


def args(*values: str) -> Arguments:
    """Arguments as written, the detection project's id put in for {project}."""
    return lambda world: [
        value.replace("{project}", str(world.project.pk)) for value in values
    ]


def case(command: str, arguments: Arguments, says: str, *, id: str) -> object:
    return pytest.param(command, arguments, says, id=id)


CASES = [
    case("sync_predictions", args("--project", "not-a-uuid"), "No such", id="sync-id"),
    case("sync_predictions", args("--project", UNKNOWN), "No such", id="sync-unknown"),
    case("sync_predictions", args("--since", "x"), "unrecognized", id="sync-option"),
    case(
        "accept_predictions",
        args("--min-probability", "0.5"),
        "--project",
        id="accept-no-project",
    ),
    case(
        "accept_predictions",
        args("--project", "{project}"),
        "probability",
        id="accept-no-threshold",
    ),
    *(
        case(
            "accept_predictions",
            args("--project", "{project}", "--min-probability", value),
            says,
            id=f"accept-threshold-{value}",
        )
        for value, says in [
            ("NaN", "between 0 and 1"),
            ("inf", "between 0 and 1"),
            ("-0.1", "between 0 and 1"),
            ("1.5", "between 0 and 1"),
            ("high", "invalid float value"),
        ]
    ),
    case(
        "accept_predictions",
        args("--project", "shelf", "--min-probability", "0.5"),
        "must be a UUID",
        id="accept-project-id",
    ),
    case(
        "accept_predictions",
        args("--project", UNKNOWN, "--min-probability", "0.5"),
        NOT_CACHED,
        id="accept-project-unknown",
    ),
    case(
        "accept_predictions",
        args("--project", "{project}", "--min-probability", "0.5", "--as", "nobody"),
        "No user named 'nobody'",
        id="accept-as-unknown-user",
    ),
    case("promote", args("--project", "1; DROP"), "must be a UUID", id="promote-id"),
    case(
        "promote",
        args("--project", "{project}", "--project", UNKNOWN),
        NOT_CACHED,
        id="promote-one-unknown",
    ),
    case("promote", args("--scope", "all"), "unrecognized", id="promote-option"),
    *(
        case("export_promotions", args("--since", day), "must be a day", id=name)
        for name, day in [
            ("export-since-word", "yesterday"),
            ("export-since-february-30", "2024-02-30"),
            ("export-since-year-99999", "99999-01-01"),
            ("export-since-empty", ""),
        ]
    ),
    case(
        "export_promotions",
        args("--project", "x" * 1000),
        "must be a UUID",
        id="export-project-id",
    ),
    case(
        "export_promotions",
        args("--project", UNKNOWN),
        NOT_CACHED,
        id="export-project-unknown",
    ),
    case(
        "export_labels",
        args("--project", "{project}", "--format", "xml"),
        "invalid choice",
        id="labels-format-unknown",
    ),
    case("export_labels", args("--project", "{project}"), "--format", id="labels-bare"),
    case(
        "export_labels",
        args("--project", "{project}", "--format", "jsonl"),
        "coco",
        id="labels-format-of-another-kind",
    ),
    case(
        "export_labels",
        args("--project", "", "--format", "coco"),
        "must be a UUID",
        id="labels-project-empty",
    ),
    *(
        case("customvision_emulator", args(*options), says, id=name)
        for name, options, says in [
            ("emulator-port-high", ["--port", "70000"], "--port must be"),
            ("emulator-port-negative", ["--port", "-1"], "--port must be"),
            ("emulator-port-word", ["--port", "http"], "invalid int value"),
            ("emulator-key-empty", ["--training-key", ""], "--training-key must"),
            ("emulator-ttl-zero", ["--uri-ttl", "0"], "--uri-ttl must be"),
            ("emulator-latency-negative", ["--latency-ms", "-5"], "--latency-ms"),
            ("emulator-rate-zero", ["--rps-limit", "0"], "--rps-limit must be"),
            ("emulator-rate-nan", ["--rps-limit", "nan"], "--rps-limit must be"),
            ("emulator-fail-rate-high", ["--fail-rate", "1.5"], "--fail-rate"),
            ("emulator-fail-rate-nan", ["--fail-rate", "nan"], "--fail-rate"),
            ("emulator-drop-rate-negative", ["--drop-rate", "-0.1"], "--drop-rate"),
            ("emulator-page-size-zero", ["--page-size", "0"], "--page-size must"),
            ("emulator-seed-unknown", ["--seed", "everything"], "invalid choice"),
            ("emulator-seed-zero", ["--seed-predictions", "0"], "--seed-predictions"),
            (
                "emulator-too-many-tags",
                ["--seed-predictions", "5", "--seed-tags", "501"],
                "--seed-tags must be",
            ),
            ("emulator-tags-alone", ["--seed-tags", "5"], "needs --seed-predictions"),
        ]
    ),
]


@pytest.mark.parametrize(("command", "arguments", "says"), CASES)
def test_a_bad_argument_is_refused_with_a_reason_and_no_change(
    world, command, arguments, says
):
    before = everything()

    with pytest.raises(CommandError) as refusal:
        call_command(command, *arguments(world), stdout=io.StringIO())

    assert says in str(refusal.value)
    assert everything() == before


def test_the_emulator_refuses_a_state_file_it_cannot_read(world, tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"projects": [')

    with pytest.raises(CommandError, match="Cannot read the state file"):
        call_command("customvision_emulator", "--state", str(state), "--port", "0")


def test_a_sync_refuses_garbage_from_the_service_and_keeps_the_cache(
    world, service, settings
):
    settings.CUSTOMVISION_ENDPOINT = service.endpoint
    service.reply(200, json.dumps([{"id": "d1", "name": "General"}]))
    before = everything()

    with pytest.raises(CommandError, match=r"GetDomains.*type should be a string"):
        call_command("sync_predictions", stdout=io.StringIO())

    assert everything() == before


@pytest.mark.django_db(transaction=True)
def test_a_hostile_reviewer_name_keeps_the_metadata_within_the_limits(
    approved, annotator, settings
):
    settings.PROMOTION_RATE = 1000
    annotator.username = "=" + "<script>" * 18 + "x" * 5
    annotator.save()
    project = str(approved.project.pk)

    call_command("promote", "--project", project, "--wait", stdout=io.StringIO())

    metadata = [batch.request_body["metadata"] for batch in Batch.objects.all()]
    assert metadata and all(
        len(pairs) <= MAX_METADATA_PAIRS
        and all(len(key) <= MAX_METADATA_KEY_LENGTH for key in pairs)
        and all(len(value) <= MAX_METADATA_VALUE_LENGTH for value in pairs.values())
        for pairs in metadata
    )
    assert set(Outcome.objects.values_list("kind", flat=True)) == {"promoted"}


def test_the_corpus_holds_a_bad_argument_for_every_command():
    commands = {parameters.values[0] for parameters in CASES}

    assert commands == {
        "sync_predictions",
        "accept_predictions",
        "promote",
        "export_promotions",
        "export_labels",
        "customvision_emulator",
    }


def everything() -> dict[str, list[tuple]]:
    """The reviews, the ledger, the cache and the users, row by row."""
    users = get_user_model().objects.order_by("pk").values_list()
    return snapshot() | cache() | {"User": list(users)}
