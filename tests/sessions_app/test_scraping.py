"""Scrape endpoints, one-shot scraping, search, and the LLM-backed options."""

import json
import time

import pytest

from sessions_app.models import BrowserSession
from tests.support.fake_llm import FakeLLM, FakeSearch

from .helpers import start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def on_article(api, site):
    sid = start(api)["session_id"]
    api.post(
        f"/sessions/{sid}/page/execute", json={"type": "goto", "url": f"{site.url}/article.html"}
    )
    return sid


def scrape(api, sid, **body):
    response = api.post(f"/sessions/{sid}/page/scrape", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_page_scrape_main_content_whole_page_and_selector(api, on_article):
    main = scrape(api, on_article, only_main_content=True)["markdown"]
    assert (
        main.startswith("# The Lens That Lit the Atlantic")
        or "# The Lens That Lit the Atlantic" in main
    )
    assert "HIDDEN-TEXT" not in main and "INVISIBLE-TEXT" not in main
    assert "| " in main  # the table
    whole = scrape(api, on_article, only_main_content=False, scrape_links=True)["markdown"]
    assert len(whole) > len(main)
    assert "](http://127.0.0.1:" in whole
    quote = scrape(api, on_article, selector="#keeper-quote", only_main_content=False)["markdown"]
    assert quote.lstrip().startswith(">")
    assert "Atlantic" not in quote.split("\n")[0] or len(quote) < 2000


def test_images_and_placeholders(api, on_article):
    images = scrape(api, on_article, only_images=True)
    assert images["markdown"] == ""
    categories = {i["category"] for i in images["images"]}
    assert {"content_image", "decorative"} <= categories
    placeholders = scrape(
        api, on_article, only_main_content=False, scrape_links=True, use_link_placeholders=True
    )
    assert "<link_1>" in placeholders["markdown"]


def test_a_selector_matching_nothing_is_a_clear_failure(api, on_article):
    response = api.post(f"/sessions/{on_article}/page/scrape", json={"selector": "#does-not-exist"})
    assert response.status_code >= 400
    assert "matched nothing" in response.json()["message"]


def test_structured_scrape_without_an_llm_says_how_to_configure_one(api, on_article):
    response = api.post(
        f"/sessions/{on_article}/page/scrape", json={"instructions": "list the lens orders"}
    )
    assert response.status_code == 422
    assert "LLM_BASE_URL" in response.json()["message"]


def test_structured_scrape_through_the_configured_llm_is_validated(api, on_article, settings):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    with FakeLLM(lambda messages: json.dumps({"title": "The Lens That Lit the Atlantic"})) as llm:
        settings.LLM_BASE_URL = llm.base_url
        good = scrape(api, on_article, response_format=schema, instructions="the article title")
        assert good["structured"] == {
            "success": True,
            "error": None,
            "data": {"title": "The Lens That Lit the Atlantic"},
        }
        sent = llm.requests[-1]["body"]
        assert sent["response_format"]["json_schema"]["schema"] == schema
        assert "The Lens That Lit the Atlantic" in sent["messages"][-1]["content"]
    with FakeLLM(lambda messages: json.dumps({"name": 3})) as llm:
        settings.LLM_BASE_URL = llm.base_url
        bad = scrape(api, on_article, response_format=schema)
        assert bad["structured"]["success"] is False
        assert "title" in bad["structured"]["error"]


def test_observe_instructions_narrow_lexically_without_an_llm(api, site):
    sid = start(api)["session_id"]
    api.post(
        f"/sessions/{sid}/page/execute", json={"type": "goto", "url": f"{site.url}/login.html"}
    )
    narrowed = api.post(
        f"/sessions/{sid}/page/observe", json={"instructions": "type the password"}
    ).json()
    descriptions = [a["description"] for a in narrowed["space"]["interaction_actions"]]
    assert "Password" in descriptions[0]
    assert not any("Sign in" in d for d in descriptions)


def test_observe_instructions_go_through_the_llm_when_configured(api, site, settings):
    sid = start(api)["session_id"]
    api.post(
        f"/sessions/{sid}/page/execute", json={"type": "goto", "url": f"{site.url}/login.html"}
    )
    with FakeLLM(lambda messages: json.dumps({"ids": ["L2"]})) as llm:
        settings.LLM_BASE_URL = llm.base_url
        narrowed = api.post(
            f"/sessions/{sid}/page/observe", json={"instructions": "recover my account"}
        ).json()
        assert [a["id"] for a in narrowed["space"]["interaction_actions"]] == ["L2"]
        assert "recover my account" in llm.requests[-1]["body"]["messages"][-1]["content"]


def test_one_shot_scrape(api, site, live):
    response = api.post(
        "/scrape", json={"url": f"{site.url}/article.html", "only_main_content": True}
    )
    assert response.status_code == 200, response.text
    assert "The Lens That Lit the Atlantic" in response.json()["markdown"]
    assert live.worker.pool.session_ids() == []  # the throwaway context is gone
    refused = api.post("/scrape", json={"url": "file:///etc/passwd"})
    assert refused.status_code == 422 and "url" in refused.json()["message"]


def test_one_shot_scrape_of_a_private_address_is_refused(api):
    from tests.support.site import Target

    with Target("127.0.0.2") as target:
        response = api.post("/scrape", json={"url": f"{target.url}/"})
        assert response.status_code == 422
        assert target.hits == []


def test_scrape_from_html_needs_no_browser_and_honours_frames(api):
    html = "<html><body><nav>Menu</nav><main><h1>Title</h1><p>Body text</p></main></body></html>"
    main = api.post("/scrape_from_html", json={"html": html, "only_main_content": True}).json()
    assert "# Title" in main["markdown"] and "Menu" not in main["markdown"]
    framed = api.post(
        "/scrape_from_html",
        json={
            "html": "<p>Outer</p>",
            "only_main_content": False,
            "frames": [{"html": "<p>Inside the frame</p>", "url": "http://example.com/frame"}],
        },
    ).json()
    assert (
        "IFRAME http://example.com/frame" in framed["markdown"]
        and "Inside the frame" in framed["markdown"]
    )
    empty = api.post("/scrape_from_html", json={})
    assert empty.status_code == 422 and "html" in empty.json()["message"]


def test_search_needs_a_search_endpoint_then_answers_its_results(api, settings):
    refused = api.post("/search", json={"q": "lighthouses"})
    assert refused.status_code == 422 and "SEARCH_URL" in refused.json()["message"]
    results = [
        {"title": "Lighthouse", "url": "https://example.org/l", "content": "A tower", "engine": "x"}
    ]
    with FakeSearch(results) as search:
        settings.SEARCH_URL = search.url
        found = api.post("/search", json={"q": "lighthouses"}).json()
    assert found == {
        "results": [{"title": "Lighthouse", "url": "https://example.org/l", "content": "A tower"}]
    }
    assert search.queries == ["lighthouses"]


@pytest.mark.parametrize(
    ("status", "answer", "why"),
    [
        (500, {"error": "engine down"}, "answered HTTP 500"),
        (403, b"Forbidden", "answered HTTP 403: enable its JSON format"),
        (200, b"<html>not json</html>", "answered something that is not JSON"),
        (200, {"answers": []}, "answered without a results list"),
    ],
)
def test_a_search_endpoint_that_fails_answers_502_saying_which_and_why(
    api, settings, status, answer, why
):
    with FakeSearch(status=status, answer=answer) as search:
        settings.SEARCH_URL = search.url
        response = api.post("/search", json={"q": "lighthouses"})
    assert search.queries == ["lighthouses"]
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["status"] == 502 and body["detail"] == body["message"]
    assert body["message"].startswith(f"the search endpoint {search.url} "), body
    assert why in body["message"]


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("solve_captchas", {"solve_captchas": True}),
        ("proxies", {"proxies": True}),
        ("proxies", {"proxies": [{"type": "external", "server": "http://127.0.0.1:3128"}]}),
    ],
)
def test_one_shot_scrape_refuses_captcha_solving_and_proxies_before_taking_a_slot(
    api, site, field, body
):
    response = api.post("/scrape", json={"url": f"{site.url}/article.html", **body})
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith(f"{field}: ")
    assert not BrowserSession.objects.exists()


