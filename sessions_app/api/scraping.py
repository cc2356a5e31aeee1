"""Scraping without a session (one-shot, or from HTML the caller already has) and web search."""

from django.http import HttpRequest
from ninja import Router

from sessions_app import scraping
from sessions_app.schemas import (
    DataSpace,
    GlobalScrapeRequest,
    ScrapeFromHtmlRequest,
    SearchRequest,
    SearchResponse,
)
from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

router = Router(tags=["Scraping"], auth=ApiKeyAuth(scope=Scope.SESSIONS))


@router.post("/scrape", response=DataSpace, operation_id="scrapeWebpage")
async def scrape(request: HttpRequest, body: GlobalScrapeRequest):
    return await scraping.scrape_oneshot(
        team=request.auth.team,
        api_key=request.auth,
        url=body.url,
        solve_captchas=body.solve_captchas,
        proxies=body.proxies,
        options=body.scrape_options(),
    )


@router.post("/scrape_from_html", response=DataSpace, operation_id="scrapeFromHtml")
async def scrape_from_html(request: HttpRequest, body: ScrapeFromHtmlRequest):
    return await scraping.scrape_from_html(
        html=body.html,
        base_url=body.url,
        frames=[(f.url, f.html) for f in body.frames or []],
        options=body.model_dump(exclude={"html", "url", "frames"}),
    )


@router.post("/search", response=SearchResponse, operation_id="searchWeb")
async def search(request: HttpRequest, body: SearchRequest):
    return SearchResponse(results=await scraping.search_web(query=body.q))
