"""Replays: an animated WEBP (and an MP4 when ffmpeg is installed) built from step screenshots.

A replay is built once, in a background thread, the first time someone asks for it; until it is
ready the API answers 404 "being built", which notte-sdk's replay(wait=True) retries. Memory
stays bounded whatever the session did: frames are scaled to a pixel budget shared by all of
them, and ffmpeg receives them one at a time through a pipe.
"""

import asyncio
import io
import logging
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.errors import NotFound

from .models import BrowserSession, ReplayStatus, Step
from .selectors import session_by_id, session_retention_cutoff, steps_with_screenshots

log = logging.getLogger(__name__)

FRAME_MS = 1000
URL_LIFETIME = timedelta(hours=1)
SALT = "periscope.replay"
MAX_FRAME_SIDE = 1280
# Decoded frames held at once while the WEBP is encoded (bytes of RGB): long sessions get
# smaller frames rather than more memory.
WEBP_PIXEL_BUDGET = 48 * 1024 * 1024 // 3
MAX_FRAMES = 600
STALE_BUILD = timedelta(minutes=5)  # a build claimed longer ago than this died with its process
# How long a request waits for a build it started: short sessions get their replay at once,
# long ones answer "being built" and the client asks again.
REQUEST_WAIT_SECONDS = 8.0


@dataclass(frozen=True, slots=True)
class ReplayFiles:
    webp: str | None
    mp4: str | None
    frames: int

    @property
    def duration_ms(self) -> int:
        return self.frames * FRAME_MS


def replay_paths(session: BrowserSession) -> dict[str, str]:
    return {"webp": f"replays/{session.id}/replay.webp", "mp4": f"replays/{session.id}/replay.mp4"}


def replay_files(*, session: BrowserSession) -> ReplayFiles | None:
    """The built files, or None while there is nothing (yet) to hand out."""
    if session.replay_status != ReplayStatus.READY:
        return None
    paths = replay_paths(session)
    present = {kind: path for kind, path in paths.items() if default_storage.exists(path)}
    return ReplayFiles(
        webp=present.get("webp"), mp4=present.get("mp4"), frames=session.replay_frames
    )


async def replay_ready(*, session: BrowserSession) -> ReplayFiles:
    """The replay's files, building them first if needed (bounded wait). Raises NotFound while
    the session runs, when it has no step to show, or while the build is still going."""
    if session.is_live:
        raise NotFound(
            f"Session {session.id} is still active: stop it first, then ask for its replay"
        )
    files = await sync_to_async(replay_files)(session=session)
    if files is not None:
        return files
    if not await sync_to_async(replay_request_build)(session=session):
        cutoff = session_retention_cutoff()
        if cutoff is not None and session.closed_at is not None and session.closed_at < cutoff:
            raise NotFound(
                f"Session {session.id} ended more than {settings.PERISCOPE_SESSION_RETENTION_DAYS} days ago: "
                "this server has deleted its steps and screenshots, so there is nothing to replay"
            )
        raise NotFound(f"Session {session.id} recorded no steps, so there is nothing to replay")
    deadline = asyncio.get_running_loop().time() + REQUEST_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        await session.arefresh_from_db(fields=["replay_status", "replay_frames"])
        if session.replay_status in (ReplayStatus.READY, ReplayStatus.FAILED):
            break
    files = await sync_to_async(replay_files)(session=session)
    if files is None:
        if session.replay_status == ReplayStatus.FAILED:
            raise NotFound(
                f"The replay of session {session.id} could not be built; the server log says why"
            )
        raise NotFound(
            f"The replay of session {session.id} is being built; ask again in a few seconds"
        )
    return files


@dataclass(frozen=True, slots=True)
class ReplayLinks:
    webp_url: str | None
    mp4_url: str | None
    expires_at: datetime


def replay_links(*, session: BrowserSession, files: ReplayFiles, base: str = "") -> ReplayLinks:
    """Signed links to the replay's files (None for a file that was not built), valid for
    URL_LIFETIME without an API key: under `base` (the API hands out absolute URLs), or bare
    paths (the console's own pages)."""

    def link(kind: str, path: str | None) -> str | None:
        return (
            f"{base}{reverse('replay_file', args=[replay_token(session, kind)])}" if path else None
        )

    return ReplayLinks(
        webp_url=link("webp", files.webp),
        mp4_url=link("mp4", files.mp4),
        expires_at=timezone.now() + URL_LIFETIME,
    )


@dataclass(frozen=True, slots=True)
class ConsoleReplay:
    """What the session page shows where the live view was: the replay, or why there is none yet."""

    status: str  # "live", "ready", "building", "failed" or "none" (no step has a screenshot)
    webp_url: str | None = None
    mp4_url: str | None = None
    frames: int = 0


