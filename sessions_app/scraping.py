"""One-shot scraping and web search: POST /scrape, /scrape_from_html, /search.

A one-shot scrape is a short browser session: it takes a slot of the team's session cap, gets a
row (so the timeline shows it and the deadline reaper treats it like any session) and ends as
soon as the page is read.
"""

from typing import Any

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings

from browser.url_policy import navigation_refusal
from core.errors import InvalidInput, PeriscopeError, UpstreamFailed
from teams_app.models import ApiKey, Team

from .extraction import check_structured_request, with_structured
from .markdown_stage import scrape_html
from .models import SessionStatus
from .services import session_mark_ended, session_reserve
from .start_options import StartOptions
from .worker import client
from .worker.protocol import START_QUEUE

ONESHOT_MINUTES = 2
SEARCH_TIMEOUT_SECONDS = 20


async def scrape_oneshot(
    *,
    team: Team,
    api_key: ApiKey | None,
    url: str,
    options: dict[str, Any],
    solve_captchas: bool = False,
    proxies: bool | list[dict[str, Any]] | None = False,
) -> dict[str, Any]:
    """The page at `url`, scraped in a session of its own. Captcha solving and proxies, which a
    Notte client may ask for, are refused (naming the field) before a slot is taken."""
    if solve_captchas:
        raise InvalidInput(
            "solve_captchas", "captcha solving is not supported by this server; send false"
        )
    if proxies not in (False, None, []):
        raise InvalidInput(
            "proxies", "one-shot scrapes run without proxies on this server; send false"
        )
    refusal = navigation_refusal(url)
    if refusal:
        raise InvalidInput("url", refusal)
    check_structured_request(options.get("instructions"), options.get("response_format"))
    start = StartOptions(idle_timeout_minutes=ONESHOT_MINUTES, max_duration_minutes=ONESHOT_MINUTES)
    session = await sync_to_async(session_reserve)(team=team, options=start, api_key=api_key)
    session_id = str(session.id)
    try:
        data = await client.call(
            START_QUEUE,
            {
                "type": "scrape.oneshot",
                "session_id": session_id,
                "team_id": str(team.pk),
                "url": url,
                "options": options,
                "spec": start.browser_spec(session_id),
            },
            wait_seconds=settings.PERISCOPE_COMMAND_TIMEOUT,
        )
    except PeriscopeError as exc:
        await sync_to_async(session_mark_ended)(
            session_id=session_id,
            status=SessionStatus.ERROR if exc.status >= 500 else SessionStatus.CLOSED,
            reason=f"one-shot scrape of {url[:200]} failed: {exc.message}",
            error=exc.message if exc.status >= 500 else "",
        )
        raise
    await sync_to_async(session_mark_ended)(
        session_id=session_id,
        status=SessionStatus.CLOSED,
        reason=f"one-shot scrape of {url[:200]} done",
    )
    return await with_structured(data, options)


async def scrape_from_html(
    *, html: str | None, base_url: str, frames: list[tuple[str, str]], options: dict[str, Any]
) -> dict[str, Any]:
    """The markdown stage of the pipeline, in this process: no browser is involved."""
    if html is None and not frames:
        raise InvalidInput("html", "send the page as html, or as frames [{html, url}]")
    check_structured_request(options.get("instructions"), options.get("response_format"))
    if html is None:
        (base_url, html), frames = frames[0], frames[1:]
    data = await sync_to_async(scrape_html, thread_sensitive=False)(
        html, options, base_url=base_url, frames=frames
    )
    return await with_structured(data, options)


async def search_web(*, query: str) -> list[dict[str, str]]:
    """Results from the configured SearXNG instance (its JSON output)."""
    if not settings.SEARCH_URL:
        raise InvalidInput(
            "q",
            "web search needs a search endpoint: set SEARCH_URL to a SearXNG instance "
            "(with its JSON format enabled) on the server",
        )
    endpoint = f"the search endpoint {settings.SEARCH_URL}"
    try:
        async with httpx.AsyncClient(timeout=SEARCH_TIMEOUT_SECONDS) as http:
            response = await http.get(
                f"{settings.SEARCH_URL}/search", params={"q": query, "format": "json"}
            )
    except httpx.HTTPError as exc:
        raise UpstreamFailed(f"{endpoint} did not answer: {exc or type(exc).__name__}") from None
    if not response.is_success:
        # SearXNG answers 403 when its JSON output is not enabled.
        hint = ": enable its JSON format (search.formats)" if response.status_code == 403 else ""
        raise UpstreamFailed(f"{endpoint} answered HTTP {response.status_code}{hint}")
    try:
        payload = response.json()
    except ValueError:
        raise UpstreamFailed(f"{endpoint} answered something that is not JSON") from None
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list):
        raise UpstreamFailed(f"{endpoint} answered without a results list")
    return [
        {
            "title": str(r.get("title", "")),
            "url": str(r.get("url", "")),
            "content": str(r.get("content", "")),
        }
        for r in results
        if isinstance(r, dict)
    ]
