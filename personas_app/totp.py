"""TOTP codes (RFC 6238) from a base32 secret or an otpauth:// URI, as authenticator apps show them.

The secret itself belongs in a vault; this module only turns it into the current code.
"""

import base64
import binascii
from datetime import datetime

import pyotp

from core.errors import InvalidInput


def totp_for(secret: str) -> pyotp.TOTP:
    """A TOTP generator. `secret` is base32 (spaces, dashes and case ignored, padding optional)
    or an otpauth://totp/ URI, which may also set digits, period and algorithm."""
    value = (secret or "").strip()
    if value.lower().startswith("otpauth://"):
        try:
            otp = pyotp.parse_uri(value)
        except (ValueError, binascii.Error) as exc:
            raise InvalidInput("mfa_secret", f"not a valid otpauth URI: {exc}") from None
        if not isinstance(otp, pyotp.TOTP):
            raise InvalidInput(
                "mfa_secret", "only time-based (otpauth://totp/) secrets are supported"
            )
        _check_base32(otp.secret)
        return otp
    normalized = "".join(value.split()).replace("-", "").upper().rstrip("=")
    _check_base32(normalized)
    return pyotp.TOTP(normalized)


def totp_code(*, secret: str, at: datetime | None = None) -> str:
    """The code valid at `at` (default: now)."""
    otp = totp_for(secret)
    return otp.at(at) if at is not None else otp.now()


def totp_seconds_left(*, secret: str, at: datetime) -> int:
    """Seconds until the code valid at `at` changes."""
    interval = totp_for(secret).interval
    return interval - int(at.timestamp()) % interval


def _check_base32(secret: str) -> None:
    if len(secret.rstrip("=")) < 16:
        raise InvalidInput("mfa_secret", "a TOTP secret is at least 16 base32 characters (80 bits)")
    try:
        base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "mfa_secret", "not a base32 secret (letters A-Z and digits 2-7)"
        ) from None
