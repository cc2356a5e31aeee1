"""Envelope encryption of vault items: pure functions, no Django.

Each item (a login or a card) has its own random 256-bit data key (DEK). Every secret field of
the item is sealed with AES-256-GCM under that DEK, and the DEK itself is sealed ("wrapped") with
AES-256-GCM under a key-encryption key (KEK) from the keyring. Both layers bind the item's
context (team, vault, item, field, schema version) as associated data, so a ciphertext copied
into another row, another field or another team's item fails to open instead of yielding the
original value.

Sealed blobs are `nonce (12 bytes) || ciphertext || tag (16 bytes)`.
"""

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEMA_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
DEK_FIELD = "#dek"  # the associated-data "field" of the wrapped data key itself


class ItemIntegrityError(Exception):
    """A blob failed authentication: tampered with, truncated, or moved from another row."""


@dataclass(frozen=True, slots=True)
class ItemContext:
    """Where an item lives; bound into every ciphertext of it."""

    team_id: str
    vault_id: str
    item_id: str
    schema_version: int = SCHEMA_VERSION

    def aad(self, field: str) -> bytes:
        return (
            f"periscope-vault|v{self.schema_version}|{self.team_id}|{self.vault_id}|{self.item_id}|{field}"
        ).encode()


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _seal(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, aad)


def _open(aead: AESGCM, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise ItemIntegrityError("ciphertext is truncated")
    try:
        return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        raise ItemIntegrityError("ciphertext failed authentication") from None


def wrap_data_key(kek: AESGCM, dek: bytes, ctx: ItemContext) -> bytes:
    return _seal(kek, dek, ctx.aad(DEK_FIELD))


def unwrap_data_key(kek: AESGCM, wrapped: bytes, ctx: ItemContext) -> bytes:
    dek = _open(kek, bytes(wrapped), ctx.aad(DEK_FIELD))
    if len(dek) != KEY_BYTES:
        raise ItemIntegrityError("data key has the wrong length")
    return dek


def seal_field(dek: bytes, ctx: ItemContext, field: str, value: str) -> bytes:
    return _seal(AESGCM(dek), value.encode(), ctx.aad(field))


def open_field(dek: bytes, ctx: ItemContext, field: str, blob: bytes) -> str:
    return _open(AESGCM(dek), bytes(blob), ctx.aad(field)).decode()


def seal_fields(dek: bytes, ctx: ItemContext, values: dict[str, str]) -> dict[str, bytes]:
    aead = AESGCM(dek)
    return {field: _seal(aead, value.encode(), ctx.aad(field)) for field, value in values.items()}


def open_fields(dek: bytes, ctx: ItemContext, blobs: dict[str, bytes]) -> dict[str, str]:
    aead = AESGCM(dek)
    return {
        field: _open(aead, bytes(blob), ctx.aad(field)).decode() for field, blob in blobs.items()
    }


def rewrap_data_key(old_kek: AESGCM, new_kek: AESGCM, wrapped: bytes, ctx: ItemContext) -> bytes:
    """The same DEK under another KEK: rotation touches no field ciphertext."""
    return wrap_data_key(new_kek, unwrap_data_key(old_kek, wrapped, ctx), ctx)
