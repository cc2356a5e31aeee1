"""The vault audit trail: a row for every change, use and reveal (never a value), written in the
same transaction as the action (no row, no action), chained so edits and deletions show."""

import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core.errors import Forbidden
from tests.vaults_app.helpers import (
    key_actor,
    luhn_number,
    make_actor,
    new_canary,
    row_counts,
    totp_secret,
)
from vaults_app import audit, fill, items, reveal, services
from vaults_app.fill import FillElement
from vaults_app.models import VaultAuditEvent, VaultAuditHead, VaultCredential

pytestmark = pytest.mark.django_db


@pytest.fixture
def vault(owner_actor):
    vault = services.vault_create(actor=owner_actor, name="Main")
    services.credential_put(
        actor=owner_actor,
        vault_id=vault.pk,
        url="example.com",
        username="u",
        password="pw-1",
        mfa_secret=totp_secret(),
    )
    return vault


def test_every_change_use_and_reveal_writes_one_row_and_never_a_value(team, owner, owner_actor):
    canary = new_canary()
    number = luhn_number()
    vault = services.vault_create(actor=owner_actor, name="Main")
    credential, _ = services.credential_put(
        actor=owner_actor, vault_id=vault.pk, url="example.com", username="u", password=canary
    )
    services.credential_put(
        actor=owner_actor, vault_id=vault.pk, url="example.com", username="u", password=canary + "2"
    )
    services.credential_edit(
        actor=owner_actor,
        vault_id=vault.pk,
        credential_id=credential.pk,
        url="example.com",
        username="u2",
        password=canary + "3",
    )
    services.vault_settings_set(actor=owner_actor, store_cvv=True)
    services.card_set(
        actor=owner_actor,
        vault_id=vault.pk,
        holder="Jo",
        number=number,
        expiration="01/40",
        cvv="999",
    )
    reveal.credential_reveal(
        actor=owner_actor, vault_id=vault.pk, url="example.com", purpose="test"
    )
    reveal.card_reveal(actor=owner_actor, vault_id=vault.pk, purpose="test")
    fill.vault_secret_for_fill(
        team=team,
        vault_id=vault.pk,
        placeholder="mycoolpassword",
        page_url="https://example.com/",
        frame_url=None,
        element=FillElement(type="password"),
        session_id="s1",
        step_index=1,
        actor=owner_actor,
    )
    services.vault_rename(actor=owner_actor, vault_id=vault.pk, name="Renamed")
    services.card_delete(actor=owner_actor, vault_id=vault.pk)
    services.credential_delete(actor=owner_actor, vault_id=vault.pk, url="example.com")
    services.vault_settings_set(actor=owner_actor, store_cvv=False)
    services.vault_delete(actor=owner_actor, vault_id=vault.pk)
    actions = list(VaultAuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == [
        "vault.created",
        "credential.created",
        "credential.updated",
        "credential.updated",
        "settings.changed",
        "card.set",
        "credential.revealed",
        "card.revealed",
        "credential.used",
        "vault.renamed",
        "card.deleted",
        "credential.deleted",
        "settings.changed",
        "vault.deleted",
    ]
    readable = (
        "actor_label",
        "vault_name",
        "item_label",
        "field",
        "purpose",
        "detail",
        "target_origin",
    )
    rows = " | ".join(
        str(getattr(row, f)) for row in VaultAuditEvent.objects.all() for f in readable
    )
    for value in (canary, number, "999"):
        assert value not in rows
    assert canary not in " ".join(str(vars(row)) for row in VaultAuditEvent.objects.all())
    assert set(VaultAuditEvent.objects.values_list("actor_label", flat=True)) == {"alice"}


def test_refused_actions_write_nothing_but_refused_reveals_are_recorded(
    team, vault, django_user_model
):
    from teams_app.models import Role
    from tests.vaults_app.helpers import add_member

    member = make_actor(team, add_member(team, django_user_model, Role.MEMBER))
    before = row_counts()
    with pytest.raises(Forbidden):
        services.credential_put(
            actor=member, vault_id=vault.pk, url="example.org", username="x", password="y"
        )
    assert row_counts() == before
    with pytest.raises(Forbidden):
        reveal.credential_reveal(actor=member, vault_id=vault.pk, url="example.com", purpose="test")
    row = VaultAuditEvent.objects.latest("seq")
    assert (row.action, row.outcome, row.actor_label) == (
        "credential.revealed",
        "denied",
        member.label,
    )


@pytest.fixture
def broken_audit(monkeypatch):
    """The audit insert fails (a full disk, a lost connection...)."""

    def fail(self, *args, **kwargs):
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr(VaultAuditEvent, "save", fail)


def test_a_failed_audit_write_fails_the_reveal_and_returns_nothing(
    owner_actor, vault, broken_audit
):
    with pytest.raises(RuntimeError, match="audit storage"):
        reveal.credential_reveal(
            actor=owner_actor, vault_id=vault.pk, url="example.com", purpose="test"
        )


def test_a_failed_audit_write_fails_the_fill_and_counts_no_use(
    team, owner_actor, vault, broken_audit
):
    with pytest.raises(RuntimeError, match="audit storage"):
        fill.vault_secret_for_fill(
            team=team,
            vault_id=vault.pk,
            placeholder="mycoolpassword",
            page_url="https://example.com/",
            frame_url=None,
            element=FillElement(type="password"),
            session_id="s",
            step_index=0,
            actor=owner_actor,
        )
    assert VaultCredential.objects.get().use_count == 0


def test_a_failed_audit_write_rolls_back_changes(owner_actor, vault, broken_audit):
    before = row_counts()
    with pytest.raises(RuntimeError):
        services.credential_put(
            actor=owner_actor, vault_id=vault.pk, url="example.org", username="x", password="y"
        )
    with pytest.raises(RuntimeError):
        services.vault_delete(actor=owner_actor, vault_id=vault.pk)
    with pytest.raises(RuntimeError):
        services.vault_create(actor=owner_actor, name="Other")
    assert row_counts() == before


def test_a_failed_audit_write_answers_500_on_the_api(client, team, owner, vault, broken_audit):
    from tests.vaults_app.helpers import KeyClient

    _, raw = key_actor(team, ["vaults.reveal", "vaults.use"], created_by=owner)
    response = KeyClient(client, raw).get(f"/vaults/{vault.pk}/credentials", url="example.com")
    assert response.status_code == 500 and b"pw-1" not in response.content


def _verify(team=None):
    from vaults_app.unseal import vault_keyring

    return audit.audit_verify(keyring=vault_keyring(), team=team)


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_chain_of_an_untouched_log_verifies(vault):
    checked, problems = _verify()
    assert checked == VaultAuditEvent.objects.count() == 2 and problems == []
    call_command("verify_vault_audit", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("column", "value"),
    [("outcome", "ok"), ("actor_label", "mallory"), ("detail", "nothing to see"), ("field", "")],
)
def test_an_edited_row_is_detected(team, owner_actor, vault, column, value):
    with pytest.raises(Forbidden):
        reveal.credential_reveal(
            actor=make_actor(team, owner_actor_user(owner_actor)),
            vault_id=vault.pk,
            url="example.com",
            purpose="x",
        )
    denied = VaultAuditEvent.objects.get(outcome="denied")
    _raw(f"UPDATE vaults_app_vaultauditevent SET {column} = %s WHERE id = %s", [value, denied.pk])
    _, problems = _verify()
    assert [p.seq for p in problems] == [denied.seq] and "edited" in problems[0].problem
    with pytest.raises(CommandError, match="tampered"):
        call_command("verify_vault_audit", stdout=io.StringIO(), stderr=io.StringIO())


def owner_actor_user(actor):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=actor.id)


