from django.core.management.base import BaseCommand, CommandError

from vaults_app.rotation import (
    KeyStillInUse,
    items_off_key,
    items_per_key,
    rotation_add_key,
    rotation_retire_key,
    rotation_rewrap_batch,
)
from vaults_app.unseal import VaultSealed, vault_keyring


class Command(BaseCommand):
    help = (
        "Rotate the vault key: add a new active key to the keyring file, rewrap every item's data key under "
        "it in batches (the vaults stay in use), then retire the old keys nothing uses any more. If a "
        "previous run was interrupted, it resumes instead of adding another key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="items per transaction (default 500)"
        )
        parser.add_argument(
            "--max-batches",
            type=int,
            default=0,
            help="stop after this many batches (0: until done); run again to resume",
        )
        parser.add_argument(
            "--retire",
            metavar="KID",
            help="only retire this old key (refused while an item still uses it)",
        )
        parser.add_argument(
            "--keep-retired",
            action="store_true",
            help="leave retired keys in the keyring file (marked retired in the database)",
        )

    def handle(
        self, *args, batch_size=500, max_batches=0, retire=None, keep_retired=False, **options
    ):
        try:
            if retire:
                self._retire(retire, keep_retired)
                return
            self._rotate(batch_size, max_batches, keep_retired)
        except VaultSealed as exc:
            raise CommandError(exc.message) from None

    def _retire(self, kid: str, keep_retired: bool) -> None:
        try:
            rotation_retire_key(kid=kid, remove_from_file=not keep_retired)
        except KeyStillInUse as exc:
            raise CommandError(f"Not retired: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"Retired {kid}."))

    def _rotate(self, batch_size: int, max_batches: int, keep_retired: bool) -> None:
        keyring = vault_keyring()
        pending = items_off_key(keyring.active)
        if pending:
            self.stdout.write(
                f"Resuming: {pending} item(s) are not on the active key {keyring.active} yet."
            )
        else:
            keyring = rotation_add_key()
            pending = items_off_key(keyring.active)
            self.stdout.write(f"New active key {keyring.active}; {pending} item(s) to rewrap.")
        done, batches, skip, failed = 0, 0, set(), []
        while not max_batches or batches < max_batches:
            result = rotation_rewrap_batch(
                keyring=keyring, batch_size=batch_size, skip=frozenset(skip)
            )
            batches += 1
            done += result.rewrapped
            failed += result.failed
            skip |= {pk for _, pk, _ in result.failed}
            if result.rewrapped == 0 and not result.failed:
                break
            self.stdout.write(f"  batch {batches}: {done}/{pending} rewrapped", ending="\r")
        self.stdout.write(f"Rewrapped {done} item(s) in {batches} batch(es).")
        for model, pk, why in failed:
            self.stderr.write(
                self.style.ERROR(f"  {model} {pk}: {why}; re-enter that item, then run again")
            )
        left = items_off_key(keyring.active)
        if left:
            self.stdout.write(
                self.style.WARNING(
                    f"{left} item(s) are still on old keys: run `manage.py rotate_vault_keys` again to finish."
                )
            )
            return
        counts = items_per_key()
        for kid in sorted(k for k in keyring.keys if k != keyring.active):
            try:
                rotation_retire_key(kid=kid, remove_from_file=not keep_retired)
            except KeyStillInUse as exc:  # an item was put on it meanwhile by a stale process
                self.stdout.write(self.style.WARNING(f"Not retired yet: {exc}"))
                continue
            self.stdout.write(
                f"Retired {kid}{'' if keep_retired else ' and removed it from the keyring file'}."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: every item ({counts.get(keyring.active, 0)}) is on {keyring.active}."
            )
        )
