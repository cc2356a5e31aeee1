"""Screenshots of the vault pages for a design review, not a test (the suite does not collect it):

.venv/bin/pytest tests/e2e/vault_screenshots.py    # PNGs go to $PERISCOPE_SCREENSHOTS or /tmp/shots
"""

import contextlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("PERISCOPE_SCREENSHOTS", "/tmp/shots")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def keyring(tmp_path, settings):
    settings.PERISCOPE_VAULT_KEYRING_FILE = tmp_path / "vault-keyring.json"
    call_command("vault_keyring", "create", stdout=io.StringIO())
    return settings.PERISCOPE_VAULT_KEYRING_FILE


def _data(team, owner, django_user_model):
    from teams_app.models import Membership, Role
    from vaults_app import fill, reveal, services
    from vaults_app.actors import actor_for_membership

    victor = django_user_model.objects.create_user(username="victor", password="victor-pass-123")
    Membership.objects.create(team=team, user=victor, role=Role.VIEWER)
    actor = actor_for_membership(Membership.objects.get(team=team, user=owner))
    vault = services.vault_create(actor=actor, name="Marketing accounts")
    services.vault_create(actor=actor, name="Billing")
    services.credential_put(
        actor=actor,
        vault_id=vault.pk,
        url="example.com",
        email="growth@acme.example",
        password="pw-Shots-1",
        mfa_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    )
    services.credential_put(
        actor=actor,
        vault_id=vault.pk,
        url="https://ads.example.net/login",
        username="acme-ads",
        password="pw-Shots-2",
    )
    services.vault_settings_set(actor=actor, store_cvv=True)
    services.card_set(
        actor=actor,
        vault_id=vault.pk,
        holder="Acme Corp",
        number="4111 1111 1111 1111",
        expiration="09/29",
        cvv="123",
        allowed_origins=["shop.example.com"],
    )
    fill.vault_secret_for_fill(
        team=team,
        vault_id=vault.pk,
        placeholder="mycoolpassword",
        page_url="https://www.example.com/login",
        frame_url=None,
        element=fill.FillElement(type="password", name="password"),
        session_id="6f1c2a9e-3b1d-4c55-9a7e-0d2f4b8c1e77",
        step_index=3,
        actor=actor,
    )
    with contextlib.suppress(fill.FillRefused):
        fill.vault_secret_for_fill(
            team=team,
            vault_id=vault.pk,
            placeholder="mycoolpassword",
            page_url="https://evil.example.org/",
            frame_url=None,
            element=fill.FillElement(type="password"),
            session_id="6f1c2a9e-3b1d-4c55-9a7e-0d2f4b8c1e77",
            step_index=4,
            actor=actor,
        )
    with contextlib.suppress(Exception):
        reveal.card_reveal(actor=actor, vault_id=vault.pk, purpose="console reveal")
    return vault


def test_vault_screenshots(browser, live, owner, team, keyring, django_user_model):
    vault = _data(team, owner, django_user_model)
    login = vault.credentials.order_by("url").first()
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for size_name, size in SIZES.items():
            for user, password in (("alice", "alice-pass-123"), ("victor", "victor-pass-123")):
                context = browser.new_context(viewport=size, color_scheme=scheme)
                page = context.new_page()
                prefix = f"vault-{size_name}-{scheme}-{user}"
                page.goto(f"{live.url}/login/")
                page.get_by_label("Username").fill(user)
                page.get_by_label("Password").fill(password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/sessions/")
                page.goto(f"{live.url}/vaults/")
                page.screenshot(path=out / f"{prefix}-list.png", full_page=True)
                page.goto(f"{live.url}/vaults/{vault.pk}/")
                page.screenshot(path=out / f"{prefix}-detail.png", full_page=True)
                if user == "alice":
                    page.get_by_text("Replace the card").click()
                    page.screenshot(path=out / f"{prefix}-detail-card-form.png", full_page=True)
                    page.locator("summary", has_text="Rename").click()
                    page.screenshot(path=out / f"{prefix}-rename.png")
                    page.goto(f"{live.url}/vaults/{vault.pk}/logins/{login.pk}/reveal/password/")
                    page.screenshot(path=out / f"{prefix}-reveal-form.png", full_page=True)
                    page.get_by_label("Your password").fill(password)
                    page.get_by_role("button", name="Reveal the password").click()
                    page.screenshot(path=out / f"{prefix}-revealed.png", full_page=True)
                    page.goto(f"{live.url}/vaults/{vault.pk}/logins/{login.pk}/edit/")
                    page.screenshot(path=out / f"{prefix}-edit.png", full_page=True)
                    page.goto(f"{live.url}/vaults/audit/")
                    page.screenshot(path=out / f"{prefix}-audit.png", full_page=True)
                context.close()
    keyring.rename(keyring.with_name("moved-away.json"))
    context = browser.new_context(viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(f"{live.url}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sessions/")
    page.goto(f"{live.url}/vaults/")
    page.screenshot(path=out / "vault-desktop-light-sealed.png", full_page=True)
    context.close()
