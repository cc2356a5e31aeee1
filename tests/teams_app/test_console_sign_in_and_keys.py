"""The console as an attacker tries it: guessing passwords, and looking for key material where
the server keeps state."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from teams_app.models import ApiKey
from teams_app.services import team_create

pytestmark = pytest.mark.django_db

PASSWORD = "right-pass-123"


@pytest.fixture
def alice(django_user_model):
    user = django_user_model.objects.create_user(username="alice", password=PASSWORD)
    team_create(name="Acme", owner=user)
    return user


def sign_in(client, password: str, username: str = "alice", address: str = "203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_wrong_passwords_pause_sign_in_even_for_the_right_one(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    assert sign_in(client, "wrong").status_code == 429  # the limit is reached
    locked = sign_in(client, PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_the_pause_also_holds_for_one_address_trying_many_usernames(client, alice, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", username=f"guess{number}", address="198.51.100.9")
    assert sign_in(client, PASSWORD, address="198.51.100.9").status_code == 429
    assert sign_in(client, PASSWORD, address="192.0.2.55").status_code == 302  # another address


def test_a_success_before_the_limit_clears_the_count(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302


def test_a_new_api_key_is_kept_nowhere_on_the_server(client, alice):
    assert sign_in(client, PASSWORD).status_code == 302
    response = client.post(reverse("teams_app:key_create"), {"name": "ci", "scopes": ["sessions"]})
    assert response.status_code == 302
    path, _, fragment = response["Location"].partition("#")
    assert path == reverse("teams_app:detail")
    raw = fragment.removeprefix("new-key=")
    assert raw.startswith("nk_") and ApiKey.objects.get(name="ci").prefix in raw
    for stored in Session.objects.all():
        assert raw not in stored.session_data and raw not in str(stored.get_decoded())
    page = client.get(path)
    assert raw not in page.content.decode()
