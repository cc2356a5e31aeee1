"""Filling from a vault: the placeholder decides what, the page and frame origin decide which
login (or whether the card may go there), the element decides whether it may receive it."""

import pyotp
import pytest

from core.errors import Forbidden, InvalidInput
from teams_app.models import Role
from tests.vaults_app.helpers import add_member, key_actor, luhn_number, make_actor, totp_secret
from vaults_app import fill, services
from vaults_app.fill import FillElement, FillRefused, vault_check_usable, vault_secret_for_fill
from vaults_app.models import VaultAuditEvent, VaultCredential
from vaults_app.placeholders import (
    BY_VALUE,
    FORM_FILL_KEYS,
    PLACEHOLDERS,
    VaultField,
    placeholder_field,
)
from vaults_app.unseal import VaultSealed

pytestmark = pytest.mark.django_db

PASSWORD = FillElement(type="password", name="password")
TEXT = FillElement(type="text", name="login")
SECRET = totp_secret()
CARD = luhn_number()


@pytest.fixture
def vault(team, owner_actor):
    vault = services.vault_create(actor=owner_actor, name="Main")
    services.credential_put(
        actor=owner_actor,
        vault_id=vault.pk,
        url="example.com",
        email="me@example.com",
        password="pw-domain",
        mfa_secret=SECRET,
    )
    services.credential_put(
        actor=owner_actor,
        vault_id=vault.pk,
        url="https://admin.example.com",
        username="root",
        password="pw-admin",
    )
    services.credential_put(
        actor=owner_actor,
        vault_id=vault.pk,
        url="http://127.0.0.1:8001",
        username="local",
        password="pw-loopback",
    )
    return vault


def fill_value(team, vault, actor, placeholder, page, element=PASSWORD, frame=None, **kw):
    return vault_secret_for_fill(
        team=team,
        vault_id=vault.pk,
        placeholder=placeholder,
        page_url=page,
        frame_url=frame,
        element=element,
        session_id="sess-1",
        step_index=7,
        actor=actor,
        **kw,
    )


def refused(
    team, vault, actor, placeholder, page, element=PASSWORD, frame=None, **kw
) -> FillRefused:
    with pytest.raises(FillRefused) as info:
        fill_value(team, vault, actor, placeholder, page, element, frame, **kw)
    return info.value


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("https://example.com/login", "pw-domain"),
        ("https://www.example.com/login", "pw-domain"),
        ("https://deep.sub.example.com:8443/x", "pw-domain"),
        ("https://admin.example.com/login", "pw-admin"),  # the origin binding is more specific
        ("https://x.admin.example.com/", "pw-admin"),
        (
            "https://admin.example.com:8443/",
            "pw-domain",
        ),  # not the admin origin's port; the domain's any
        ("http://127.0.0.1:8001/login.html", "pw-loopback"),
    ],
)
def test_the_login_is_chosen_by_the_pages_origin(team, vault, owner_actor, page, expected):
    assert fill_value(team, vault, owner_actor, "mycoolpassword", page) == expected


@pytest.mark.parametrize(
    "page",
    [
        "http://example.com/login",  # a domain binding is https only
        "https://example.com.evil.test/",
        "https://notexample.com/",
        "https://example.org/",
        "http://admin.example.com/",  # the origin binding is https
        "http://127.0.0.1:8002/",
        "http://127.0.0.2:8001/",
    ],
)
def test_no_login_for_another_origin(team, vault, owner_actor, page):
    error = refused(team, vault, owner_actor, "mycoolpassword", page)
    assert error.code == "no_login_for_origin"


@pytest.mark.parametrize(
    "page", ["about:blank", "file:///etc/passwd", "data:text/html,x", "javascript:1", ""]
)
def test_only_web_pages_are_filled(team, vault, owner_actor, page):
    assert refused(team, vault, owner_actor, "mycoolpassword", page).code == "not_a_web_page"


