from django.core.management.base import BaseCommand, CommandError

from teams_app.models import Team
from vaults_app.audit import audit_verify
from vaults_app.unseal import VaultSealed, vault_keyring


class Command(BaseCommand):
    help = "Check the vault audit chain of every team (or one): exits 1 if a row was edited or deleted."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="team name (default: every team)")

    def handle(self, *args, team=None, **options):
        try:
            keyring = vault_keyring()
        except VaultSealed as exc:
            raise CommandError(f"Cannot verify: {exc.message}") from None
        found = None
        if team:
            found = Team.objects.filter(name=team).first()
            if found is None:
                raise CommandError(f"No team called {team!r}")
        checked, problems = audit_verify(keyring=keyring, team=found)
        if problems:
            for problem in problems:
                self.stderr.write(self.style.ERROR(str(problem)))
            raise CommandError(
                f"The vault audit trail was tampered with: {len(problems)} problem(s) in "
                f"{checked} row(s)"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Vault audit chain intact: {checked} row(s) verified.")
        )
