"""Replays: an animated WEBP (and an MP4 when ffmpeg is installed) built from step screenshots."""

import io
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from .models import BrowserSession, Step

FRAME_MS = 1000
URL_LIFETIME = timedelta(hours=1)
SALT = "periscope.replay"


def replay_paths(session: BrowserSession) -> dict[str, str]:
    return {"webp": f"replays/{session.id}/replay.webp", "mp4": f"replays/{session.id}/replay.mp4"}


def replay_build(*, session: BrowserSession) -> dict[str, str | int] | None:
    """Build the replay files once (they are kept); None when no step has a screenshot."""
    paths = replay_paths(session)
    steps = [s for s in Step.objects.filter(session=session).order_by("index") if s.screenshot]
    if not steps:
        return None
    if not default_storage.exists(paths["webp"]):
        frames = []
        for step in steps:
            with step.screenshot.open("rb") as handle:
                frames.append(Image.open(io.BytesIO(handle.read())).convert("RGB"))
        buffer = io.BytesIO()
        frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:], duration=FRAME_MS, loop=0,
                       quality=70)
        default_storage.save(paths["webp"], ContentFile(buffer.getvalue()))
        if shutil.which("ffmpeg"):
            _mp4(frames, paths["mp4"])
    return {"frames": len(steps), "duration_ms": len(steps) * FRAME_MS}


def _mp4(frames: list[Image.Image], path: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for number, frame in enumerate(frames):
            frame.save(Path(tmp) / f"{number:05d}.png")
        target = Path(tmp) / "replay.mp4"
        result = subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-framerate", str(1000 / FRAME_MS), "-i", f"{tmp}/%05d.png",
             "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-pix_fmt", "yuv420p", "-r", "25", str(target)],
            capture_output=True, timeout=120, check=False,
        )
        if result.returncode == 0 and target.exists():
            default_storage.save(path, ContentFile(target.read_bytes()))


def replay_token(session: BrowserSession, kind: str) -> str:
    return signing.dumps({"s": str(session.id), "k": kind}, salt=SALT)


def replay_file_for_token(token: str) -> tuple[str, str] | None:
    """(storage path, kind) for a valid, unexpired token, else None."""
    try:
        data = signing.loads(token, salt=SALT, max_age=URL_LIFETIME)
    except signing.BadSignature:
        return None
    session = BrowserSession.objects.filter(pk=data["s"]).first()
    if session is None or data["k"] not in ("webp", "mp4"):
        return None
    path = replay_paths(session)[data["k"]]
    return (path, data["k"]) if default_storage.exists(path) else None


