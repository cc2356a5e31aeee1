"""Checks on what users store: each failure names the field and says what to change (422)."""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from core.errors import InvalidInput

from .origins import BadSite, normalize_site
from .totp import MIN_SECRET_CHARS, totp_check

MAX_NAME = 100
MAX_LOGIN = 256
MAX_PASSWORD = 1024
MAX_HOLDER = 100
_BASE32 = re.compile(r"^[A-Z2-7]+=*$")
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*[/\-]\s*(\d{2}|\d{4})\s*$")


def clean_vault_name(value: str | None, field: str = "name") -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidInput(field, "a vault needs a name")
    if len(name) > MAX_NAME:
        raise InvalidInput(field, f"at most {MAX_NAME} characters")
    return name


def clean_site(value: str | None, field: str = "url") -> str:
    try:
        return normalize_site(value or "")
    except BadSite as exc:
        raise InvalidInput(field, str(exc)) from None


def clean_login(
    *, email: str | None, username: str | None, field_prefix: str = "credentials."
) -> tuple[str, str]:
    email = (email or "").strip()
    username = (username or "").strip()
    if email and username:
        raise InvalidInput(f"{field_prefix}email", "give either an email or a username, not both")
    if not email and not username:
        raise InvalidInput(f"{field_prefix}email", "give an email or a username")
    if len(email) > MAX_LOGIN or len(username) > MAX_LOGIN:
        raise InvalidInput(
            f"{field_prefix}{'email' if email else 'username'}", f"at most {MAX_LOGIN} characters"
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(f"{field_prefix}email", "this is not an email address") from None
    return email, username


def clean_password(value: str | None, field: str = "credentials.password") -> str:
    if not value:
        raise InvalidInput(field, "a login needs a password")
    if len(value) > MAX_PASSWORD:
        raise InvalidInput(field, f"at most {MAX_PASSWORD} characters")
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    return value


def clean_totp_secret(value: str | None, field: str = "credentials.mfa_secret") -> str | None:
    """A base32 TOTP secret (spaces and lower case allowed), normalized; None when empty."""
    if value is None or not value.strip():
        return None
    secret = re.sub(r"[\s-]", "", value).upper()
    if not _BASE32.match(secret):
        raise InvalidInput(
            field,
            "a TOTP secret is base32 (letters A-Z and digits 2-7), as the site shows it "
            "under 'enter this key manually'",
        )
    if len(secret.rstrip("=")) < MIN_SECRET_CHARS:
        raise InvalidInput(
            field,
            f"a TOTP secret has at least {MIN_SECRET_CHARS} characters; a 6-digit code "
            "is not the secret",
        )
    try:
        totp_check(secret)
    except Exception:
        raise InvalidInput(
            field, "this base32 text does not decode; check it was copied whole"
        ) from None
    return secret


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str:
    two, four = int(digits[:2]), int(digits[:4])
    if digits.startswith("4"):
        return "Visa"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "Mastercard"
    if two in (34, 37):
        return "Amex"
    if digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649:
        return "Discover"
    if 3528 <= four <= 3589:
        return "JCB"
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return "Diners"
    if digits.startswith("62"):
        return "UnionPay"
    return "Card"


@dataclass(frozen=True)
class CleanCard:
    holder: str
    number: str  # digits only
    expiration: str  # MM/YY or MM/YYYY as given, normalized to two-digit month
    exp_month: int
    exp_year: int
    cvv: str | None
    brand: str

    @property
    def last4(self) -> str:
        return self.number[-4:]


def clean_card_number(value: str | None, field: str = "credit_card.card_number") -> str:
    digits = re.sub(r"[\s-]", "", value or "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise InvalidInput(field, "a card number has 12 to 19 digits (spaces and dashes allowed)")
    if not luhn_ok(digits):
        raise InvalidInput(
            field, "this card number fails its check digit (Luhn): a digit is mistyped"
        )
    return digits


def clean_expiration(
    value: str | None,
    field: str = "credit_card.card_full_expiration",
    today: datetime.date | None = None,
) -> tuple[str, int, int]:
    match = _EXPIRY.match(value or "")
    if not match:
        raise InvalidInput(field, "give the expiry as MM/YY or MM/YYYY")
    month, year_text = int(match.group(1)), match.group(2)
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    if not 1 <= month <= 12:
        raise InvalidInput(field, "the month is between 01 and 12")
    today = today or timezone.now().date()
    if (year, month) < (today.year, today.month):
        raise InvalidInput(field, f"this card expired at the end of {month:02d}/{year}")
    return f"{month:02d}/{year_text}", month, year


def clean_cvv(value: str | None, brand: str, field: str = "credit_card.card_cvv") -> str | None:
    cvv = (value or "").strip()
    if not cvv:
        return None
    length = 4 if brand == "Amex" else 3
    if not cvv.isdigit() or len(cvv) not in (3, 4) or (brand == "Amex" and len(cvv) != length):
        raise InvalidInput(
            field, f"a CVV has {length} digits" if brand == "Amex" else "a CVV has 3 or 4 digits"
        )
    return cvv


def clean_holder(value: str | None, field: str = "credit_card.card_holder_name") -> str:
    holder = " ".join((value or "").split())
    if not holder:
        raise InvalidInput(field, "give the name on the card")
    if len(holder) > MAX_HOLDER:
        raise InvalidInput(field, f"at most {MAX_HOLDER} characters")
    return holder


def clean_card(
    *,
    holder: str | None,
    number: str | None,
    expiration: str | None,
    cvv: str | None,
    store_cvv: bool,
    prefix: str = "credit_card.",
) -> CleanCard:
    digits = clean_card_number(number, f"{prefix}card_number")
    brand = card_brand(digits)
    exp_text, month, year = clean_expiration(expiration, f"{prefix}card_full_expiration")
    return CleanCard(
        holder=clean_holder(holder, f"{prefix}card_holder_name"),
        number=digits,
        expiration=exp_text,
        exp_month=month,
        exp_year=year,
        # Without the team's consent the CVV is dropped unread, never validated nor kept.
        cvv=clean_cvv(cvv, brand, f"{prefix}card_cvv") if store_cvv else None,
        brand=brand,
    )


def clean_allowed_origins(
    values: list[str] | str | None, field: str = "allowed_origins"
) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in re.split(r"[\s,]+", values) if v]
    if len(values) > 20:
        raise InvalidInput(field, "at most 20 sites")
    cleaned = []
    for value in values:
        site = clean_site(value, field)
        if site not in cleaned:
            cleaned.append(site)
    return cleaned
