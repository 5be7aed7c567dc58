import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from reviewer.models import Batch, PromotionRun, Review, ReviewState

pytestmark = pytest.mark.django_db


def test_an_annotator_gets_403_on_every_promotion_page(client, annotator, approved):
    client.force_login(annotator)
    project = approved.project

    assert (
        client.get(
            reverse("reviewer:promotion-manifest", args=[project.pk])
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("reviewer:promotion-start", args=[project.pk])).status_code
        == 403
    )
    assert not PromotionRun.objects.exists()


def test_the_manifest_shows_what_would_be_sent(client, lead, approved):
    client.force_login(lead)

    response = client.get(
        reverse("reviewer:promotion-manifest", args=[approved.project.pk])
    )

    summary = response.context["manifest"]
    assert (summary.approved, summary.sendable, summary.batches) == (4, 4, 1)
    assert dict(summary.per_tag) == {"Apple": 4, "Banana": 4}
    assert summary.reviewers == [("ann", 4)]
    assert summary.as_predicted == 4
    assert "every approved image passes" in response.content.decode()


def test_the_manifest_counts_changes_by_hand_apart_from_bulk_accepts(
    client, lead, reviewed
):
    client.force_login(lead)

    response = client.get(
        reverse("reviewer:promotion-manifest", args=[reviewed.project.pk])
    )

    summary = response.context["manifest"]
    # Two changed by hand (a relabel, added boxes), one accepted as it was.
    assert (summary.approved, summary.changed, summary.as_predicted) == (3, 2, 1)
    assert summary.bulk_accepted == 0


def test_promote_queues_one_run_and_shows_progress(
    client, lead, approved, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    url = reverse("reviewer:promotion-start", args=[approved.project.pk])

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url, headers={"HX-Request": "true"})
        response = client.post(url, headers={"HX-Request": "true"})

    run = PromotionRun.objects.get()
    assert run.requested_by == lead
    assert len(callbacks) == 1
    html = response.content.decode()
    assert "queued, waiting for a worker" in html
    assert 'hx-trigger="every 1s"' in html


def test_the_run_page_lists_every_image_outcome(
    client, lead, approved, cv_client, settings
):
    from reviewer.services.promotion import execute_run

    settings.PROMOTION_RATE = 1000
    run = PromotionRun.objects.create(project=approved.project, requested_by=lead)
    execute_run(cv_client, run)
    client.force_login(lead)

    response = client.get(
        reverse("reviewer:promotion-run", args=[approved.project.pk, run.pk])
    )

    html = response.content.decode()
    assert html.count('data-outcome="promoted"') == 4
    assert response.context["counts"]["promoted"] == 4
    progress = client.get(
        reverse("reviewer:promotion-progress", args=[approved.project.pk, run.pk])
    ).content.decode()
    assert "hx-trigger" not in progress
    assert "finished: 4 promoted" in progress


def test_the_command_promotes_and_prints_outcomes_by_status(approved, capsys, settings):
    settings.PROMOTION_RATE = 1000

    call_command("promote", project=[str(approved.project.pk)], wait=True)

    out = capsys.readouterr().out
    assert "4 promoted, 0 to retry" in out
    assert "OK" in out
    assert set(Review.objects.values_list("state", flat=True)) == {ReviewState.PROMOTED}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_prints_a_line_per_recorded_batch_off_a_terminal(
    emulator, reviewed, settings
):
    settings.PROMOTION_RATE = 1000
    emulator.fail_image(reviewed.predictions[1], "ErrorImageFormat")
    out = io.StringIO()

    call_command("promote", project=[str(reviewed.project.pk)], wait=True, stdout=out)

    name = reviewed.project.name
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    progress = [line for line in lines if line.endswith(" recorded")]
    assert len(progress) == Batch.objects.count() == 2
    assert progress[-1] == f"  {name}: 3 of 3 recorded"
    assert lines[len(progress)] == (
        f"{name}: 2 promoted, 0 to retry, 0 back to review, 1 cannot be promoted."
    )
    assert [line.split() for line in lines[len(progress) + 1 :]] == [
        ["ErrorImageFormat", "1"],
        ["OK", "2"],
    ]


def test_the_command_redraws_one_progress_line_on_a_terminal(approved, settings):
    settings.PROMOTION_RATE = 1000
    out = Terminal()

    call_command("promote", project=[str(approved.project.pk)], wait=True, stdout=out)

    progress, summary = out.getvalue().split("\n")[:2]
    redraws = progress.split("\r")
    assert redraws[0] == ""
    assert redraws[-1] == f"  {approved.project.name}: 4 of 4 recorded"
    assert summary.endswith(
        "4 promoted, 0 to retry, 0 back to review, 0 cannot be promoted."
    )


def test_the_command_without_wait_only_queues(approved, capsys):
    call_command("promote", project=[str(approved.project.pk)])

    assert "Queued promotion" in capsys.readouterr().out
    assert PromotionRun.objects.get().status == PromotionRun.Status.QUEUED


def test_the_command_names_a_project_it_does_not_know(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="must be a UUID"):
        call_command("promote", project=["nope"])
