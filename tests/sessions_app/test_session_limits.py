"""What one session may use: its network bytes are counted, its tabs and downloads are capped."""

import pytest

from tests.support.site import SITE_DIR

from .helpers import start

pytestmark = pytest.mark.django_db(transaction=True)


def act(api, sid, **action):
    response = api.post(f"/sessions/{sid}/page/execute", json=action)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_bytes_of_a_page_load_show_up_in_the_session_status(api, site):
    sid = start(api)["session_id"]
    status = api.get(f"/sessions/{sid}").json()
    assert (status["network_request_bytes"], status["network_response_bytes"]) == (0, 0)

    assert act(api, sid, type="goto", url=f"{site.url}/article.html")["success"]
    article = (SITE_DIR / "article.html").stat().st_size
    status = api.get(f"/sessions/{sid}").json()
    assert status["network_response_bytes"] > article
    assert status["network_request_bytes"] > 0

    stopped = api.delete(f"/sessions/{sid}/stop").json()
    assert stopped["network_response_bytes"] >= status["network_response_bytes"]
    # and they stay on the closed session's row
    assert (
        api.get(f"/sessions/{sid}").json()["network_response_bytes"]
        == stopped["network_response_bytes"]
    )
