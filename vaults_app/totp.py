"""TOTP codes (RFC 6238, pyotp), computed server-side so the secret never leaves the vault."""

import pyotp


class _Totp(pyotp.TOTP):
    # pyotp asks for 112-bit secrets; many sites still hand out 80-bit ones (16 base32
    # characters), and refusing them would leave those logins without their second factor.
    min_secret_length_bits = 80


MIN_SECRET_CHARS = 16  # 80 bits


def totp_now(secret: str, for_time=None) -> str:
    """The current code (or the one at `for_time`, a datetime or a Unix time)."""
    totp = _Totp(secret)
    return totp.now() if for_time is None else totp.at(for_time)


def totp_check(secret: str) -> None:
    """Raises ValueError when the secret is not usable base32 of at least 80 bits."""
    _Totp(secret).now()
