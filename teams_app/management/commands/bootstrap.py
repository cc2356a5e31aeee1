from django.core.management.base import BaseCommand

from teams_app.services import bootstrap_first_run


class Command(BaseCommand):
    help = "On an empty install, create an admin user, a team and an API key, and print them once."

    def handle(self, *args, **options):
        created = bootstrap_first_run()
        if created is None:
            self.stdout.write(
                "Existing install: log in with your account (manage.py createapikey makes keys)."
            )
            return
        self.stdout.write(self.style.SUCCESS("First run: created an admin, a team and an API key."))
        self.stdout.write(f"Console login: {created['username']} / {created['password']}")
        self.stdout.write(f"API key: {created['api_key']}")
        self.stdout.write("Keep them now: they are not shown again.")