def replay_for_console(*, session: BrowserSession) -> ConsoleReplay:
    """The replay for the session page, starting its build the first time an ended session's page
    asks (as the API does). A build that failed is not retried from the page."""
    if session.is_live:
        return ConsoleReplay("live")
    files = replay_files(session=session)
    if files is not None:
        links = replay_links(session=session, files=files)
        return ConsoleReplay(
            "ready", webp_url=links.webp_url, mp4_url=links.mp4_url, frames=files.frames
        )
    if session.replay_status == ReplayStatus.FAILED:
        return ConsoleReplay("failed")
    return (
        ConsoleReplay("building")
        if replay_request_build(session=session)
        else ConsoleReplay("none")
    )


def replay_request_build(*, session: BrowserSession) -> bool:
    """Start building in the background unless a build runs already. False when there is
    nothing to build (no step has a screenshot)."""
    if not steps_with_screenshots(session=session):
        return False
    if _claim(session):
        threading.Thread(
            target=_build_in_thread, args=(session.pk,), name=f"replay-{session.pk}", daemon=True
        ).start()
    return True


@transaction.atomic
def _claim(session: BrowserSession) -> bool:
    row = BrowserSession.objects.select_for_update().get(pk=session.pk)
    building_for = timezone.now() - row.replay_claimed_at if row.replay_claimed_at else None
    if row.replay_status == ReplayStatus.READY:
        return False
    if (
        row.replay_status == ReplayStatus.BUILDING
        and building_for is not None
        and building_for < STALE_BUILD
    ):
        return False
    row.replay_status = ReplayStatus.BUILDING
    row.replay_claimed_at = timezone.now()
    row.save(update_fields=["replay_status", "replay_claimed_at"])
    return True


def _build_in_thread(session_id) -> None:
    try:
        session = session_by_id(session_id=session_id)
        if session is None:
            return  # deleted meanwhile
        frames = replay_build(session=session)
        BrowserSession.objects.filter(pk=session_id).update(
            replay_status=ReplayStatus.READY, replay_frames=frames
        )
    except Exception:
        log.exception("could not build the replay of %s", session_id)
        BrowserSession.objects.filter(pk=session_id).update(replay_status=ReplayStatus.FAILED)
    finally:
        close_old_connections()


def replay_build(*, session: BrowserSession) -> int:
    """Write the replay files; returns the number of frames."""
    steps = steps_with_screenshots(session=session)[-MAX_FRAMES:]
    if not steps:
        return 0
    paths = replay_paths(session)
    size = _frame_size(steps[0], len(steps))
    frames = [_frame(step, size) for step in steps]
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="WEBP",
        save_all=True,
        append_images=frames[1:],
        duration=FRAME_MS,
        loop=0,
        quality=70,
    )
    del frames
    _replace(paths["webp"], buffer.getvalue())
    if shutil.which("ffmpeg"):
        _mp4(steps, size, paths["mp4"])
    return len(steps)


def _frame_size(first: Step, count: int) -> tuple[int, int]:
    with first.screenshot.open("rb") as handle, Image.open(handle) as image:
        width, height = image.size
    scale = min(
        1.0,
        MAX_FRAME_SIDE / max(width, height),
        (WEBP_PIXEL_BUDGET / count / (width * height)) ** 0.5,
    )
    # Even sides: H.264 needs them.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _frame(step: Step, size: tuple[int, int]) -> Image.Image:
    with step.screenshot.open("rb") as handle, Image.open(handle) as image:
        image.draft("RGB", size)  # JPEG decodes straight at a smaller scale when it can
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def _mp4(steps: list[Step], size: tuple[int, int], path: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "replay.mp4"
        command = [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "image2pipe",
            "-framerate",
            str(1000 / FRAME_MS),
            "-i",
            "-",
            "-pix_fmt",
            "yuv420p",
            "-r",
            "25",
            str(target),
        ]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stdin
        try:
            for step in steps:
                frame = io.BytesIO()
                _frame(step, size).save(frame, format="PNG", compress_level=1)
                process.stdin.write(frame.getvalue())
            process.stdin.close()
            process.wait(timeout=300)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        if process.returncode == 0 and target.exists():
            _replace(path, target.read_bytes())


def _replace(path: str, content: bytes) -> None:
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(content))


def replay_token(session: BrowserSession, kind: str) -> str:
    return signing.dumps({"s": str(session.id), "k": kind}, salt=SALT)


def replay_file_for_token(token: str) -> tuple[str, str] | None:
    """(storage path, kind) for a valid, unexpired token, else None."""
    try:
        data = signing.loads(token, salt=SALT, max_age=URL_LIFETIME)
    except signing.BadSignature:
        return None
    session = session_by_id(session_id=data.get("s"))
    if session is None or data.get("k") not in ("webp", "mp4"):
        return None
    path = replay_paths(session)[data["k"]]
    return (path, data["k"]) if default_storage.exists(path) else None
