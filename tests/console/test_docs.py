import re

import pytest
import requests


@pytest.mark.parametrize("docs", ["/api/docs", "/api/v1/docs"])
def test_api_docs_and_their_assets_are_served_by_the_app_itself(live, docs):
    page = requests.get(live.url + docs, timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert requests.get(live.url + asset, timeout=10).status_code == 200, asset


def test_console_css_and_htmx_are_served_with_debug_off(live, settings):
    assert settings.DEBUG is False
    login = requests.get(live.url + "/login/", timeout=10).text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', login):
        assert requests.get(live.url + asset, timeout=10).status_code == 200, asset


@pytest.mark.django_db
def test_openapi_schema_lists_the_notte_routes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/sessions/start",
        "/api/sessions/{session_id}/page/observe",
        "/api/sessions/{session_id}/page/execute",
        "/api/scrape",
        "/api/health",
    ):
        assert path in paths


@pytest.mark.django_db
def test_the_screenshot_is_documented_as_an_image_not_json(client):
    operation = client.get("/api/openapi.json").json()["paths"][
        "/api/sessions/{session_id}/page/screenshot"
    ]["post"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"image/png", "image/jpeg"}
    for media in content.values():
        assert media["schema"] == {"type": "string", "format": "binary"}
