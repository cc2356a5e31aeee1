import re

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("docs", ["/api/docs", "/api/v1/docs"])
def test_api_docs_and_their_assets_are_served_locally(client, docs):
    page = client.get(docs)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.content.decode())
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset


@pytest.mark.django_db
def test_openapi_schema_lists_the_notte_routes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/sessions/start", "/api/sessions/{session_id}/page/observe",
                 "/api/sessions/{session_id}/page/execute", "/api/scrape", "/api/health"):
        assert path in paths
