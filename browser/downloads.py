"""Every download of one session: watched while Chromium writes it, kept in the session's folder.

Chromium saves a download wherever the page asks, whether an action started it or the page did
on its own, and a size check after the file is written comes too late to protect the disk. So
each download is followed while it is written: as soon as the file passes the per-file cap, or
the session's downloads together pass their total, it is cancelled and Chromium deletes the
partial file. The overshoot is what arrives within one poll (10 ms) plus the cancel's round trip.
Finished downloads move, under a safe unique name, into the session's own folder, where actions
can upload them again and which is deleted with the session.
"""

import asyncio
import contextlib
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Download, Page

from .types import SessionLimits

log = logging.getLogger(__name__)

POLL_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class Saved:
    """How a download ended: kept as `name` in the session's folder, or refused with `refusal`."""

    name: str | None
    size: int
    refusal: str | None = None


class Downloads:
    def __init__(self, folder: Callable[[], Path], limits: SessionLimits):
        self._folder = folder
        self._limits = limits
        self.kept_bytes = 0
        self.in_flight: dict[Path, int] = {}  # file being written -> bytes written so far
        self._results: dict[Path, asyncio.Future[Saved]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, page: Page) -> None:
        page.on("download", self._started)

    def _started(self, download: Download) -> None:
        path = written_path(download)
        if path is None:
            log.error("cannot follow a download (%s): Playwright's internals changed", download.url)
            task = asyncio.ensure_future(download.cancel())
        else:
            task = asyncio.ensure_future(self._follow(download, path, self._result(path)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def result(self, download: Download) -> Saved:
        """How a download ends (for the action that started it)."""
        path = written_path(download)
        if path is None:
            return Saved(None, 0, "this server cannot follow downloads with its Playwright version")
        return await self._result(path)

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _result(self, path: Path) -> asyncio.Future[Saved]:
        if path not in self._results:
            self._results[path] = asyncio.get_running_loop().create_future()
        return self._results[path]

    async def _follow(self, download: Download, path: Path, result: asyncio.Future[Saved]) -> None:
        finished = asyncio.ensure_future(download.path())
        saved: Saved | None = None
        self.in_flight[path] = 0
        try:
            while not finished.done():
                self.in_flight[path] = _size(path)
                refusal = self._refusal(path, self.in_flight[path])
                if refusal:
                    await download.cancel()
                    # It may have finished meanwhile (cancel then does nothing): remove the file.
                    # A cancelled one has no file left, and delete() says so by raising.
                    with contextlib.suppress(Exception):
                        await download.delete()
                    saved = Saved(None, self.in_flight[path], refusal)
                    break
                await asyncio.wait({finished}, timeout=POLL_SECONDS)
            if saved is None:
                saved = await self._keep(download, path)
        except asyncio.CancelledError:
            finished.cancel()
            raise
        except Exception as exc:
            log.exception("download of %s failed", download.url)
            saved = Saved(None, 0, f"the download failed: {exc}")
        finally:
            self.in_flight.pop(path, None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(finished), 1)
            if not result.done():
                result.set_result(saved or Saved(None, 0, "the session ended during the download"))

    async def _keep(self, download: Download, path: Path) -> Saved:
        failure = await download.failure()
        if failure:
            return Saved(None, 0, f"the download failed: {failure}")
        size = _size(path)
        # A download can finish between two polls: the same limits apply to the whole file.
        refusal = self._refusal(path, size)
        if refusal:
            await download.delete()
            return Saved(None, size, refusal)
        target = unique(self._folder() / safe_filename(download.suggested_filename))
        shutil.move(path, target)
        self.kept_bytes += size
        return Saved(target.name, size)

    def _refusal(self, path: Path, size: int) -> str | None:
        limits = self._limits
        if size > limits.max_download_bytes:
            return (
                f"the download was stopped at {size} bytes: it is over this server's "
                f"{limits.max_download_bytes} byte limit per file"
            )
        others = sum(written for other, written in self.in_flight.items() if other != path)
        if self.kept_bytes + others + size > limits.max_session_download_bytes:
            return (
                f"the download was stopped: this session's downloads would pass their total "
                f"limit of {limits.max_session_download_bytes} bytes"
            )
        return None


def written_path(download: Download) -> Path | None:
    """Where Chromium writes this download. Playwright knows it (the browser's downloads folder
    and the download's id) but keeps it in the artifact behind the public Download object."""
    try:
        return Path(download._impl_obj._artifact._initializer["absolutePath"])  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None


def _size(path: Path) -> int:
    """Bytes written so far: Chromium writes to <path>.crdownload and renames it when done."""
    size = 0
    for candidate in (path, path.with_name(path.name + ".crdownload")):
        with contextlib.suppress(OSError):
            size = max(size, candidate.stat().st_size)
    return size


def safe_filename(name: str) -> str:
    name = (
        re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name.replace("\\", "/")).name).strip("._")
        or "download"
    )
    return name[:120]


def unique(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate
