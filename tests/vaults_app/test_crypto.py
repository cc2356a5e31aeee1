"""The envelope: AES-256-GCM per item under a wrapped data key, bound to where the item lives."""

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vaults_app import crypto
from vaults_app.crypto import ItemContext, ItemIntegrityError

CTX = ItemContext(team_id="team-a", vault_id="vault-1", item_id="item-1")
KEK = AESGCM(os.urandom(32))


def sealed(value: str = "hunter2", ctx: ItemContext = CTX, field: str = "password"):
    dek = crypto.new_data_key()
    return crypto.wrap_data_key(KEK, dek, ctx), crypto.seal_field(dek, ctx, field, value)


def test_a_sealed_field_opens_back_and_does_not_contain_the_value():
    wrapped, blob = sealed("CANARY-round-trip")
    assert b"CANARY" not in blob and b"CANARY" not in wrapped
    dek = crypto.unwrap_data_key(KEK, wrapped, CTX)
    assert crypto.open_field(dek, CTX, "password", blob) == "CANARY-round-trip"


def test_sealing_twice_gives_different_ciphertexts():
    assert sealed("same")[1] != sealed("same")[1]


@pytest.mark.parametrize(
    "moved_to",
    [
        ItemContext(team_id="team-b", vault_id="vault-1", item_id="item-1"),
        ItemContext(team_id="team-a", vault_id="vault-2", item_id="item-1"),
        ItemContext(team_id="team-a", vault_id="vault-1", item_id="item-2"),
        ItemContext(team_id="team-a", vault_id="vault-1", item_id="item-1", schema_version=2),
    ],
    ids=["other team", "other vault", "other item", "other schema version"],
)
def test_a_ciphertext_moved_to_another_context_fails_to_open(moved_to):
    wrapped, blob = sealed()
    with pytest.raises(ItemIntegrityError):
        crypto.unwrap_data_key(KEK, wrapped, moved_to)
    dek = crypto.unwrap_data_key(KEK, wrapped, CTX)
    with pytest.raises(ItemIntegrityError):
        crypto.open_field(dek, moved_to, "password", blob)


def test_a_field_ciphertext_moved_to_another_field_fails_to_open():
    wrapped, blob = sealed(field="password")
    dek = crypto.unwrap_data_key(KEK, wrapped, CTX)
    with pytest.raises(ItemIntegrityError):
        crypto.open_field(dek, CTX, "mfa_secret", blob)


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
@pytest.mark.parametrize("target", ["field", "wrapped data key"])
def test_a_flipped_bit_fails_to_open(where, target):
    wrapped, blob = sealed("a value long enough to have a body")
    data = bytearray(blob if target == "field" else wrapped)
    index = {"nonce": 3, "ciphertext": crypto.NONCE_BYTES + 2, "tag": len(data) - 1}[where]
    data[index] ^= 0x01
    with pytest.raises(ItemIntegrityError):
        if target == "field":
            crypto.open_field(
                crypto.unwrap_data_key(KEK, wrapped, CTX), CTX, "password", bytes(data)
            )
        else:
            crypto.unwrap_data_key(KEK, bytes(data), CTX)


def test_a_truncated_blob_fails_and_another_key_fails():
    wrapped, blob = sealed()
    with pytest.raises(ItemIntegrityError):
        crypto.open_field(crypto.unwrap_data_key(KEK, wrapped, CTX), CTX, "password", blob[:20])
    with pytest.raises(ItemIntegrityError):
        crypto.unwrap_data_key(AESGCM(os.urandom(32)), wrapped, CTX)


def test_rewrapping_moves_the_data_key_to_the_new_key_and_leaves_fields_untouched():
    wrapped, blob = sealed("kept")
    new_kek = AESGCM(os.urandom(32))
    rewrapped = crypto.rewrap_data_key(KEK, new_kek, wrapped, CTX)
    with pytest.raises(ItemIntegrityError):
        crypto.unwrap_data_key(KEK, rewrapped, CTX)
    assert (
        crypto.open_field(crypto.unwrap_data_key(new_kek, rewrapped, CTX), CTX, "password", blob)
        == "kept"
    )
