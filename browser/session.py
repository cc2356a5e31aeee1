"""One live session: a BrowserContext, its tabs, its last observation and its files."""

import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page

from .perception.observe import Snapshot
from .screencast import FrameCache
from .types import SessionSpec


@dataclass(slots=True)
class BrowserSession:
    spec: SessionSpec
    context: BrowserContext
    page: Page
    headed: bool = False
    closed: bool = False
    files_dir: Path | None = None
    snapshot: Snapshot | None = None
    frames: FrameCache | None = None
    filled_values: list[str] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        return self.spec.session_id

    @property
    def tabs(self) -> list[Page]:
        return [p for p in self.context.pages if not p.is_closed()]

    async def watch(self) -> None:
        """Keep a screencast of the current tab so observe can answer with its latest frame."""
        if self.frames and self.frames.page is self.page:
            return
        if self.frames:
            await self.frames.stop()
        self.frames = FrameCache(self.page)
        try:
            await self.frames.start()
        except Exception:
            self.frames = None  # no cache: observe captures directly

    async def switch_to(self, page: Page) -> None:
        self.page = page
        self.snapshot = None
        with contextlib.suppress(Exception):
            await page.bring_to_front()
        await self.watch()

    def files(self, kind: str) -> Path:
        """The session's own directory for downloads or uploads (created on first use)."""
        if self.files_dir is None:
            raise RuntimeError("this session has no file storage")
        path = self.files_dir / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    async def cookies(self) -> list[dict[str, Any]]:
        return [dict(c) for c in await self.context.cookies()]

    async def add_cookies(self, cookies: list[dict[str, Any]]) -> None:
        await self.context.add_cookies(cookies)  # type: ignore[arg-type]

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self.frames:
                await self.frames.stop()
            await self.context.close()
        finally:
            if self.files_dir:
                shutil.rmtree(self.files_dir, ignore_errors=True)
