"""One live session: a BrowserContext with its pages."""

from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import BrowserContext, Page

from .types import SessionSpec


@dataclass(slots=True)
class BrowserSession:
    spec: SessionSpec
    context: BrowserContext
    page: Page
    headed: bool = False
    closed: bool = field(default=False)

    @property
    def session_id(self) -> str:
        return self.spec.session_id

    async def cookies(self) -> list[dict[str, Any]]:
        return [dict(c) for c in await self.context.cookies()]

    async def add_cookies(self, cookies: list[dict[str, Any]]) -> None:
        await self.context.add_cookies(cookies)  # type: ignore[arg-type]

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.context.close()
