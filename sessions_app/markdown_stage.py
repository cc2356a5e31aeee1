"""The markdown stage of the scrape pipeline (HTML in, markdown, links and images out), run in the
web process for scrape_from_html: no browser is involved. The worker reads scrape options with
the same `scrape_options`."""

from typing import Any

from browser.scrape import ScrapeError, ScrapeOptions, html_to_result
from core.errors import InvalidInput

SCRAPE_FIELDS = (
    "only_main_content",
    "selector",
    "scrape_links",
    "scrape_images",
    "only_images",
    "use_link_placeholders",
)


def scrape_options(data: dict[str, Any]) -> ScrapeOptions:
    fields = {k: data[k] for k in SCRAPE_FIELDS if data.get(k) is not None}
    return ScrapeOptions(**fields, ignored_tags=tuple(data.get("ignored_tags") or ()))


def scrape_html(
    html: str, options: dict[str, Any], *, base_url: str = "", frames: list[tuple[str, str]] = ()
) -> dict[str, Any]:
    try:
        return html_to_result(
            html, scrape_options(options), base_url=base_url, frames=list(frames)
        ).to_wire()
    except ScrapeError as exc:  # e.g. a selector that is not valid CSS: the caller's to fix
        raise InvalidInput(exc.field or "html", str(exc)) from None
