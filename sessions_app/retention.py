"""Retention of what sessions recorded: PERISCOPE_SESSION_RETENTION_DAYS after a session ended,
its step rows, their screenshots and its replay files are deleted. The session row stays (the
sessions list, usage and the CDP and vault audit trails refer to it), with its timeline of status
changes, and so does the team's audit log. A live session is never touched.

Each session is purged on its own: files first, then the rows in one transaction. A run that
stops half-way leaves every session either untouched or with rows that the next run finds again
(and files already gone, which is fine), so running it again is always safe.
"""

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from .models import BrowserSession, ReplayStatus, Step
from .replays import STALE_BUILD, replay_paths
from .selectors import (
    ENDED_STATUSES,
    session_retention_cutoff,
    sessions_due_for_purge,
    step_count,
    step_screenshot_names,
)

log = logging.getLogger(__name__)

SESSION_DIRS = ("steps", "replays")  # media folders named after the session's id


@dataclass
class SessionData:
    """What a session still holds."""

    session: BrowserSession
    steps: int
    files: list[str] = field(default_factory=list)
    bytes: int = 0


@dataclass
class PurgeTotals:
    sessions: int = 0
    steps: int = 0
    files: int = 0
    bytes: int = 0

    def add(self, data: SessionData) -> None:
        self.sessions += 1
        self.steps += data.steps
        self.files += len(data.files)
        self.bytes += data.bytes


def session_data(*, session: BrowserSession) -> SessionData:
    """The step rows and media files of a session (the files of its rows, anything else in its
    folders, its replay), with their size."""
    names = step_screenshot_names(session=session)
    names.update(replay_paths(session).values())
    for folder in SESSION_DIRS:
        names.update(_files_under(f"{folder}/{session.id}"))
    present = sorted(name for name in names if default_storage.exists(name))
    size = 0
    for name in present:
        with contextlib.suppress(OSError):
            size += default_storage.size(name)
    return SessionData(
        session=session,
        steps=step_count(session_id=str(session.id)),
        files=present,
        bytes=size,
    )


def _files_under(folder: str) -> list[str]:
    try:
        _, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return []
    return [f"{folder}/{name}" for name in files]


def session_data_purge(*, data: SessionData) -> None:
    """Delete the files, then the step rows, and forget the replay. Refuses a session that is
    not over (nothing of a live session is ever deleted)."""
    session = data.session
    if session.status not in ENDED_STATUSES:
        raise ValueError(f"session {session.id} is {session.status}: its data is not purged")
    for name in data.files:
        default_storage.delete(name)
    for folder in SESSION_DIRS:
        _remove_empty_folder(f"{folder}/{session.id}")
    with transaction.atomic():
        row = BrowserSession.objects.select_for_update().get(pk=session.pk)
        if row.status not in ENDED_STATUSES:  # cannot happen (an ended session stays ended)
            raise ValueError(f"session {session.id} is {row.status}: its data is not purged")
        Step.objects.filter(session=row).delete()
        row.replay_status = ReplayStatus.NONE
        row.replay_frames = 0
        row.replay_claimed_at = None
        row.save(update_fields=["replay_status", "replay_frames", "replay_claimed_at"])


def _remove_empty_folder(folder: str) -> None:
    """Local storage keeps empty folders; other storages have none."""
    try:
        path = default_storage.path(folder)
    except NotImplementedError:
        return
    with contextlib.suppress(OSError):
        os.rmdir(path)


def sessions_to_purge(*, batch_size: int = 100, now=None) -> Iterator[list[SessionData]]:
    """Batches of the sessions whose data is due, oldest first; nothing when retention is off."""
    cutoff = session_retention_cutoff(now=now)
    if cutoff is None:
        return
    after = None
    while True:
        batch = sessions_due_for_purge(
            cutoff=cutoff,
            building_since=timezone.now() - STALE_BUILD,
            after=after,
            limit=batch_size,
        )
        if not batch:
            return
        after = (batch[-1].closed_at, batch[-1].pk)
        yield [session_data(session=session) for session in batch]