def test_the_frame_holding_the_field_must_be_covered_too(team, vault, owner_actor):
    page = "https://www.example.com/login"
    assert fill_value(
        team, vault, owner_actor, "mycoolpassword", page, frame="https://auth.example.com/f"
    ) == ("pw-domain")
    assert (
        fill_value(team, vault, owner_actor, "mycoolpassword", page, frame="about:blank")
        == "pw-domain"
    )
    error = refused(
        team, vault, owner_actor, "mycoolpassword", page, frame="https://evil.test/frame"
    )
    assert error.code == "frame_origin_mismatch" and "evil.test" in error.message


@pytest.mark.parametrize(
    ("placeholder", "element"),
    [
        ("mycoolpassword", FillElement(type="text", name="comment")),
        ("mycoolpassword", FillElement(tag="textarea", name="comment")),
        ("mycoolpassword", FillElement(type="email", name="email")),
        ("mycoolpassword", FillElement(type="hidden", name="password")),
        ("user@example.org", FillElement(type="password")),
        ("user@example.org", FillElement(tag="textarea")),
        ("999779", FillElement(tag="textarea")),
        ("4242 4242 4242 4242", FillElement(type="text", name="comment")),
        ("4242 4242 4242 4242", FillElement(type="text", name="phone_number")),
        ("4242 4242 4242 4242", FillElement(type="password", name="cardnumber")),
        ("[CardCVVPlaceholder]", FillElement(type="text", name="zip")),
    ],
)
def test_a_value_only_goes_into_its_kind_of_field(team, vault, owner_actor, placeholder, element):
    services.card_set(
        actor=owner_actor, vault_id=vault.pk, holder="A B", number=CARD, expiration="12/39"
    )
    error = refused(team, vault, owner_actor, placeholder, "https://example.com/", element)
    assert error.code == "wrong_field_type"
    assert VaultAuditEvent.objects.filter(outcome="denied", detail=error.message).count() == 1


def test_email_username_and_totp_fill_with_notte_fallbacks(team, vault, owner_actor):
    page = "https://example.com/"
    assert fill_value(team, vault, owner_actor, "user@example.org", page, TEXT) == "me@example.com"
    assert (
        fill_value(team, vault, owner_actor, "cooljohnny1567", page, TEXT) == "me@example.com"
    )  # no username
    assert (
        fill_value(team, vault, owner_actor, "user@example.org", "https://admin.example.com/", TEXT)
        == "root"
    )


def test_the_totp_code_is_computed_here_and_equals_pyotp(team, vault, owner_actor):
    before = pyotp.TOTP(SECRET).now()
    code = fill_value(
        team,
        vault,
        owner_actor,
        "999779",
        "https://example.com/",
        FillElement(type="text", autocomplete="one-time-code"),
    )
    after = pyotp.TOTP(SECRET).now()
    assert code in (before, after) and len(code) == 6 and code != "999779"
    assert (
        refused(team, vault, owner_actor, "999779", "https://admin.example.com/", TEXT).code
        == "field_not_stored"
    )


