"""A team admin's vault journey in a real Chromium: create a vault, add a login with a TOTP
secret and a card, reveal the password after re-entering their own, find it all in the audit log."""

import pyotp
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def keyring(tmp_path, settings):
    from vaults_app import keyring

    settings.PERISCOPE_VAULT_KEYRING_FILE = tmp_path / "vault-keyring.json"
    keyring.write(settings.PERISCOPE_VAULT_KEYRING_FILE, keyring.generate())


def test_an_admin_creates_a_vault_adds_a_login_and_a_card_and_reveals_the_password(
    page: Page, live, owner, team, login, keyring
):
    secret = pyotp.random_base32()
    login(page)
    page.get_by_role("link", name="Vaults", exact=True).click()
    expect(page.get_by_role("heading", name="Vaults", exact=True)).to_be_visible()
    page.get_by_label("Vault name").fill("Marketing")
    page.get_by_role("button", name="Create vault").click()
    expect(page.get_by_role("heading", name="Marketing")).to_be_visible()

    page.get_by_label("Site", exact=True).fill("https://login.example.com/signin")
    page.get_by_label("Username or email").fill("growth@acme.example")
    password_input = page.get_by_label("Password", exact=True)
    expect(password_input).to_have_attribute("type", "password")  # masked while typed
    password_input.fill("pw-E2E-secret")
    page.get_by_label("TOTP secret").fill(secret)
    page.get_by_role("button", name="Add login").click()
    expect(page.get_by_role("status")).to_contain_text("Login for https://login.example.com added")
    row = page.locator("tr", has_text="https://login.example.com")
    expect(row).to_contain_text("growth@acme.example")
    expect(row).to_contain_text("TOTP")
    expect(page.locator("body")).not_to_contain_text("pw-E2E-secret")

    page.get_by_text("Add a card").click()
    page.get_by_label("Name on card").fill("Acme Corp")
    page.get_by_label("Card number").fill("4111 1111 1111 1111")
    page.get_by_label("Expiry (MM/YY)").fill("09/39")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("section", has_text="Payment card")).to_contain_text("Visa •••• 1111")

    row.get_by_role("link", name="Reveal").click()
    page.get_by_label("Your password").fill("alice-pass-123")
    page.get_by_role("button", name="Reveal the password").click()
    expect(page.locator(".key-reveal")).to_contain_text("pw-E2E-secret")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vaults").click()
    page.get_by_role("link", name="Audit log").click()
    table = page.locator("table")
    for action in ("vault.created", "credential.created", "card.set", "credential.revealed"):
        expect(table).to_contain_text(action)
    expect(table).not_to_contain_text("pw-E2E-secret")
    page.get_by_role("link", name="Verify the chain").click()
    expect(page.get_by_role("status")).to_contain_text("Chain intact: 4 records verified")
