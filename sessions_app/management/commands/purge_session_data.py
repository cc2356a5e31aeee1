from django.conf import settings
from django.core.management.base import BaseCommand

from sessions_app.retention import PurgeTotals, session_data_purge, sessions_to_purge
from sessions_app.selectors import session_retention_cutoff


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return ""


class Command(BaseCommand):
    help = (
        "Delete the steps, screenshots and replays of sessions that ended more than "
        "PERISCOPE_SESSION_RETENTION_DAYS ago (sessions, their timelines and the team audit log "
        "stay). Safe to stop and run again; schedule it daily (see docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be deleted and delete nothing"
        )
        parser.add_argument(
            "--batch-size", type=int, default=100, help="sessions read and purged per batch (100)"
        )

    def handle(self, *args, dry_run: bool, batch_size: int, verbosity: int, **options):
        days = settings.PERISCOPE_SESSION_RETENTION_DAYS
        if not days:
            self.stdout.write(
                "PERISCOPE_SESSION_RETENTION_DAYS is 0: session data is kept forever."
            )
            return
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1")
            raise SystemExit(2)
        cutoff = session_retention_cutoff()
        totals = PurgeTotals()
        for batch in sessions_to_purge(batch_size=batch_size):
            for data in batch:
                if dry_run or verbosity > 1:
                    session = data.session
                    self.stdout.write(
                        f"{'Would delete' if dry_run else 'Deleting'} from session {session.id} "
                        f"(team {session.team.name}, ended {session.closed_at:%Y-%m-%d %H:%M} UTC "
                        f"as {session.status}): {data.steps} step(s), {len(data.files)} file(s) "
                        f"({_size(data.bytes)})"
                    )
                if not dry_run:
                    session_data_purge(data=data)
                totals.add(data)
            if not dry_run and verbosity > 0:
                self.stdout.write(f"... {totals.sessions} session(s) purged so far")
        what = (
            f"{totals.steps} step(s) and {totals.files} file(s) ({_size(totals.bytes)}) of "
            f"{totals.sessions} session(s) that ended before {cutoff:%Y-%m-%d %H:%M} UTC "
            f"({days} days ago)"
        )
        if dry_run:
            self.stdout.write(f"Dry run: would delete {what}. Nothing was deleted.")
        else:
            self.stdout.write(
                f"Deleted {what}. The sessions, their timelines and the team audit log are kept."
            )