def test_a_deleted_row_in_the_middle_is_detected(owner_actor, vault):
    services.vault_rename(actor=owner_actor, vault_id=vault.pk, name="Renamed")
    middle = VaultAuditEvent.objects.get(seq=2)
    _raw("DELETE FROM vaults_app_vaultauditevent WHERE id = %s", [middle.pk])
    _, problems = _verify()
    assert problems and problems[0].seq == 2 and "deleted" in problems[0].problem


def test_deleted_rows_at_the_end_are_detected(owner_actor, vault):
    last = VaultAuditEvent.objects.latest("seq")
    _raw("DELETE FROM vaults_app_vaultauditevent WHERE id = %s", [last.pk])
    _, problems = _verify()
    assert problems and "end" in str(problems[0]) and "deleted" in problems[0].problem


def test_a_forged_replacement_row_is_detected(owner_actor, vault):
    last = VaultAuditEvent.objects.latest("seq")
    _raw("UPDATE vaults_app_vaultauditevent SET mac = %s WHERE id = %s", ["0" * 64, last.pk])
    _, problems = _verify()
    assert problems


def test_the_orm_refuses_to_change_or_delete_audit_rows(vault):
    row = VaultAuditEvent.objects.first()
    row.detail = "x"
    with pytest.raises(TypeError, match="append-only"):
        row.save()
    with pytest.raises(TypeError, match="append-only"):
        row.delete()
    with pytest.raises(TypeError, match="append-only"):
        VaultAuditEvent.objects.filter(pk=row.pk).update(detail="x")
    with pytest.raises(TypeError, match="append-only"):
        VaultAuditEvent.objects.all().delete()


