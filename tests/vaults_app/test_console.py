"""The console's vault pages: every page and action against every role, in the user's own team
and another one; reveal after re-entering the password, once, rate-limited; secrets never echoed."""

import re
import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from teams_app.models import Membership, Role, Team
from teams_app.services import team_create
from tests.support.leaks import find_leaks
from tests.vaults_app.helpers import luhn_number, new_canary, row_counts
from vaults_app import services
from vaults_app.models import Vault, VaultAuditEvent, VaultCard, VaultCredential
from vaults_app.reveal import REVEALS_PER_HOUR
from vaults_app.urls import urlpatterns

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests-1"
MANAGERS = {Role.OWNER, Role.ADMIN}
EVERYONE = set(Role)
CANARY = new_canary()
NUMBER = luhn_number()


@pytest.fixture
def acme(team, owner, owner_actor):
    """Acme's vault with a login and a card, and the ids the URLs need."""
    vault = services.vault_create(actor=owner_actor, name="Acme secrets")
    login, _ = services.credential_put(
        actor=owner_actor,
        vault_id=vault.pk,
        url="example.com",
        username="acme-user",
        password=CANARY,
    )
    services.card_set(
        actor=owner_actor, vault_id=vault.pk, holder="Acme", number=NUMBER, expiration="05/38"
    )
    return {"vault_id": vault.pk, "item_id": login.pk, "kind": "password"}


def user_with_role(django_user_model, team, role):
    user = django_user_model.objects.create_user(
        username=f"{role}-{uuid.uuid4().hex[:6]}", password=PASSWORD
    )
    Membership.objects.create(team=team, user=user, role=role)
    return user


# (url name, method, POST data, roles allowed, status when allowed)
RULES = [
    ("list", "get", None, EVERYONE, 200),
    ("create", "post", {"name": "New"}, MANAGERS, 302),
    ("settings", "post", {"store_cvv": "on"}, MANAGERS, 302),
    ("audit", "get", None, MANAGERS, 200),
    ("detail", "get", None, EVERYONE, 200),
    ("rename", "post", {"name": "Renamed"}, MANAGERS, 302),
    ("delete", "post", {}, MANAGERS, 302),
    ("login_add", "post", {"url": "example.org", "login": "x", "password": "y"}, MANAGERS, 302),
    ("login_edit", "get", None, MANAGERS, 200),
    (
        "login_edit",
        "post",
        {"url": "example.com", "login": "renamed", "password": ""},
        MANAGERS,
        302,
    ),
    ("login_delete", "post", {}, MANAGERS, 302),
    ("login_reveal", "get", None, MANAGERS, 200),
    ("login_reveal", "post", {"password": PASSWORD}, MANAGERS, 200),
    (
        "card_set",
        "post",
        {"holder": "A", "number": "4242424242424242", "expiration": "01/40"},
        MANAGERS,
        302,
    ),
    ("card_delete", "post", {}, MANAGERS, 302),
    ("card_reveal", "get", None, MANAGERS, 200),
    ("card_reveal", "post", {"password": PASSWORD}, MANAGERS, 200),
]


def test_every_vault_page_has_a_rule():
    """Deny by default starts with knowing every route: a new one must be added to RULES."""
    assert {p.name for p in urlpatterns} == {rule[0] for rule in RULES}


def url_for(name, ids):
    pattern = next(p for p in urlpatterns if p.name == name)
    wanted = set(re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern)))
    return reverse(f"vaults_app:{name}", kwargs={k: ids[k] for k in wanted})


