from django.core.management.base import BaseCommand, CommandError

from core.errors import PeriscopeError
from teams_app.models import Team
from teams_app.services import api_key_create


class Command(BaseCommand):
    help = "Print a new API key (default: the first team, every scope but vaults.reveal)."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="team name (default: the first team)")
        parser.add_argument("--name", default="cli key")
        parser.add_argument("--scopes", nargs="+", help="e.g. sessions agents vaults.use")

    def handle(self, *args, team=None, name="cli key", scopes=None, **options):
        teams = Team.objects.order_by("created_at")
        found = teams.filter(name=team).first() if team else teams.first()
        if found is None:
            raise CommandError(
                f"No team called {team!r}" if team else "No team yet: run `manage.py bootstrap`"
            )
        try:
            _, raw = api_key_create(team=found, name=name, scopes=scopes)
        except PeriscopeError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(raw)