def test_the_totp_code_matches_pyotp_at_a_given_time():
    from vaults_app.totp import totp_now

    for when in (0, 1_700_000_000, 2_000_000_029):
        assert totp_now(SECRET, when) == pyotp.TOTP(SECRET).at(when)
    # RFC 6238's SHA-1 test vector: the secret "12345678901234567890", T=59 s -> 94287082 (8 digits).
    assert totp_now("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59) == "287082"


def test_80_bit_secrets_which_many_sites_still_issue_work_too():
    import base64
    import hashlib
    import hmac
    import struct

    from vaults_app.totp import totp_now

    secret = "JBSWY3DPEHPK3PXP"  # 16 base32 characters; pyotp alone asks for 112 bits
    digest = hmac.new(
        base64.b32decode(secret), struct.pack(">Q", 1_700_000_000 // 30), hashlib.sha1
    ).digest()
    offset = digest[-1] & 0x0F
    expected = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6
    assert totp_now(secret, 1_700_000_000) == f"{expected:06d}"


@pytest.mark.parametrize(
    ("placeholder", "element", "expected"),
    [
        ("John Doe", FillElement(autocomplete="cc-name"), "Ada Lovelace"),
        ("4242 4242 4242 4242", FillElement(autocomplete="cc-number"), CARD),
        ("4242 4242 4242 4242", FillElement(type="tel", name="cardNumber"), CARD),
        ("4242 4242 4242 4242", FillElement(id="card-number"), CARD),
        ("[CardExpirationPlaceholder]", FillElement(autocomplete="cc-exp"), "11/38"),
        ("[CardExpirationPlaceholder]", FillElement(name="card-expiry"), "11/38"),
        ("[CardCVVPlaceholder]", FillElement(type="password", autocomplete="cc-csc"), "737"),
        ("[CardCVVPlaceholder]", FillElement(name="cvc"), "737"),
    ],
)
def test_card_values_fill_card_fields(team, vault, owner_actor, placeholder, element, expected):
    services.vault_settings_set(actor=owner_actor, store_cvv=True)
    services.card_set(
        actor=owner_actor,
        vault_id=vault.pk,
        holder="Ada Lovelace",
        number=CARD,
        expiration="11/38",
        cvv="737",
    )
    assert (
        fill_value(team, vault, owner_actor, placeholder, "https://shop.example.net/pay", element)
        == expected
    )


def test_form_fill_keys_map_and_must_agree_with_the_placeholder(team, vault, owner_actor):
    services.card_set(
        actor=owner_actor, vault_id=vault.pk, holder="A B", number=CARD, expiration="03/37"
    )
    page = "https://example.com/"
    month = FillElement(tag="select", name="exp-month", autocomplete="cc-exp-month")
    year = FillElement(tag="select", name="exp-year", autocomplete="cc-exp-year")
    assert (
        fill_value(
            team,
            vault,
            owner_actor,
            "[CardExpirationPlaceholder]",
            page,
            month,
            form_fill_key="cc_exp_month",
        )
        == "03"
    )
    assert (
        fill_value(
            team,
            vault,
            owner_actor,
            "[CardExpirationPlaceholder]",
            page,
            year,
            form_fill_key="cc_exp_year",
        )
        == "2037"
    )
    assert fill_value(
        team, vault, owner_actor, "mycoolpassword", page, form_fill_key="current_password"
    ) == ("pw-domain")
    error = refused(
        team,
        vault,
        owner_actor,
        "mycoolpassword",
        page,
        FillElement(name="cc-number"),
        form_fill_key="cc_number",
    )
    assert error.code == "form_fill_key_mismatch"


def test_the_card_can_be_limited_to_some_sites(team, vault, owner_actor):
    services.card_set(
        actor=owner_actor,
        vault_id=vault.pk,
        holder="A B",
        number=CARD,
        expiration="03/37",
        allowed_origins=["shop.example.net"],
    )
    number_field = FillElement(autocomplete="cc-number")
    assert (
        fill_value(
            team,
            vault,
            owner_actor,
            "4242 4242 4242 4242",
            "https://www.shop.example.net/",
            number_field,
        )
        == CARD
    )
    error = refused(
        team, vault, owner_actor, "4242 4242 4242 4242", "https://evil.test/", number_field
    )
    assert error.code == "card_origin_mismatch"
    error = refused(
        team,
        vault,
        owner_actor,
        "4242 4242 4242 4242",
        "https://shop.example.net/",
        number_field,
        frame="https://evil.test/iframe",
    )
    assert error.code == "frame_origin_mismatch"


def test_missing_pieces_are_refused_with_a_reason(team, vault, owner_actor):
    assert (
        refused(team, vault, owner_actor, "hello", "https://example.com/", TEXT).code
        == "not_a_placeholder"
    )
    error = refused(
        team,
        vault,
        owner_actor,
        "4242 4242 4242 4242",
        "https://example.com/",
        FillElement(autocomplete="cc-number"),
    )
    assert error.code == "no_card"
    services.card_set(
        actor=owner_actor,
        vault_id=vault.pk,
        holder="A B",
        number=CARD,
        expiration="03/37",
        cvv="123",
    )  # the team does not store CVVs: dropped
    error = refused(
        team,
        vault,
        owner_actor,
        "[CardCVVPlaceholder]",
        "https://example.com/",
        FillElement(autocomplete="cc-csc"),
    )
    assert error.code == "field_not_stored"


def test_each_use_and_refusal_is_audited_with_session_step_and_origin(team, vault, owner_actor):
    fill_value(team, vault, owner_actor, "mycoolpassword", "https://www.example.com/login?next=/x")
    refused(team, vault, owner_actor, "mycoolpassword", "https://evil.test/")
    ok, denied = VaultAuditEvent.objects.filter(action="credential.used").order_by("seq")
    assert (
        ok.outcome,
        ok.session_id,
        ok.step_index,
        ok.target_origin,
        ok.item_label,
        ok.field,
    ) == ("ok", "sess-1", 7, "https://www.example.com", "example.com", "password")
    assert (denied.outcome, denied.target_origin) == ("denied", "https://evil.test")
    assert "no login for https://evil.test" in denied.detail
    credential = VaultCredential.objects.get(url="example.com")
    assert credential.use_count == 1 and credential.last_used_at is not None
    for row in VaultAuditEvent.objects.all():
        assert "pw-domain" not in str(row.__dict__)


@pytest.mark.parametrize(
    ("role", "may"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.MEMBER, True), (Role.VIEWER, False)],
)
def test_members_may_fill_viewers_may_not(team, vault, django_user_model, role, may):
    actor = make_actor(team, add_member(team, django_user_model, role))
    if may:
        assert (
            fill_value(team, vault, actor, "mycoolpassword", "https://example.com/") == "pw-domain"
        )
    else:
        assert (
            refused(team, vault, actor, "mycoolpassword", "https://example.com/").code
            == "forbidden"
        )


def test_keys_fill_only_with_the_use_scope(team, owner, vault):
    use, _ = key_actor(team, ["sessions", "vaults.use"])
    assert fill_value(team, vault, use, "mycoolpassword", "https://example.com/") == "pw-domain"
    sessions_only, _ = key_actor(team, ["sessions"])
    assert (
        refused(team, vault, sessions_only, "mycoolpassword", "https://example.com/").code
        == "forbidden"
    )


def test_another_teams_vault_is_not_found_for_fills(team, vault, other_team_key):
    from teams_app.models import Team

    other = Team.objects.get(name="Other")
    outsider, _ = key_actor(other, ["vaults.use"])
    with pytest.raises(Exception, match="not found"):
        vault_secret_for_fill(
            team=other,
            vault_id=vault.pk,
            placeholder="mycoolpassword",
            page_url="https://example.com/",
            frame_url=None,
            element=PASSWORD,
            session_id=None,
            step_index=None,
            actor=outsider,
        )
    assert not VaultAuditEvent.objects.filter(team=other).exists()


def test_vault_check_usable(
    team, vault, owner_actor, other_team_key, keyring_file, django_user_model
):
    from teams_app.models import Team

    assert vault_check_usable(team=team, vault_id=str(vault.pk)) == vault
    for bad in ("0f0f0f0f-0000-4000-8000-000000000000", "nope"):
        with pytest.raises(InvalidInput) as info:
            vault_check_usable(team=team, vault_id=bad)
        assert info.value.field == "vault_id"
    with pytest.raises(InvalidInput, match="no vault"):
        vault_check_usable(team=Team.objects.get(name="Other"), vault_id=str(vault.pk))
    viewer = make_actor(team, add_member(team, django_user_model, Role.VIEWER))
    with pytest.raises(Forbidden):
        vault_check_usable(team=team, vault_id=str(vault.pk), actor=viewer)
    keyring_file.unlink()
    with pytest.raises(VaultSealed):
        vault_check_usable(team=team, vault_id=str(vault.pk))
    with pytest.raises(VaultSealed):
        fill_value(team, vault, owner_actor, "mycoolpassword", "https://example.com/")


def test_the_placeholder_table_matches_notte(team):
    from notte_core.credentials.base import CredentialField

    assert {p.value for p in PLACEHOLDERS} == CredentialField.all_placeholders()
    for p in PLACEHOLDERS:
        assert placeholder_field(p.value) == p.field
    assert set(FORM_FILL_KEYS.values()) <= set(VaultField)
    assert BY_VALUE["mycoolpassword"].field == VaultField.PASSWORD
    assert fill.REFUSAL_CODES