def call(client, name, method, data, ids):
    url = url_for(name, ids)
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("name", "method", "data", "allowed", "ok_status"), RULES, ids=[f"{r[1]} {r[0]}" for r in RULES]
)
def test_role_matrix_in_the_users_own_team(
    client, team, acme, django_user_model, role, name, method, data, allowed, ok_status
):
    client.force_login(user_with_role(django_user_model, team, role))
    before = row_counts()
    response = call(client, name, method, data, acme)
    if role in allowed:
        assert response.status_code == ok_status, response.content[:500]
    else:
        assert response.status_code == 403
        if name not in ("login_reveal", "card_reveal"):
            assert row_counts() == before  # a refused action leaves nothing behind


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("name", "method", "data", "allowed", "ok_status"), RULES, ids=[f"{r[1]} {r[0]}" for r in RULES]
)
def test_role_matrix_against_another_teams_vault(
    client, acme, django_user_model, role, name, method, data, allowed, ok_status
):
    charlie = django_user_model.objects.create_user(username="charlie", password=PASSWORD)
    other = team_create(name="Other", owner=charlie)
    client.force_login(user_with_role(django_user_model, other, role))
    before = {
        "vaults": Vault.objects.filter(team__name="Acme").count(),
        "logins": VaultCredential.objects.count(),
        "cards": VaultCard.objects.count(),
        "audit": VaultAuditEvent.objects.filter(team__name="Acme").count(),
    }
    theirs = call(client, name, method, data, acme)
    unknown = call(
        client,
        name,
        method,
        data,
        {"vault_id": uuid.uuid4(), "item_id": uuid.uuid4(), "kind": "password"},
    )
    assert theirs.status_code == unknown.status_code, (
        "another team's vault must look like an unknown one"
    )
    if "vault_id" in str(next(p for p in urlpatterns if p.name == name).pattern):
        assert theirs.status_code == (404 if role in allowed else 403)
    body = theirs.content.decode()
    assert "Acme secrets" not in body and "acme-user" not in body and not find_leaks(CANARY, body)
    assert before == {
        "vaults": Vault.objects.filter(team__name="Acme").count(),
        "logins": VaultCredential.objects.count(),
        "cards": VaultCard.objects.count(),
        "audit": VaultAuditEvent.objects.filter(team__name="Acme").count(),
    }


def test_viewers_see_sites_and_usernames_only(client, team, acme, django_user_model):
    client.force_login(user_with_role(django_user_model, team, Role.VIEWER))
    page = client.get(url_for("detail", acme)).content.decode()
    assert "example.com" in page and "acme-user" in page
    assert (
        f"•••• {NUMBER[-4:]}" not in page
        and "Last used" not in page
        and "Reveal" not in page
        and "Payment card" not in page
    )
    member = Client()
    member.force_login(user_with_role(django_user_model, team, Role.MEMBER))
    page = member.get(url_for("detail", acme)).content.decode()
    assert (
        f"•••• {NUMBER[-4:]}" in page
        and "Last used" in page
        and "Reveal" not in page
        and "Add a login" not in page
    )


def test_reveal_needs_the_password_and_is_audited_either_way(client, owner, acme):
    client.force_login(owner)
    url = url_for("login_reveal", acme)
    wrong = client.post(url, {"password": "not-my-password"})
    assert wrong.status_code == 403 and not find_leaks(CANARY, wrong.content)
    assert "That is not your password" in wrong.content.decode()
    right = client.post(url, {"password": "alice-pass-123"})
    assert right.status_code == 200 and CANARY in right.content.decode()
    assert right["Cache-Control"] == "no-store"
    again = client.post(url, {})  # within five minutes: no password needed, still audited
    assert again.status_code == 200 and CANARY in again.content.decode()
    assert CANARY not in client.get(url).content.decode()  # the form page never shows it
    outcomes = list(
        VaultAuditEvent.objects.filter(action="credential.revealed")
        .order_by("seq")
        .values_list("outcome", "actor_label", "purpose")
    )
    assert outcomes == [
        ("denied", "alice", "console reveal"),
        ("ok", "alice", "console reveal"),
        ("ok", "alice", "console reveal"),
    ]


def test_reveal_of_the_current_totp_code(client, team, owner, owner_actor, acme):
    import pyotp

    from tests.vaults_app.helpers import totp_secret

    secret = totp_secret()
    login, _ = services.credential_put(
        actor=owner_actor,
        vault_id=acme["vault_id"],
        url="totp.example.com",
        username="t",
        password="p",
        mfa_secret=secret,
    )
    client.force_login(owner)
    page = client.post(
        url_for("login_reveal", {**acme, "item_id": login.pk, "kind": "totp"}),
        {"password": "alice-pass-123"},
    ).content.decode()
    assert pyotp.TOTP(secret).now() in page and secret not in page


def test_reveals_are_limited_to_ten_an_hour(client, owner, acme):
    client.force_login(owner)
    url = url_for("card_reveal", acme)
    for _ in range(REVEALS_PER_HOUR):
        assert client.post(url, {"password": "alice-pass-123"}).status_code == 200
    limited = client.post(url, {"password": "alice-pass-123"})
    assert limited.status_code == 429 and NUMBER not in limited.content.decode()
    assert "At most 10 reveals an hour" in limited.content.decode()


def test_a_rejected_form_never_echoes_a_secret(client, owner, acme):
    client.force_login(owner)
    canary = new_canary()
    response = client.post(
        url_for("login_add", acme),
        {"url": "not a site!", "login": "x", "password": canary, "mfa_secret": canary},
    )
    assert (
        response.status_code == 200
        and "give a domain such as example.com" in response.content.decode()
    )
    assert not find_leaks(canary, response.content)
    number = luhn_number()
    response = client.post(
        url_for("card_set", acme), {"holder": "A", "number": number, "expiration": "01/19"}
    )
    assert "expired" in response.content.decode() and not find_leaks(number, response.content)
    edit = client.get(url_for("login_edit", acme)).content.decode()
    assert not find_leaks(CANARY, edit) and 'value="example.com"' in edit


