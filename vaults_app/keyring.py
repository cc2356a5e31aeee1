"""The keyring file: key-encryption keys by id, the active id, and the audit chain key.

    {"format": "periscope-vault-keyring", "version": 1, "active": "k20260514-3fa9c1",
     "keys": {"k20260514-3fa9c1": "<base64 of 32 bytes>"}, "audit_key": "<base64 of 32 bytes>"}

It lives in a file (mode 0600) named by the PERISCOPE_VAULT_KEYRING_FILE setting and nowhere
else: not in the database (which holds only key-check values), not in an environment variable,
not in a log. Writes go to a temporary file in the same directory and are renamed into place,
so a reader never sees half a keyring.
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto import KEY_BYTES

FORMAT = "periscope-vault-keyring"
VERSION = 1
AUDIT_KID = "audit"
_CHECK_MESSAGE = b"periscope-vault-keycheck-v1"


class KeyringError(Exception):
    """The keyring file is missing, unreadable or malformed. `reason` is a short code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def check_value(key: bytes) -> str:
    """HMAC(key, constant): tells a right key from a wrong one without revealing either."""
    return hmac.new(key, _CHECK_MESSAGE, hashlib.sha256).hexdigest()


def new_kid() -> str:
    return f"k{datetime.datetime.now(datetime.UTC):%Y%m%d}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Keyring:
    active: str
    keys: dict[str, bytes]
    audit_key: bytes
    _aeads: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)
    _checks: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:  # never the key bytes, even in a traceback
        return f"Keyring(active={self.active!r}, kids={sorted(self.keys)!r})"

    def aead(self, kid: str) -> AESGCM:
        """The AES-GCM cipher of a KEK; KeyError when the keyring does not hold that key."""
        cipher = self._aeads.get(kid)
        if cipher is None:
            cipher = self._aeads[kid] = AESGCM(self.keys[kid])
        return cipher

    def check_values(self) -> dict[str, str]:
        if not self._checks:
            self._checks.update({kid: check_value(key) for kid, key in self.keys.items()})
            self._checks[AUDIT_KID] = check_value(self.audit_key)
        return self._checks

    def with_new_active_key(self) -> "Keyring":
        kid = new_kid()
        while kid in self.keys:
            kid = new_kid()
        return Keyring(
            active=kid, keys={**self.keys, kid: os.urandom(KEY_BYTES)}, audit_key=self.audit_key
        )

    def without_keys(self, kids: set[str]) -> "Keyring":
        if self.active in kids:
            raise ValueError("the active key cannot be removed")
        return Keyring(
            active=self.active,
            keys={k: v for k, v in self.keys.items() if k not in kids},
            audit_key=self.audit_key,
        )


def generate() -> Keyring:
    kid = new_kid()
    return Keyring(active=kid, keys={kid: os.urandom(KEY_BYTES)}, audit_key=os.urandom(KEY_BYTES))


def _decode_key(name: str, value) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise KeyringError("malformed", f"key {name!r} is not base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyringError(
            "malformed", f"key {name!r} is {len(raw)} bytes long; keys are {KEY_BYTES} bytes"
        )
    return raw


def parse(text: str) -> Keyring:
    try:
        data = json.loads(text)
    except ValueError:
        raise KeyringError("malformed", "the keyring file is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KeyringError("malformed", f'the keyring file lacks "format": "{FORMAT}"')
    if data.get("version") != VERSION:
        raise KeyringError("malformed", f"keyring version {data.get('version')!r} is not supported")
    keys = data.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise KeyringError("malformed", "the keyring has no keys")
    decoded = {}
    for kid, value in keys.items():
        if not isinstance(kid, str) or not kid or len(kid) > 40 or kid == AUDIT_KID:
            raise KeyringError("malformed", f"key id {kid!r} is not valid")
        decoded[kid] = _decode_key(kid, value)
    active = data.get("active")
    if active not in decoded:
        raise KeyringError("malformed", f"the active key {active!r} is not in the keyring")
    return Keyring(
        active=active, keys=decoded, audit_key=_decode_key("audit_key", data.get("audit_key"))
    )


def serialize(keyring: Keyring) -> str:
    return (
        json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "active": keyring.active,
                "keys": {kid: base64.b64encode(key).decode() for kid, key in keyring.keys.items()},
                "audit_key": base64.b64encode(keyring.audit_key).decode(),
            },
            indent=2,
        )
        + "\n"
    )


def read(path: Path) -> Keyring:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KeyringError("missing", "there is no keyring file") from None
    except OSError as exc:
        raise KeyringError(
            "unreadable", f"the keyring file cannot be read ({exc.strerror})"
        ) from None
    return parse(text)


def write(path: Path, keyring: Keyring) -> None:
    """Atomically replace (or create) the keyring file, mode 0600, in a 0700 directory if new."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(serialize(keyring))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fingerprint(path: Path) -> tuple | None:
    """Changes whenever the file is replaced or edited; None when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode)
