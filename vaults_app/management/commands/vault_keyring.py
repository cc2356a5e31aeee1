from django.core.management.base import BaseCommand, CommandError

from vaults_app import keyring as keyring_file
from vaults_app.models import KeyPurpose, VaultKey
from vaults_app.rotation import items_per_key
from vaults_app.unseal import keyring_path, vault_seal_status


class Command(BaseCommand):
    help = (
        "Vault keyring: `create` makes the keyring file (mode 0600) on a new install; `status` says whether "
        "the vaults are sealed, and lists the keys with the items each protects and its wrap count."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "status"])
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="create: do nothing when the file exists (what `make run` uses)",
        )

    def handle(self, *args, action, if_missing=False, **options):
        if action == "status":
            self._status()
            return
        if self._create(if_missing) or vault_seal_status().sealed:
            self._status()

    def _create(self, if_missing: bool) -> bool:
        path = keyring_path()
        if path.exists():
            if if_missing:
                return False
            raise CommandError(f"{path} exists already: a keyring is never overwritten")
        if VaultKey.objects.filter(purpose=KeyPurpose.KEK).exists():
            # A new keyring could not open what the old one protects: say so, write nothing.
            self.stderr.write(
                self.style.WARNING(
                    f"No keyring at {path}, but this database holds vault data protected by keys "
                    f"{', '.join(VaultKey.objects.values_list('kid', flat=True))}. Put the original keyring file "
                    "back there (from a backup); a new one would not open that data, so none is created."
                )
            )
            return False
        keyring_file.write(path, keyring_file.generate())
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the vault keyring {path} (mode 0600). Back it up: "
                "without it, stored vault secrets cannot be read."
            )
        )
        return True

    def _status(self) -> None:
        status = vault_seal_status()
        if status.sealed:
            self.stdout.write(self.style.WARNING(status.message))
            return
        keyring = status.keyring
        counts = items_per_key()
        self.stdout.write(f"Vaults are unsealed ({keyring_path()}).")
        for key in VaultKey.objects.filter(purpose=KeyPurpose.KEK):
            state = (
                "active"
                if key.kid == keyring.active
                else ("retired" if key.retired_at else "decrypt-only")
            )
            self.stdout.write(
                f"  {key.kid:<20} {state:<13} {counts.get(key.kid, 0):>8} item(s) "
                f"{key.wrap_count:>10} wrap(s){'' if key.kid in keyring.keys else '  (not in file)'}"
            )
        for warning in status.warnings:
            self.stdout.write(self.style.WARNING(warning))
