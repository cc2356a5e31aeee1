"""The team's agent approval setting in the console: owners and admins change it, every change
is audited, and no one else (nor another team) can."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from teams_app.models import AuditAction, AuditEvent, Role, Team
from teams_app.selectors import membership_get
from teams_app.services import membership_add, team_create

pytestmark = pytest.mark.django_db

PASSWORD = "right-pass-123"


@pytest.fixture
def acme(django_user_model):
    owner = django_user_model.objects.create_user(username="olive", password=PASSWORD)
    team = team_create(name="Acme", owner=owner)
    actor = membership_get(user=owner, team_id=team.pk)
    for username, role in (("mia", Role.MEMBER), ("vic", Role.VIEWER), ("ada", Role.ADMIN)):
        django_user_model.objects.create_user(username=username, password=PASSWORD)
        membership_add(actor=actor, username=username, role=role)
    return team


def as_user(client, username: str):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    return client


def set_approval(client, required: bool):
    data = {"required": "on"} if required else {}
    return client.post(reverse("teams_app:agent_approval"), data)


def approval_events(team) -> list[dict]:
    return list(
        AuditEvent.objects.filter(team=team, action=AuditAction.AGENT_APPROVAL_CHANGED)
        .order_by("created_at")
        .values_list("data", flat=True)
    )


@pytest.mark.parametrize("username", ["olive", "ada"])
def test_owners_and_admins_turn_approval_on_and_off_and_each_change_is_audited(
    client, acme, username
):
    as_user(client, username)
    assert set_approval(client, True).status_code == 302
    assert Team.objects.get(pk=acme.pk).agent_approval_required is True
    set_approval(client, True)  # no change, no event
    set_approval(client, False)
    assert Team.objects.get(pk=acme.pk).agent_approval_required is False
    assert approval_events(acme) == [{"required": True}, {"required": False}]
    event = AuditEvent.objects.filter(action=AuditAction.AGENT_APPROVAL_CHANGED).first()
    assert event.actor_user.username == username


@pytest.mark.parametrize("username", ["mia", "vic"])
def test_members_and_viewers_cannot_change_it(client, acme, username):
    as_user(client, username)
    response = set_approval(client, True)
    assert response.status_code == 302
    assert Team.objects.get(pk=acme.pk).agent_approval_required is False
    assert approval_events(acme) == []
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Only team owners and admins" in m for m in said), said


def test_the_page_shows_the_switch_to_managers_and_the_setting_to_others(client, acme):
    page = as_user(client, "olive").get(reverse("teams_app:detail")).content.decode()
    assert 'name="required"' in page and "Ask a person before an agent uses a vault card" in page

    Team.objects.filter(pk=acme.pk).update(agent_approval_required=True)
    client.logout()
    page = as_user(client, "mia").get(reverse("teams_app:detail")).content.decode()
    assert 'name="required"' not in page
    assert "Agents ask a person before using a vault card" in page


def test_an_owner_of_another_team_changes_only_their_own(client, acme, django_user_model):
    stranger = django_user_model.objects.create_user(username="sam", password=PASSWORD)
    other = team_create(name="Other", owner=stranger)
    as_user(client, "sam")
    set_approval(client, True)
    assert Team.objects.get(pk=other.pk).agent_approval_required is True
    assert Team.objects.get(pk=acme.pk).agent_approval_required is False
    assert approval_events(acme) == []


def test_only_post_changes_it(client, acme):
    as_user(client, "olive")
    assert client.get(reverse("teams_app:agent_approval")).status_code == 405
    assert Team.objects.get(pk=acme.pk).agent_approval_required is False
