import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


def log_in(client, username, password, **request):
    return client.post(
        reverse("login"), {"username": username, "password": password}, **request
    )


def test_it_pauses_logins_after_repeated_failures(client, annotator, lead):
    for _ in range(5):
        assert log_in(client, "ann", "wrong").status_code == 200

    refused = log_in(client, "ann", "ann-password-1")

    assert refused.status_code == 200
    assert "Too many failed attempts" in refused.content.decode()
    assert log_in(client, "lee", "lee-password-1").status_code == 302


def test_a_successful_login_clears_the_failures(client, annotator):
    for _ in range(4):
        log_in(client, "ann", "wrong")

    assert log_in(client, "ann", "ann-password-1").status_code == 302
    client.logout()
    for _ in range(4):
        log_in(client, "ann", "wrong")
    assert log_in(client, "ann", "ann-password-1").status_code == 302


def test_an_address_guessing_many_usernames_is_paused_at_its_own_limit(
    client, annotator, settings
):
    settings.LOGIN_FAILURE_LIMIT = 2
    # One address may be a whole office behind a proxy: it gets four users' worth.
    address_limit = settings.LOGIN_FAILURE_LIMIT * 4
    office, elsewhere = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.2"}
    guesses = [
        {"username": f"guess-{number}", "password": "wrong"}
        for number in range(address_limit)
    ]
    for guess in guesses[:-1]:
        client.post(reverse("login"), guess, **office)
    below_limit = log_in(client, "ann", "ann-password-1", **office)
    client.logout()

    client.post(reverse("login"), guesses[-1], **office)
    refused = log_in(client, "ann", "ann-password-1", **office)

    assert below_limit.status_code == 302
    assert refused.status_code == 200
    assert "Too many failed attempts" in refused.content.decode()
    assert log_in(client, "ann", "ann-password-1", **elsewhere).status_code == 302


def test_a_forged_sso_header_is_ignored_when_sso_is_off(client, annotator):
    response = client.get(
        reverse("reviewer:project-list"), headers={"X-Ms-Client-Principal-Name": "ann"}
    )

    assert response.status_code == 302


@pytest.fixture
def sso(settings):
    settings.SSO_HEADER = "X-Ms-Client-Principal-Name"
    settings.SSO_TRUSTED_PROXIES = ["10.1.2.3"]
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "django.contrib.auth.backends.RemoteUserBackend",
    ]


def test_the_trusted_proxy_logs_the_named_user_in(client, annotator, sso):
    response = client.get(
        reverse("reviewer:project-list"),
        headers={"X-Ms-Client-Principal-Name": "ann"},
        REMOTE_ADDR="10.1.2.3",
    )

    assert response.status_code == 200
    assert response.context["user"] == annotator


def test_a_new_sso_user_has_no_role_until_staff_gives_one(client, sso, roles):
    response = client.get(
        reverse("reviewer:project-list"),
        headers={"X-Ms-Client-Principal-Name": "newcomer@example.com"},
        REMOTE_ADDR="10.1.2.3",
    )

    assert response.status_code == 403
    assert get_user_model().objects.filter(username="newcomer@example.com").exists()


def test_the_header_from_any_other_address_is_ignored(client, annotator, sso):
    response = client.get(
        reverse("reviewer:project-list"),
        headers={"X-Ms-Client-Principal-Name": "ann"},
        REMOTE_ADDR="192.0.2.9",
    )

    assert response.status_code == 302


def test_behind_a_trusted_proxy_failures_count_by_the_forwarded_address(
    client, annotator, settings
):
    settings.LOGIN_FAILURE_LIMIT = 1
    settings.TRUSTED_PROXIES = ["10.1.1.1"]
    proxy = {"REMOTE_ADDR": "10.1.1.1"}
    # The proxy appends the client it saw; the first hop is whatever the client sent.
    guesser = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.2, 203.0.113.7"}
    colleague = {**proxy, "HTTP_X_FORWARDED_FOR": "203.0.113.8"}
    guesses = [
        {"username": f"guess-{number}", "password": "wrong"} for number in range(4)
    ]
    for guess in guesses:
        client.post(reverse("login"), guess, **guesser)

    refused = log_in(client, "ann", "ann-password-1", **guesser)

    assert "Too many failed attempts" in refused.content.decode()
    assert log_in(client, "ann", "ann-password-1", **colleague).status_code == 302


def test_a_forwarded_address_from_an_untrusted_sender_is_ignored(
    client, annotator, settings
):
    settings.LOGIN_FAILURE_LIMIT = 1
    settings.TRUSTED_PROXIES = ["10.1.1.1"]
    forging = {"REMOTE_ADDR": "198.51.100.2"}
    for number in range(4):
        client.post(
            reverse("login"),
            {"username": f"guess-{number}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{number}",
            **forging,
        )

    refused = log_in(client, "ann", "ann-password-1", **forging)

    assert "Too many failed attempts" in refused.content.decode()
