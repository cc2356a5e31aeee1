"""One-shot scraping and search: POST /scrape, /scrape_from_html, /search."""

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema

from browser.url_policy import navigation_refusal
from core.errors import InvalidInput, PeriscopeError
from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

from . import perception, rpc
from .api_page import ScrapeRequest
from .protocol import START_QUEUE
from .scrape_html import scrape_html

router = Router(tags=["Scraping"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


class GlobalScrapeRequest(ScrapeRequest):
    url: str = Field(..., min_length=1, max_length=8192)
    headless: bool = True
    solve_captchas: bool = False
    proxies: bool | list[dict[str, Any]] = False
    browser_type: str = "chromium"


class HtmlFrame(Schema):
    html: str
    url: str = ""


class ScrapeFromHtmlRequest(ScrapeRequest):
    html: str | None = None
    url: str = ""
    frames: list[HtmlFrame] | None = None


class SearchRequest(Schema):
    q: str = Field(..., min_length=1, max_length=500)
    depth: str | None = None
    outputType: str | None = None


async def _with_structured(data: dict[str, Any], options: ScrapeRequest) -> dict[str, Any]:
    if options.instructions or options.response_format:
        data["structured"] = await perception.structured(
            markdown=data["markdown"], instructions=options.instructions, response_format=options.response_format)
    return data


@router.post("/scrape", operation_id="scrapeWebpage")
async def scrape(request: HttpRequest, body: GlobalScrapeRequest):
    refusal = navigation_refusal(body.url)
    if refusal:
        raise InvalidInput("url", refusal)
    if body.solve_captchas:
        raise InvalidInput("solve_captchas", "captcha solving is not supported by this server; send false")
    if body.proxies not in (False, None, []):
        raise InvalidInput("proxies", "one-shot scrapes run without proxies on this server; send false")
    perception.check_structured_request(body.instructions, body.response_format)
    options = body.model_dump(exclude={"url", "headless", "solve_captchas", "proxies", "browser_type"})
    data = await rpc.call(START_QUEUE, {"type": "scrape.oneshot", "session_id": "", "url": body.url,
                                        "options": options}, wait_seconds=settings.PERISCOPE_COMMAND_TIMEOUT)
    return await _with_structured(data, body)


@router.post("/scrape_from_html", operation_id="scrapeFromHtml")
async def scrape_from_html(request: HttpRequest, body: ScrapeFromHtmlRequest):
    frames = [(f.url, f.html) for f in body.frames or []]
    if body.html is None and not frames:
        raise InvalidInput("html", "send the page as html, or as frames [{html, url}]")
    perception.check_structured_request(body.instructions, body.response_format)
    data = await sync_to_async(scrape_html, thread_sensitive=False)(
        body.html if body.html is not None else frames[0][1],
        body.model_dump(), base_url=body.url or (frames[0][0] if body.html is None else ""),
        frames=frames if body.html is not None else frames[1:],
    )
    return await _with_structured(data, body)


@router.post("/search", operation_id="searchWeb")
async def search(request: HttpRequest, body: SearchRequest):
    if not settings.SEARCH_URL:
        raise InvalidInput("q", "web search needs a search endpoint: set SEARCH_URL to a SearXNG instance "
                                "(with its JSON format enabled) on the server")
    import httpx

    try:
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.get(f"{settings.SEARCH_URL}/search", params={"q": body.q, "format": "json"})
            response.raise_for_status()
            payload = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        error = PeriscopeError(f"the search endpoint {settings.SEARCH_URL} failed: {exc}")
        error.status = 502
        raise error from None
    results = [
        {"title": r.get("title", ""), "url": r.get("url", ""), "content": r.get("content", "")}
        for r in payload.get("results", [])
    ]
    return {"results": results}
