"""Notte's fixed placeholders: the values code written for Notte passes to `fill` (or puts in a
`form_fill`) to mean "the secret from the vault". The browser worker swaps them for the real
value at the moment of filling (see fill.py); nothing upstream of that ever holds the secret.

Plain data, importable from anywhere (the worker, the docs test).
"""

from dataclasses import dataclass
from enum import StrEnum


class VaultField(StrEnum):
    EMAIL = "email"
    USERNAME = "username"
    PASSWORD = "password"
    TOTP_CODE = "totp_code"
    CARD_HOLDER = "card_holder_name"
    CARD_NUMBER = "card_number"
    CARD_CVV = "card_cvv"
    CARD_EXPIRATION = "card_full_expiration"
    CARD_EXP_MONTH = "card_exp_month"
    CARD_EXP_YEAR = "card_exp_year"


LOGIN_FIELDS = frozenset(
    {VaultField.EMAIL, VaultField.USERNAME, VaultField.PASSWORD, VaultField.TOTP_CODE}
)
CARD_FIELDS = frozenset(set(VaultField) - LOGIN_FIELDS)


@dataclass(frozen=True)
class Placeholder:
    value: str
    field: VaultField
    meaning: str


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder(
        "user@example.org", VaultField.EMAIL, "the login's email (its username if it has no email)"
    ),
    Placeholder(
        "cooljohnny1567",
        VaultField.USERNAME,
        "the login's username (its email if it has no username)",
    ),
    Placeholder("mycoolpassword", VaultField.PASSWORD, "the login's password"),
    Placeholder(
        "999779", VaultField.TOTP_CODE, "the current TOTP code, computed from the login's secret"
    ),
    Placeholder("John Doe", VaultField.CARD_HOLDER, "the name on the card"),
    Placeholder("4242 4242 4242 4242", VaultField.CARD_NUMBER, "the card number"),
    Placeholder(
        "[CardCVVPlaceholder]", VaultField.CARD_CVV, "the card's CVV (when the team stores CVVs)"
    ),
    Placeholder(
        "[CardExpirationPlaceholder]", VaultField.CARD_EXPIRATION, "the card's expiry, MM/YY"
    ),
)

BY_VALUE: dict[str, Placeholder] = {p.value: p for p in PLACEHOLDERS}

# Keys of Notte's `form_fill` action that take a vault value, and which one.
FORM_FILL_KEYS: dict[str, VaultField] = {
    "email": VaultField.EMAIL,
    "username": VaultField.USERNAME,
    "password": VaultField.PASSWORD,
    "current_password": VaultField.PASSWORD,
    "totp": VaultField.TOTP_CODE,
    "cc_name": VaultField.CARD_HOLDER,
    "cc_number": VaultField.CARD_NUMBER,
    "cc_cvv": VaultField.CARD_CVV,
    "cc_exp": VaultField.CARD_EXPIRATION,
    "cc_exp_month": VaultField.CARD_EXP_MONTH,
    "cc_exp_year": VaultField.CARD_EXP_YEAR,
}

# Fill-like actions whose value may be a placeholder (every other action takes it literally:
# a placeholder in a goto URL, a JS snippet or a header stays the placeholder).
FILL_ACTIONS = frozenset({"fill", "fallback_fill", "multi_factor_fill", "form_fill"})


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and value in BY_VALUE


def placeholder_field(value: str, form_fill_key: str | None = None) -> VaultField | None:
    """The vault field a value stands for, or None when it is not a placeholder.

    In a form_fill the key decides between the expiry and its month or year part; a key that
    takes another field than the placeholder's (say `cc_number` with the password placeholder)
    gives None, and the caller refuses the fill.
    """
    placeholder = BY_VALUE.get(value)
    if placeholder is None:
        return None
    if form_fill_key is None:
        return placeholder.field
    key_field = FORM_FILL_KEYS.get(form_fill_key)
    if key_field == placeholder.field:
        return key_field
    if placeholder.field == VaultField.CARD_EXPIRATION and key_field in (
        VaultField.CARD_EXP_MONTH,
        VaultField.CARD_EXP_YEAR,
    ):
        return key_field
    if {placeholder.field, key_field} == {VaultField.EMAIL, VaultField.USERNAME}:
        return key_field
    return None
