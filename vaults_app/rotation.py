"""Key rotation without downtime: a new active key, then every data key rewrapped under it in
small batches (each its own transaction, so the vaults stay usable and an interrupted run just
resumes), then each old key retired once no item uses it.

Only the data keys are rewrapped: no secret field is decrypted or re-encrypted.
"""

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from . import crypto
from . import keyring as keyring_file
from .crypto import ItemIntegrityError
from .items import count_wraps, item_context
from .keyring import Keyring
from .models import KeyPurpose, VaultCard, VaultCredential, VaultKey
from .unseal import keyring_path, vault_keyring

ITEM_MODELS = (VaultCredential, VaultCard)


def items_per_key() -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in ITEM_MODELS:
        for kid in model.objects.values_list("kek_id", flat=True):
            counts[kid] = counts.get(kid, 0) + 1
    return counts


def items_off_key(active: str) -> int:
    return sum(model.objects.exclude(kek_id=active).count() for model in ITEM_MODELS)


def rotation_add_key() -> Keyring:
    """Write a keyring with a new active key (the old ones stay, decrypt-only). The file comes
    first: every process registers a key it finds in the file, so a crash here loses nothing."""
    current = vault_keyring()
    rotated = current.with_new_active_key()
    keyring_file.write(keyring_path(), rotated)
    return vault_keyring()


@dataclass
class BatchResult:
    rewrapped: int = 0
    failed: list[tuple[str, object, str]] = field(default_factory=list)  # (model, pk, why)


def rotation_rewrap_batch(
    *, keyring: Keyring, batch_size: int = 500, skip: frozenset = frozenset()
) -> BatchResult:
    """Move up to `batch_size` items onto the active key, in one transaction."""
    result = BatchResult()
    new_kek = keyring.aead(keyring.active)
    with transaction.atomic():
        remaining = batch_size
        for model in ITEM_MODELS:
            if remaining <= 0:
                break
            items = list(
                model.objects.select_for_update()
                .select_related("vault")
                .exclude(kek_id=keyring.active)
                .exclude(pk__in=skip)
                .order_by("pk")[:remaining]
            )
            moved = []
            for item in items:
                ctx = item_context(item, item.vault.team_id)
                try:
                    item.wrapped_dek = crypto.rewrap_data_key(
                        keyring.aead(item.kek_id), new_kek, bytes(item.wrapped_dek), ctx
                    )
                except (ItemIntegrityError, KeyError) as exc:
                    why = (
                        "key not in the keyring"
                        if isinstance(exc, KeyError)
                        else "failed its integrity check"
                    )
                    result.failed.append((model.__name__, item.pk, why))
                    continue
                item.kek_id = keyring.active
                moved.append(item)
            if moved:
                _save_wraps(model, moved)
                count_wraps(keyring.active, len(moved))
            result.rewrapped += len(moved)
            remaining -= len(items)
    return result


def _save_wraps(model, items) -> None:
    """One parameterized UPDATE per row, sent as a batch: several times faster than
    bulk_update's CASE expression on large batches."""
    meta = model._meta
    pk, kek, wrapped = meta.pk, meta.get_field("kek_id"), meta.get_field("wrapped_dek")
    sql = (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {connection.ops.quote_name(kek.column)} = %s, "
        f"{connection.ops.quote_name(wrapped.column)} = %s WHERE {connection.ops.quote_name(pk.column)} = %s"
    )
    rows = [
        (
            item.kek_id,
            wrapped.get_db_prep_value(item.wrapped_dek, connection),
            pk.get_db_prep_value(item.pk, connection),
        )
        for item in items
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class KeyStillInUse(Exception):
    pass


def rotation_retire_key(*, kid: str, remove_from_file: bool = True) -> None:
    """Retire an old key once no item uses it; raises KeyStillInUse otherwise."""
    keyring = vault_keyring()
    if kid == keyring.active:
        raise KeyStillInUse(f"{kid} is the active key; rotate first so another key becomes active")
    with transaction.atomic():
        key = VaultKey.objects.select_for_update().filter(kid=kid, purpose=KeyPurpose.KEK).first()
        if key is None:
            raise KeyStillInUse(f"there is no key {kid}")
        in_use = sum(model.objects.filter(kek_id=kid).count() for model in ITEM_MODELS)
        if in_use:
            raise KeyStillInUse(
                f"{kid} still protects {in_use} item(s); run `manage.py rotate_vault_keys` to move them "
                "onto the active key first"
            )
        if key.retired_at is None:
            key.retired_at = timezone.now()
            key.save(update_fields=["retired_at"])
    if remove_from_file and kid in keyring.keys:
        keyring_file.write(keyring_path(), vault_keyring().without_keys({kid}))
