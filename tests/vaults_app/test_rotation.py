"""Key rotation while the vaults are in use: a new active key, data keys rewrapped in batches, an
interrupted run resumed, old keys retired only once nothing uses them."""

import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.vaults_app.helpers import bulk_logins, key_actor
from vaults_app import fill, keyring, reveal, services
from vaults_app.fill import FillElement
from vaults_app.items import VaultKeyMissing
from vaults_app.models import VaultCredential, VaultKey
from vaults_app.rotation import items_per_key
from vaults_app.unseal import VaultSealed, vault_keyring

pytestmark = pytest.mark.django_db(transaction=True)
ITEMS = 10_000


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_vault_keys", *args, stdout=out, stderr=out)
    return out.getvalue()


class UseLoop(threading.Thread):
    """Fills and reveals a login every 50 ms until stopped; records every error."""

    def __init__(self, team, vault, actor):
        super().__init__(daemon=True)
        self.team, self.vault, self.actor = team, vault, actor
        self.stop = threading.Event()
        self.done = 0
        self.errors: list[str] = []

    def run(self):
        try:
            while not self.stop.is_set():
                try:
                    if self.done % 2:
                        value = reveal.credential_reveal(
                            actor=self.actor,
                            vault_id=self.vault.pk,
                            url="live.example.com",
                            purpose="loop",
                        )["password"]
                    else:
                        value = fill.vault_secret_for_fill(
                            team=self.team,
                            vault_id=self.vault.pk,
                            placeholder="mycoolpassword",
                            page_url="https://live.example.com/",
                            frame_url=None,
                            element=FillElement(type="password"),
                            session_id="loop",
                            step_index=self.done,
                            actor=self.actor,
                        )
                    if value != "pw-live":
                        self.errors.append(f"wrong value {value!r}")
                except Exception as exc:
                    self.errors.append(repr(exc))
                self.done += 1
                time.sleep(0.05)
        finally:
            connection.close()

    def wait_for_progress(self, timeout: float = 30) -> int:
        """Block until the loop completes another use or reveal; returns how many it has done."""
        start, deadline = self.done, time.monotonic() + timeout
        while self.done <= start + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.done > start + 1, "the use loop is stuck"
        return self.done


def test_rotation_interrupted_and_resumed_while_secrets_are_used_and_revealed(
    team, owner, owner_actor, keyring_file
):
    vault = services.vault_create(actor=owner_actor, name="Busy")
    services.credential_put(
        actor=owner_actor,
        vault_id=vault.pk,
        url="live.example.com",
        username="u",
        password="pw-live",
    )
    bulk_logins(vault, ITEMS)
    old = vault_keyring().active
    actor, _ = key_actor(team, ["vaults.use", "vaults.reveal"], created_by=owner)
    loop = UseLoop(team, vault, actor)
    loop.start()
    try:
        loop.wait_for_progress()
        out = rotate("--batch-size", "500", "--max-batches", "5")  # interrupted after 2,500 items
        during_first_run = loop.done
        new = vault_keyring().active
        assert (
            new != old
            and f"New active key {new}" in out
            and "run `manage.py rotate_vault_keys` again" in out
        )
        assert items_per_key() == {new: 2500, old: ITEMS + 1 - 2500}
        assert set(keyring.read(keyring_file).keys) == {old, new}  # the old key stays, decrypt-only

        with pytest.raises(CommandError, match=f"{old} still protects 7501 item"):
            rotate("--retire", old)
        between_runs = loop.wait_for_progress()  # used and revealed while items sit on both keys

        out = rotate("--batch-size", "250")  # resumes: no third key
        assert "Resuming: 7501 item(s)" in out and f"Retired {old}" in out
        after = loop.wait_for_progress()
    finally:
        loop.stop.set()
        loop.join(30)
    assert loop.errors == []
    assert 0 < during_first_run < between_runs < after
    assert items_per_key() == {new: ITEMS + 1}
    assert set(keyring.read(keyring_file).keys) == {new}
    assert VaultKey.objects.get(kid=old).retired_at is not None
    wraps = dict(VaultKey.objects.values_list("kid", "wrap_count"))
    assert wraps[old] == ITEMS + 1 and wraps[new] == ITEMS + 1
    sample = VaultCredential.objects.get(url="site4242.example.com")
    assert (
        reveal.credential_reveal(
            actor=actor, vault_id=vault.pk, credential_id=sample.pk, purpose="t"
        )["password"]
        == "pw-bulk-4242"
    )


def test_removing_the_old_key_before_the_rotation_ends_fails_loudly(
    team, owner, owner_actor, keyring_file
):
    vault = services.vault_create(actor=owner_actor, name="Half")
    bulk_logins(vault, 60)
    old = vault_keyring().active
    rotate("--batch-size", "20", "--max-batches", "1")
    moved = VaultCredential.objects.exclude(kek_id=old).first()
    stuck = VaultCredential.objects.filter(kek_id=old).first()
    ring = keyring.read(keyring_file)
    keyring.write(keyring_file, ring.without_keys({old}))
    actor, _ = key_actor(team, ["vaults.use", "vaults.reveal"], created_by=owner)
    with pytest.raises(VaultSealed, match=f"lacks key\\(s\\) {old}"):
        reveal.credential_reveal(actor=actor, vault_id=vault.pk, url=stuck.url, purpose="t")
    with pytest.raises(CommandError, match="sealed"):
        rotate()

    # Even if the database is told the key is retired, an item still on it is refused, never
    # opened with another key.
    VaultKey.objects.filter(kid=old).update(retired_at="2026-01-01T00:00:00Z")
    with pytest.raises(VaultKeyMissing, match=f"key {old}, which is not in the keyring"):
        reveal.credential_reveal(actor=actor, vault_id=vault.pk, url=stuck.url, purpose="t")
    index = moved.url.removeprefix("site").split(".")[0]
    assert (
        reveal.credential_reveal(actor=actor, vault_id=vault.pk, url=moved.url, purpose="t")[
            "password"
        ]
        == f"pw-bulk-{index}"
    )  # already rewrapped


def test_a_retired_key_takes_no_new_wraps(owner_actor, keyring_file):
    services.vault_create(actor=owner_actor, name="x")
    stale = vault_keyring()
    rotate()
    VaultKey.objects.filter(kid=stale.active).update(retired_at="2026-01-01T00:00:00Z")
    keyring.write(keyring_file, stale)  # a process still holding the old file
    with pytest.raises(VaultSealed, match="retired"):
        services.vault_create(actor=owner_actor, name="y")


def test_the_active_key_cannot_be_retired(owner_actor):
    services.vault_create(actor=owner_actor, name="x")
    with pytest.raises(CommandError, match="active key"):
        rotate("--retire", vault_keyring().active)


def test_status_lists_keys_items_and_wraps(owner_actor):
    vault = services.vault_create(actor=owner_actor, name="x")
    bulk_logins(vault, 3)
    out = io.StringIO()
    call_command("vault_keyring", "status", stdout=out)
    active = vault_keyring().active
    assert "Vaults are unsealed" in out.getvalue()
    assert [line.split() for line in out.getvalue().splitlines() if active in line] == [
        [active, "active", "3", "item(s)", "3", "wrap(s)"]
    ]
