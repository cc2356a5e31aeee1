import io

import pytest
from django.core import serializers
from django.core.management import call_command

from core.errors import Conflict, Forbidden, InvalidInput
from teams_app import keys
from teams_app.models import ApiKey, AuditEvent, Membership, Role, Team
from teams_app.selectors import api_key_authenticate
from teams_app.services import (
    api_key_create,
    api_key_revoke,
    bootstrap_first_run,
    membership_add,
    membership_remove,
    membership_set_role,
    team_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="x-alice-pass")


@pytest.fixture
def acme(alice):
    return team_create(name="Acme", owner=alice)


@pytest.fixture
def owner_membership(acme, alice):
    return Membership.objects.get(team=acme, user=alice)


def member(team, django_user_model, name, role):
    user = django_user_model.objects.create_user(username=name, password=f"x-{name}-pass")
    return Membership.objects.create(team=team, user=user, role=role)


def test_only_a_digest_and_a_prefix_are_stored(acme):
    key, raw = api_key_create(team=acme, name="ci")
    dump = serializers.serialize("json", ApiKey.objects.all())
    secret = raw.split(".", 1)[1]
    assert secret not in dump
    assert raw not in dump
    assert key.digest == keys.digest(raw) != raw
    assert raw.startswith(f"nk_{key.prefix}.")


def test_authentication_checks_digest_revocation_and_expiry(acme, owner_membership):
    from django.utils import timezone

    key, raw = api_key_create(team=acme, name="ci")
    assert api_key_authenticate(raw=raw) == key
    assert api_key_authenticate(raw=raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert api_key_authenticate(raw="not-a-key") is None
    key.expires_at = timezone.now()
    key.save()
    assert api_key_authenticate(raw=raw) is None
    key.expires_at = None
    key.save()
    api_key_revoke(actor=owner_membership, api_key=key)
    assert api_key_authenticate(raw=raw) is None


def test_default_scopes_leave_out_reveal_and_unknown_scopes_are_refused(acme):
    key, _ = api_key_create(team=acme, name="ci")
    assert "vaults.reveal" not in key.scopes
    assert {"sessions", "agents", "personas", "vaults.use", "vaults.manage"} == set(key.scopes)
    with pytest.raises(InvalidInput, match="unknown scope"):
        api_key_create(team=acme, name="bad", scopes=["sessions", "root"])


def test_key_creation_and_revocation_are_audited(acme, owner_membership):
    key, _ = api_key_create(team=acme, name="ci", actor=owner_membership)
    api_key_revoke(actor=owner_membership, api_key=key)
    actions = list(AuditEvent.objects.filter(team=acme).values_list("action", flat=True))
    assert "api_key.created" in actions and "api_key.revoked" in actions


def test_members_and_viewers_cannot_manage_keys_or_members(acme, django_user_model):
    bob = member(acme, django_user_model, "bob", Role.MEMBER)
    with pytest.raises(Forbidden):
        api_key_create(team=acme, name="x", actor=bob)
    with pytest.raises(Forbidden):
        membership_add(actor=bob, username="alice", role=Role.VIEWER)


def test_role_rules(acme, owner_membership, django_user_model):
    admin = member(acme, django_user_model, "adam", Role.ADMIN)
    bob = member(acme, django_user_model, "bob", Role.MEMBER)
    with pytest.raises(Forbidden, match="owner"):
        membership_set_role(actor=admin, membership=bob, role=Role.OWNER)
    membership_set_role(actor=admin, membership=bob, role=Role.VIEWER)
    assert Membership.objects.get(pk=bob.pk).role == Role.VIEWER
    with pytest.raises(Conflict, match="at least one owner"):
        membership_set_role(actor=owner_membership, membership=owner_membership, role=Role.ADMIN)
    change = AuditEvent.objects.filter(team=acme, action="member.role_changed").first()
    assert change.data == {"from": "member", "to": "viewer"}
    membership_remove(actor=admin, membership=bob)
    assert not Membership.objects.filter(pk=bob.pk).exists()


def test_createapikey_prints_a_working_key(acme):
    out = io.StringIO()
    call_command("createapikey", stdout=out)
    raw = out.getvalue().strip()
    key = api_key_authenticate(raw=raw)
    assert key.team == acme
    assert "vaults.reveal" not in key.scopes

    other = Team.objects.create(name="Other")
    out = io.StringIO()
    call_command("createapikey", "--team", "Other", "--scopes", "sessions", stdout=out)
    key = api_key_authenticate(raw=out.getvalue().strip())
    assert (key.team, key.scopes) == (other, ["sessions"])


def test_bootstrap_runs_once(django_user_model):
    created = bootstrap_first_run()
    assert created and api_key_authenticate(raw=created["api_key"]) is not None
    user = django_user_model.objects.get(username="admin")
    assert user.check_password(created["password"])
    assert Membership.objects.get(user=user).role == Role.OWNER
    assert bootstrap_first_run() is None


def test_bootstrap_command_prints_the_lines_make_run_promises(django_user_model):
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("Console login: admin / ") for line in lines)
    assert any(line.startswith("API key: nk_") for line in lines)
