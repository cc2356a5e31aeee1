"""TOTP codes: RFC 6238's own test vectors, and pyotp's codes for the same secret and time."""

import base64
import hashlib
import hmac
import struct
from datetime import UTC, datetime

import pyotp
import pytest

from core.errors import InvalidInput
from personas_app.totp import totp_code, totp_for, totp_seconds_left

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"


@pytest.mark.parametrize(
    ("timestamp", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_sha1_vectors(timestamp, code):
    uri = f"otpauth://totp/RFC:test?secret={RFC_SECRET}&digits=8&period=30"
    assert totp_code(secret=uri, at=datetime.fromtimestamp(timestamp, UTC)) == code


@pytest.mark.parametrize("timestamp", [0, 29, 30, 1_700_000_000, 1_700_000_029, 4_102_444_800])
def test_same_code_as_pyotp_for_the_same_secret_and_time(timestamp):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    at = datetime.fromtimestamp(timestamp, UTC)
    assert totp_code(secret=secret, at=at) == pyotp.TOTP(secret).at(at)


def test_secrets_as_people_paste_them():
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    expected = pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").at(at)
    for pasted in (
        "jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp",
        "JBSW-Y3DP-EHPK-3PXP-JBSW-Y3DP-EHPK-3PXP",
        " JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP ",
    ):
        assert totp_code(secret=pasted, at=at) == expected


def _rfc_4226(secret: bytes, counter: int, digits: int = 6) -> str:
    """HOTP written out from the RFC, independent of pyotp."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def test_80_bit_secrets_that_sites_still_issue_work():
    # pyotp's own default refuses secrets under 112 bits; sites hand out 80-bit ones.
    secret = "JBSWY3DPEHPK3PXP"
    at = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
    assert totp_code(secret=secret, at=at) == _rfc_4226(
        base64.b32decode(secret), int(at.timestamp()) // 30
    )


def test_otpauth_uri_options():
    at = datetime.fromtimestamp(1111111109, UTC)
    uri = f"otpauth://totp/X:y?secret={RFC_SECRET}&algorithm=SHA256&digits=8&period=60&issuer=X"
    assert totp_code(secret=uri, at=at) == pyotp.TOTP(
        RFC_SECRET, digits=8, interval=60, digest=hashlib.sha256
    ).at(at)


def test_current_code_and_time_left():
    secret = pyotp.random_base32()
    assert totp_code(secret=secret) in {
        pyotp.TOTP(secret).now(),
        pyotp.TOTP(secret).at(datetime.now(UTC)),
    }
    assert totp_seconds_left(secret=secret, at=datetime.fromtimestamp(1_700_000_020, UTC)) == 20
    assert totp_for(secret).interval == 30


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ("", "at least 16"),
        ("JBSWY3DP", "at least 16"),
        ("THIS IS NOT BASE32!!", "not a base32 secret"),
        ("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1", "time-based"),
        ("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "unknown algorithm"),
    ],
)
def test_bad_secrets_are_refused_with_a_reason(secret, says):
    with pytest.raises(InvalidInput) as refused:
        totp_code(secret=secret)
    assert says in refused.value.message
    assert refused.value.field == "mfa_secret"
