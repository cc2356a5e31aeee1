from django.conf import settings
from django.core.management.base import BaseCommand

from personas_app.services import messages_purge_expired


class Command(BaseCommand):
    help = "Delete persona mail and SMS older than PERISCOPE_PERSONA_RETENTION_DAYS (the mail server also does this hourly)."

    def handle(self, *args, **options):
        if not settings.PERISCOPE_PERSONA_RETENTION_DAYS:
            self.stdout.write(
                "PERISCOPE_PERSONA_RETENTION_DAYS is 0: persona messages are kept forever."
            )
            return
        emails, sms = messages_purge_expired()
        self.stdout.write(
            f"Deleted {emails} email(s) and {sms} SMS older than "
            f"{settings.PERISCOPE_PERSONA_RETENTION_DAYS} days."
        )
