"""Sealing and opening vault items with the keyring (the envelope of crypto.py, on models)."""

from django.db.models import F

from core.errors import PeriscopeError, Unavailable

from . import crypto
from .crypto import ItemContext, ItemIntegrityError
from .keyring import Keyring
from .models import SealedItem, VaultKey


class VaultKeyMissing(Unavailable):
    """503: the key that wraps this item is not in the keyring (never a wrong value instead)."""


class ItemCorrupt(PeriscopeError):
    """500: a stored ciphertext failed authentication (altered, or copied from another row)."""

    status = 500


def item_context(item: SealedItem, team_id) -> ItemContext:
    return ItemContext(
        team_id=str(team_id),
        vault_id=str(item.vault_id),
        item_id=str(item.pk),
        schema_version=item.schema_version,
    )


def count_wraps(kid: str, n: int = 1) -> None:
    """Count wraps under a key, inside the wrapping transaction. The update also locks the key's
    row, and refuses a retired key, so a key can never be retired while an item is being put
    on it (retirement locks the same row before counting the items left)."""
    if not VaultKey.objects.filter(kid=kid, retired_at__isnull=True).update(
        wrap_count=F("wrap_count") + n
    ):
        raise VaultKeyMissing(
            f"Key {kid} was just retired by a key rotation; retry (the new keyring is picked up at once)."
        )


def _unwrap(keyring: Keyring, item: SealedItem, ctx: ItemContext) -> bytes:
    try:
        kek = keyring.aead(item.kek_id)
    except KeyError:
        raise VaultKeyMissing(
            f"This vault item is protected by key {item.kek_id}, which is not in the keyring. An operator "
            "must put that key back in the keyring file; no value is returned without it."
        ) from None
    try:
        return crypto.unwrap_data_key(kek, item.wrapped_dek, ctx)
    except ItemIntegrityError:
        raise _corrupt() from None


def _corrupt() -> ItemCorrupt:
    return ItemCorrupt(
        "A stored secret failed its integrity check: it was altered or moved in the database, so it is not "
        "returned. Re-enter this item (the audit log records the failure)."
    )


def seal_item(keyring: Keyring, item: SealedItem, team_id, values: dict[str, str | None]) -> None:
    """Encrypt `values` (field name -> plaintext, None to clear) into the item under a fresh data
    key wrapped by the active key. Fields not named are cleared."""
    ctx = item_context(item, team_id)
    dek = crypto.new_data_key()
    item.kek_id = keyring.active
    item.wrapped_dek = crypto.wrap_data_key(keyring.aead(keyring.active), dek, ctx)
    count_wraps(keyring.active)
    for field, attr in item.SEALED_FIELDS.items():
        value = values.get(field)
        setattr(item, attr, None if value is None else crypto.seal_field(dek, ctx, field, value))


def reseal_fields(
    keyring: Keyring, item: SealedItem, team_id, values: dict[str, str | None]
) -> None:
    """Replace some fields of an existing item, keeping the others: reuses the item's data key
    (no stored value is decrypted), and moves the item onto the active key if it is not on it."""
    ctx = item_context(item, team_id)
    dek = _unwrap(keyring, item, ctx)
    if item.kek_id != keyring.active:
        item.wrapped_dek = crypto.wrap_data_key(keyring.aead(keyring.active), dek, ctx)
        item.kek_id = keyring.active
        count_wraps(keyring.active)
    for field, value in values.items():
        attr = item.SEALED_FIELDS[field]
        setattr(item, attr, None if value is None else crypto.seal_field(dek, ctx, field, value))


def open_item(
    keyring: Keyring, item: SealedItem, team_id, fields: tuple[str, ...]
) -> dict[str, str | None]:
    """Decrypt the named fields (None for an empty one). Raises VaultKeyMissing or ItemCorrupt."""
    ctx = item_context(item, team_id)
    dek = _unwrap(keyring, item, ctx)
    out: dict[str, str | None] = {}
    try:
        for field in fields:
            blob = getattr(item, item.SEALED_FIELDS[field])
            out[field] = None if blob is None else crypto.open_field(dek, ctx, field, blob)
    except ItemIntegrityError:
        raise _corrupt() from None
    return out