def test_turning_cvv_storage_off_erases_stored_cvvs(client, team, owner, owner_actor, acme):
    services.vault_settings_set(actor=owner_actor, store_cvv=True)
    services.card_set(
        actor=owner_actor,
        vault_id=acme["vault_id"],
        holder="A",
        number=NUMBER,
        expiration="05/38",
        cvv="123",
    )
    assert VaultCard.objects.get().has_cvv
    client.force_login(owner)
    assert client.post(url_for("settings", acme), {}).status_code == 302
    assert not VaultCard.objects.get().has_cvv
    assert (
        "CVV storage turned off; 1 stored CVV(s) erased"
        in VaultAuditEvent.objects.latest("seq").detail
    )


def test_the_audit_log_filters_and_verifies(client, team, owner, owner_actor, acme):
    from vaults_app import fill

    fill.vault_secret_for_fill(
        team=team,
        vault_id=acme["vault_id"],
        placeholder="mycoolpassword",
        page_url="https://example.com/",
        frame_url=None,
        element=fill.FillElement(type="password"),
        session_id="sess-42",
        step_index=2,
        actor=owner_actor,
    )
    client.force_login(owner)
    everything = client.get(url_for("audit", acme)).content.decode()
    assert everything.count('id="audit-row-') == VaultAuditEvent.objects.count() == 4
    by_session = client.get(url_for("audit", acme), {"session": "sess-42"}).content.decode()
    assert by_session.count('id="audit-row-') == 1 and "step 2" in by_session
    by_item = client.get(url_for("audit", acme), {"item": str(acme["item_id"])}).content.decode()
    assert by_item.count('id="audit-row-') == 2
    assert (
        client.get(url_for("audit", acme), {"user": "nobody"})
        .content.decode()
        .count('id="audit-row-')
        == 0
    )
    assert (
        "Chain intact: 4 records"
        in client.get(url_for("audit", acme), {"verify": "1"}).content.decode()
    )


def test_forms_need_the_csrf_token(owner, acme):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url_for("create", acme), {"name": "x"}).status_code == 403
    assert (
        client.post(url_for("card_reveal", acme), {"password": "alice-pass-123"}).status_code == 403
    )


def test_a_crash_in_a_vault_view_mails_no_secret(settings, owner, acme, monkeypatch):
    settings.DEBUG = False
    settings.ADMINS = ["ops@example.com"]

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "credential_put", crash)
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    canary = new_canary()
    response = client.post(
        url_for("login_add", acme),
        {"url": "example.org", "login": "x", "password": canary, "mfa_secret": canary},
    )
    assert response.status_code == 500
    assert len(mail.outbox) == 1 and "boom" in mail.outbox[0].body  # the report was sent...
    report = mail.outbox[0].body + "".join(str(a) for a in mail.outbox[0].alternatives)
    assert not find_leaks(canary, report)  # ...without the secret


def test_sealed_pages_say_how_to_unseal_and_show_nothing(client, owner, acme, keyring_file):
    keyring_file.unlink()
    client.force_login(owner)
    for name in ("list", "detail"):
        page = client.get(url_for(name, acme)).content.decode()
        assert "Vaults are sealed" in page and "from a backup" in page and "acme-user" not in page
    before = row_counts()
    response = client.post(url_for("create", acme), {"name": "x"}, follow=True)
    assert "Vaults are sealed" in response.content.decode() and row_counts() == before
    assert Team.objects.count() == 1


def test_the_django_admin_shows_vault_metadata_read_only(client, django_user_model, acme):
    admin = django_user_model.objects.create_superuser(username="root", password=PASSWORD, email="")
    client.force_login(admin)
    for model in (
        "vault",
        "vaultcredential",
        "vaultcard",
        "vaultkey",
        "vaultauditevent",
        "vaultteamsettings",
    ):
        page = client.get(f"/admin/vaults_app/{model}/")
        assert page.status_code == 200, model
        assert not find_leaks(CANARY, page.content) and NUMBER not in page.content.decode()
    login = VaultCredential.objects.get()
    detail = client.get(f"/admin/vaults_app/vaultcredential/{login.pk}/change/")
    assert detail.status_code == 200 and not find_leaks(CANARY, detail.content)
    assert (
        client.post(
            f"/admin/vaults_app/vault/{acme['vault_id']}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
