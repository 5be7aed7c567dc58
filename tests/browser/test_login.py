import uuid

from reviewer.models import Project, ProjectKind


def test_it_logs_in_and_shows_the_projects(page, log_in, annotator):
    Project.objects.create(
        id=uuid.uuid4(),
        name="Shelf products",
        kind=ProjectKind.OBJECT_DETECTION,
        domain_id=uuid.uuid4(),
    )

    page.goto("/")
    assert "/accounts/login/" in page.url
    log_in("ann", "ann-password-1")

    row = page.get_by_role("row", name="Shelf products")
    assert row.get_by_role("cell", name="Object detection").is_visible()


def test_it_shows_a_clear_error_for_a_wrong_password(page, annotator):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()

    assert page.get_by_role("alert").inner_text().startswith("That username")