@pytest.mark.parametrize("after", [0, 1])
def test_one_shot_scrape_of_a_meta_refresh_page_scrapes_where_it_leads(api, site, after):
    response = api.post(
        "/scrape", json={"url": f"{site.url}/refresh?to=/article.html&after={after}"}
    )
    assert response.status_code == 200, response.text
    assert "The Lens That Lit the Atlantic" in response.json()["markdown"]


@pytest.mark.parametrize("selector", ["#", "div[", "a:nth-child(", ">>>"])
def test_a_css_selector_syntax_error_answers_422(api, on_article, site, selector):
    response = api.post(f"/sessions/{on_article}/page/scrape", json={"selector": selector})
    assert response.status_code == 422, response.text
    assert (
        response.json()["message"].startswith("selector")
        or "selector" in response.json()["message"]
    )
    oneshot = api.post("/scrape", json={"url": f"{site.url}/article.html", "selector": selector})
    assert oneshot.status_code == 422, oneshot.text
    from_html = api.post(
        "/scrape_from_html", json={"html": "<main><p>x</p></main>", "selector": selector}
    )
    assert from_html.status_code == 422, from_html.text
    # the session is still usable
    assert (
        api.post(f"/sessions/{on_article}/page/scrape", json={"selector": "h1"}).status_code == 200
    )


def test_an_llm_that_hangs_fails_the_call_not_the_session(api, on_article, settings):
    def hang(messages):
        time.sleep(4)
        return "{}"

    settings.LLM_TIMEOUT_SECONDS = 1
    with FakeLLM(hang) as llm:
        settings.LLM_BASE_URL = llm.base_url
        failed = api.post(
            f"/sessions/{on_article}/page/scrape", json={"instructions": "the article title"}
        )
        assert failed.status_code == 502
        assert "the LLM" in failed.json()["message"]
        assert llm.requests  # it was asked, and gave up on
    # The session carries on as if nothing happened.
    assert api.get(f"/sessions/{on_article}").json()["status"] == "active"
    assert "# The Lens That Lit the Atlantic" in scrape(api, on_article)["markdown"]
    assert api.post(f"/sessions/{on_article}/page/observe", json={}).status_code == 200