def test_an_audit_write_outside_a_transaction_is_refused(owner_actor):
    from vaults_app.unseal import vault_keyring

    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.audit_record(keyring=vault_keyring(), actor=owner_actor, action="vault.created")


def test_each_team_has_its_own_chain(owner_actor, other_team_key, vault):
    from teams_app.models import Team

    other = Team.objects.get(name="Other")
    outsider, _ = key_actor(other, ["vaults.manage"])
    services.vault_create(actor=outsider, name="Theirs")
    heads = dict(VaultAuditHead.objects.values_list("team__name", "seq"))
    assert heads == {"Acme": 2, "Other": 1}
    assert _verify(team=other) == (1, [])


def test_audit_rows_match_decryptions_over_random_uses_and_reveals(team, owner, vault, monkeypatch):
    """200 random uses and reveals by keys that may or may not: one audit row per attempt, and
    exactly one 'ok' row per decryption."""
    opened = []
    real_open = items.open_item
    monkeypatch.setattr(fill, "open_item", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    monkeypatch.setattr(reveal, "open_item", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    actors = [
        key_actor(team, scopes, created_by=owner)[0]
        for scopes in (["vaults.use", "vaults.reveal"], ["vaults.use"], ["sessions"])
    ]
    start = VaultAuditEvent.objects.count()
    rng = random.Random(20260514)
    for _ in range(200):
        actor = rng.choice(actors)
        page = rng.choice(["https://example.com/", "https://evil.test/"])
        try:
            if rng.random() < 0.5:
                fill.vault_secret_for_fill(
                    team=team,
                    vault_id=vault.pk,
                    placeholder="mycoolpassword",
                    page_url=page,
                    frame_url=None,
                    element=FillElement(type="password"),
                    session_id="s",
                    step_index=0,
                    actor=actor,
                )
            else:
                reveal.credential_reveal(
                    actor=actor, vault_id=vault.pk, url="example.com", purpose="t"
                )
        except (fill.FillRefused, Forbidden):
            pass
    assert VaultAuditEvent.objects.count() - start == 200
    ok = VaultAuditEvent.objects.filter(
        outcome="ok", action__in=["credential.used", "credential.revealed"]
    ).count()
    assert ok == len(opened) > 0
    assert VaultAuditEvent.objects.filter(outcome="denied").count() == 200 - ok > 0
    assert _verify() == (VaultAuditEvent.objects.count(), [])


def test_deleting_a_team_takes_its_vaults_and_their_audit_chain_with_it(team, owner_actor, vault):
    from vaults_app.models import Vault

    assert VaultAuditEvent.objects.filter(team=team).exists()
    team.delete()
    assert not Vault.objects.exists() and not VaultAuditEvent.objects.exists()
    assert not VaultAuditHead.objects.exists()
    assert _verify() == (0, [])
