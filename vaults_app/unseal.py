"""Sealed or unsealed: is the keyring file there, readable, and the right one for this database?

Checked on every vault operation (a stat of the file, and one small query of key-check
values), so dropping the right keyring file in place unseals the vaults without a restart, and
a rotated keyring written by `manage.py rotate_vault_keys` is picked up by every process.
"""

import hmac
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from core.errors import Unavailable

from . import keyring as keyring_file
from .keyring import AUDIT_KID, Keyring, KeyringError
from .models import KeyPurpose, VaultKey

log = logging.getLogger(__name__)

HELP_TAIL = "Then retry: no restart is needed (see docs/vaults.md, 'Sealed vaults')."
# A key wraps at most this many data keys before health and the console ask for a rotation
# (AES-GCM with random nonces: stay well below 2**32 encryptions per key).
WRAP_WARNING_THRESHOLD = 2**30


class VaultSealed(Unavailable):
    """503: the vault keyring is missing, unreadable, malformed or wrong."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class SealStatus:
    sealed: bool
    reason: str = ""
    message: str = ""
    detail: str = ""  # the message without its "Vaults are sealed:" opening
    keyring: Keyring | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return "sealed" if self.sealed else "unsealed"


def keyring_path() -> Path:
    return Path(settings.PERISCOPE_VAULT_KEYRING_FILE)


_lock = threading.Lock()
_cache: dict = {}


def _load_file(path: Path) -> Keyring:
    """The parsed keyring, re-read only when the file changes (raises KeyringError)."""
    fingerprint = keyring_file.fingerprint(path)
    with _lock:
        if _cache.get("key") == (str(path), fingerprint):
            result = _cache["result"]
        else:
            try:
                result = keyring_file.read(path)
            except KeyringError as exc:
                result = exc
                log.warning("vault keyring %s: %s; vaults are sealed", path, exc.message)
            _cache.update(key=(str(path), fingerprint), result=result)
    if isinstance(result, KeyringError):
        raise result
    return result


def _sealed(reason: str, message: str) -> SealStatus:
    detail = f"{message[0].upper()}{message[1:]} {HELP_TAIL}"
    return SealStatus(
        sealed=True,
        reason=reason,
        message=f"Vaults are sealed: {detail[0].lower()}{detail[1:]}",
        detail=detail,
    )


def _file_problem(exc: KeyringError, known: dict[str, VaultKey]) -> SealStatus:
    if exc.reason == "missing" and not known:
        return _sealed(
            "missing",
            "this server has no vault keyring yet. An operator creates one with "
            "`manage.py vault_keyring create` (`make run` does it on first run).",
        )
    if exc.reason == "missing":
        return _sealed(
            "missing",
            "the vault keyring file is missing. An operator must put it back at the path the "
            "PERISCOPE_VAULT_KEYRING_FILE setting names (from a backup): a new keyring cannot open "
            "the secrets already stored.",
        )
    if exc.reason == "unreadable":
        return _sealed(
            "unreadable",
            f"{exc.message}. An operator must make it readable by the server's user (mode 0600, "
            "owned by that user).",
        )
    return _sealed(
        "malformed", f"{exc.message}. An operator must restore the keyring file from a backup."
    )


def _register(keyring: Keyring, kids: list[str]) -> list[str]:
    """Record the key-check values of new keys; returns the kids another process registered
    differently in the meantime (a conflicting keyring)."""
    checks = keyring.check_values()
    conflicts = []
    for kid in kids:
        purpose = KeyPurpose.AUDIT if kid == AUDIT_KID else KeyPurpose.KEK
        try:
            with transaction.atomic():
                VaultKey.objects.create(kid=kid, purpose=purpose, check_value=checks[kid])
        except IntegrityError:
            stored = VaultKey.objects.filter(kid=kid).values_list("check_value", flat=True).first()
            if stored is None or not hmac.compare_digest(stored, checks[kid]):
                conflicts.append(kid)
    return conflicts


def vault_seal_status() -> SealStatus:
    known = {key.kid: key for key in VaultKey.objects.all()}
    try:
        keyring = _load_file(keyring_path())
    except KeyringError as exc:
        return _file_problem(exc, known)

    checks = keyring.check_values()
    wrong = sorted(
        kid
        for kid, value in checks.items()
        if kid in known and not hmac.compare_digest(known[kid].check_value, value)
    )
    if wrong:
        return _sealed(
            "wrong_key",
            f"the keyring file's key(s) {', '.join(wrong)} are not the keys this database's secrets "
            "were stored with (their key-check values differ). An operator must restore the right "
            "keyring file.",
        )
    missing = sorted(
        kid
        for kid, key in known.items()
        if key.purpose == KeyPurpose.KEK and key.retired_at is None and kid not in keyring.keys
    )
    if missing:
        return _sealed(
            "missing_key",
            f"the keyring file lacks key(s) {', '.join(missing)}, which still protect stored secrets. "
            "An operator must put them back: a key may leave the keyring only once "
            "`manage.py rotate_vault_keys` has moved every item off it and retired it.",
        )
    active = known.get(keyring.active)
    if active is not None and active.retired_at is not None:
        return _sealed(
            "stale",
            f"the keyring file's active key {keyring.active} has been retired, so the file is out of "
            "date. An operator must install the current keyring file.",
        )
    new = [kid for kid in checks if kid not in known]
    if new:
        conflicts = _register(keyring, new)
        if conflicts:
            return _sealed(
                "wrong_key",
                f"key(s) {', '.join(conflicts)} were registered with other values by another process. "
                "Every server process must use the same keyring file.",
            )
    status = SealStatus(sealed=False, keyring=keyring)
    wraps = active.wrap_count if active is not None else 0
    if wraps >= WRAP_WARNING_THRESHOLD:
        status.warnings.append(
            f"the active key {keyring.active} has wrapped {wraps:,} data keys: run "
            "`manage.py rotate_vault_keys` soon"
        )
    return status


def vault_keyring() -> Keyring:
    """The unsealed keyring, or VaultSealed (503) saying how to unseal."""
    status = vault_seal_status()
    if status.sealed:
        raise VaultSealed(status.reason, status.message)
    assert status.keyring is not None
    return status.keyring


def vault_state() -> str:
    """'sealed' or 'unsealed', for the health endpoint (no detail: it needs no key)."""
    return vault_seal_status().state
