"""Observe and execute through the API on the test site, with a real worker and Chromium."""

import base64

import pytest

from sessions_app.models import Step

from .helpers import start, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session(api):
    return start(api)["session_id"]


def act(api, sid, **action):
    response = api.post(f"/sessions/{sid}/page/execute", json=action)
    assert response.status_code == 200, response.text
    return response.json()


def observe(api, sid, **body):
    response = api.post(f"/sessions/{sid}/page/observe", json={"max_nb_actions": 500, **body})
    assert response.status_code == 200, response.text
    return response.json()


def by_name(observation, text):
    matches = [a for a in observation["space"]["interaction_actions"] if text in a["description"]]
    assert matches, f"no action mentions {text!r}"
    return matches[0]


def test_login_flow_by_observed_ids(api, site, session):
    assert act(api, session, type="goto", url=f"{site.url}/login.html")["success"]
    obs = observe(api, session)
    email, password = by_name(obs, "Email"), by_name(obs, "Password")
    assert (
        email["id"].startswith("I")
        and email["type"] == "fill"
        and email["value"] == "<sample_value>"
    )
    assert password["id"].startswith("I")
    sign_in = by_name(obs, "Sign in")
    assert sign_in["id"].startswith("B") and sign_in["type"] == "click"
    assert by_name(obs, "Forgot")["id"].startswith("L")
    assert by_name(obs, "Remember")["type"] == "check"
    assert obs["space"]["category"] == "auth"

    assert act(api, session, type="fill", id=email["id"], value="ada@example.com")["success"]
    assert act(api, session, type="fill", id=password["id"], value="s3cret-pass")["success"]
    clicked = act(api, session, type="click", id=sign_in["id"])
    assert clicked["success"] and clicked["exception"] is None
    assert "Sign in" in clicked["message"]
    after = observe(api, session)
    assert after["metadata"]["url"].endswith("/account.html")


def test_observation_has_metadata_screenshot_and_boxes(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/login.html")
    obs = observe(api, session)
    viewport = obs["metadata"]["viewport"]
    assert set(viewport) == {
        "scroll_x",
        "scroll_y",
        "viewport_width",
        "viewport_height",
        "total_width",
        "total_height",
    }
    assert viewport["viewport_width"] == 1280
    assert obs["metadata"]["tabs"] == [
        {"tab_id": 0, "title": obs["metadata"]["title"], "url": obs["metadata"]["url"]}
    ]
    image = base64.b64decode(obs["screenshot"]["raw"])
    assert image[:3] == b"\xff\xd8\xff"  # a JPEG
    boxes = {b["notte_id"]: b for b in obs["screenshot"]["bboxes"]}
    email = by_name(obs, "Email")
    assert boxes[email["id"]]["width"] > 0 and boxes[email["id"]]["height"] > 0
    assert obs["space"]["description"].count("[:]") >= len(obs["space"]["interaction_actions"])


def test_ids_are_stable_for_an_unchanged_page(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/controls.html")
    first = [
        a["id"] + a["description"] for a in observe(api, session)["space"]["interaction_actions"]
    ]
    second = [
        a["id"] + a["description"] for a in observe(api, session)["space"]["interaction_actions"]
    ]
    assert first == second


def test_the_200_control_page_is_observed_whole(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/controls.html")
    actions = observe(api, session, max_nb_actions=1000)["space"]["interaction_actions"]
    controls = [a for a in actions if not a["id"].startswith("O")]
    assert len(controls) == 200
    assert len(observe(api, session, max_nb_actions=50)["space"]["interaction_actions"]) == 50


def test_iframes_same_and_cross_origin_are_observed_and_actionable(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/frames.html?alt={site.alt_url}")
    obs = wait_until(
        lambda: (o := observe(api, session)) and "Cross email" in o["space"]["description"] and o,
        timeout=5,
    )
    assert obs, "the cross-origin frame's controls are observed"
    same = by_name(obs, "Frame name")
    cross = by_name(obs, "Cross email")
    assert "### Content of iframe" in obs["space"]["description"]
    assert act(api, session, type="fill", id=same["id"], value="inner")["success"]
    assert act(api, session, type="fill", id=cross["id"], value="cross@example.com")["success"]
    assert act(api, session, type="click", id=by_name(obs, "Cross go")["id"])["success"]


def test_open_shadow_roots_are_observed_and_actionable(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/shadow.html")
    obs = observe(api, session)
    assert act(
        api, session, type="fill", id=by_name(obs, "Shadow search")["id"], value="deep value"
    )["success"]
    assert act(api, session, type="click", id=by_name(obs, "Shadow go")["id"])["success"]
    scraped = api.post(f"/sessions/{session}/page/scrape", json={"only_main_content": False}).json()
    assert "deep value" in scraped["markdown"]


def test_a_rerendered_element_answers_not_found_and_observe_again_works(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/spa.html")
    obs = observe(api, session)
    delete = by_name(obs, "Delete")
    assert act(api, session, type="click", id=delete["id"])["success"]
    stale = act(api, session, type="click", id=delete["id"])
    assert stale["success"] is False
    assert "not found in page context" in stale["message"] and "observe again" in stale["message"]
    fresh = observe(api, session)
    assert act(api, session, type="click", id=by_name(fresh, "Delete")["id"])["success"]


def test_unknown_id_and_execute_before_observe(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/login.html")
    before = act(api, session, type="click", id="B1")
    assert before["success"] is False and "observe" in before["message"]
    observe(api, session)
    unknown = act(api, session, type="click", id="B99")
    assert unknown["success"] is False
    assert unknown["message"] == "action 'B99' not found in page context; observe again"


def test_selects_checkboxes_and_radios(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/forms.html")
    obs = observe(api, session)
    country = by_name(obs, "Country")
    assert country["type"] == "select_dropdown_option"
    assert act(api, session, type="select_dropdown_option", id=country["id"], value="Japan")[
        "success"
    ]
    assert api_value(api, session, "#country") == "Japan"
    kenya = next(
        a
        for a in obs["space"]["interaction_actions"]
        if a["id"].startswith("O") and a["value"] == "Kenya"
    )
    assert act(api, session, type="select_dropdown_option", id=kenya["id"], value="Kenya")[
        "success"
    ]
    assert api_value(api, session, "#country") == "Kenya"
    missing = act(api, session, type="select_dropdown_option", id=country["id"], value="Atlantis")
    assert missing["success"] is False and "France" in missing["message"]
    newsletter = by_name(obs, "newsletter")
    assert act(api, session, type="check", id=newsletter["id"], value=True)["success"]


def api_value(api, sid, selector):
    scraped = api.post(
        f"/sessions/{sid}/page/scrape", json={"selector": "#status", "only_main_content": False}
    )
    return scraped.json()["markdown"].strip().split(":")[-1].strip()


def test_downloads_land_in_the_session_with_a_safe_name_and_can_be_uploaded(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/forms.html")
    obs = observe(api, session)
    downloaded = act(api, session, type="download_file", id=by_name(obs, "Download report")["id"])
    assert downloaded["success"], downloaded["message"]
    assert "report.csv" in downloaded["message"]
    evil = act(api, session, type="download_file", id=by_name(obs, "suspicious")["id"])
    assert evil["success"]
    assert "/" not in evil["message"].split("Downloaded ")[1].split(" (")[0]
    uploaded = act(
        api,
        session,
        type="upload_file",
        id=by_name(obs, "Attachment")["id"],
        file_path="report.csv",
    )
    assert uploaded["success"], uploaded["message"]
    act(api, session, type="click", id=by_name(obs, "Upload")["id"])
    assert wait_until(
        lambda: site.uploads and site.uploads[-1]["filename"] == "report.csv", timeout=5
    )


def test_uploads_come_only_from_the_sessions_own_files(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/forms.html")
    attachment = by_name(observe(api, session), "Attachment")
    for path in ("/etc/passwd", "../../manage.py", "downloads/../../x"):
        refused = act(api, session, type="upload_file", id=attachment["id"], file_path=path)
        assert refused["success"] is False, path


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "chrome://version",
        "view-source:http://example.com",
        "data:text/html,<h1>x</h1>",
        "javascript:alert(1)",
    ],
)
def test_only_http_https_and_about_blank_can_be_opened(api, session, url):
    for kind in ("goto", "goto_new_tab"):
        refused = act(api, session, type=kind, url=url)
        assert refused["success"] is False
        assert "cannot be opened" in refused["message"] or "not allowed" in refused["message"]
    assert act(api, session, type="goto", url="about:blank")["success"]


def test_a_redirect_to_a_private_address_is_blocked_at_the_network_layer(api, site, session):
    from tests.support.site import Target

    with Target("127.0.0.2") as target:
        blocked = act(api, session, type="goto", url=f"{site.url}/redirect?to={target.url}/secret")
        assert blocked["success"] is False
        direct = act(api, session, type="goto", url=f"{target.url}/secret")
        assert direct["success"] is False
        assert target.hits == []


def test_redirect_chains_are_followed(api, site, session):
    site.reset()
    moved = act(api, session, type="goto", url=f"{site.url}/redirect-chain?n=3")
    assert moved["success"] and moved["message"].endswith("/article.html")


def test_tabs_can_be_opened_switched_and_closed(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/login.html")
    assert act(api, session, type="goto_new_tab", url=f"{site.url}/article.html")["success"]
    tabs = observe(api, session)["metadata"]["tabs"]
    assert [t["url"].rsplit("/", 1)[1] for t in tabs] == ["login.html", "article.html"]
    assert act(api, session, type="switch_tab", tab_index=0)["success"]
    assert observe(api, session)["metadata"]["url"].endswith("login.html")
    assert act(api, session, type="switch_tab", tab_index=5)["success"] is False
    assert act(api, session, type="close_tab")["success"]
    assert len(observe(api, session)["metadata"]["tabs"]) == 1


def test_history_scroll_keys_and_wait(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/login.html")
    act(api, session, type="goto", url=f"{site.url}/article.html")
    assert act(api, session, type="scroll_down")["success"]
    assert observe(api, session)["metadata"]["viewport"]["scroll_y"] > 0
    assert act(api, session, type="scroll_up", amount=10000)["success"]
    assert observe(api, session)["metadata"]["viewport"]["scroll_y"] == 0
    assert act(api, session, type="go_back")["message"].endswith("login.html")
    assert act(api, session, type="go_forward")["message"].endswith("article.html")
    assert act(api, session, type="reload")["success"]
    assert act(api, session, type="wait", time_ms=50)["success"]
    act(api, session, type="goto", url=f"{site.url}/login.html")
    obs = observe(api, session)
    act(api, session, type="fill", id=by_name(obs, "Email")["id"], value="a@b.c")
    act(api, session, type="fill", id=by_name(obs, "Password")["id"], value="pass-word")
    assert act(api, session, type="press_key", key="Enter")["success"]
    assert wait_until(
        lambda: observe(api, session)["metadata"]["url"].endswith("account.html"), timeout=5
    )


def test_special_actions_answer_clearly(api, session):
    assert (
        act(api, session, type="captcha_solve")["message"]
        == "captcha solving is not supported by this server"
    )
    assert act(api, session, type="email_read")["success"] is False
    assert "no persona" in act(api, session, type="sms_read")["message"]
    assert act(api, session, type="help", reason="stuck")["success"]
    assert act(api, session, type="completion", success=True, answer="done")["success"]
    js = act(api, session, type="evaluate_js", code="1+1")
    assert js["success"] is False and "PERISCOPE_ALLOW_EVALUATE_JS" in js["message"]


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "teleport"}, "type"),
        ({"type": "fill", "id": "I1"}, "value"),
        ({"type": "click"}, "body"),
        ({"type": "goto"}, "url"),
        ({"type": "wait", "time_ms": 999999}, "time_ms"),
        ({"url": "http://x"}, "type"),
    ],
)
def test_bad_actions_answer_422_naming_the_field(api, session, action, field):
    response = api.post(f"/sessions/{session}/page/execute", json=action)
    assert response.status_code == 422
    body = response.json()
    assert field in body["message"]


def test_goto_is_echoed_exactly_as_received(api, site, session):
    action = {
        "type": "goto",
        "category": "Special Browser Actions",
        "description": "Goto",
        "url": f"{site.url}/",
    }
    assert act(api, session, **action)["action"] == action


def test_every_action_is_a_step_with_masked_values_and_a_screenshot(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/login.html")
    obs = observe(api, session)
    act(api, session, type="fill", id=by_name(obs, "Password")["id"], value="TOP-SECRET-42")
    act(api, session, type="click", id="B99")
    steps = wait_until(
        lambda: (s := api.get(f"/sessions/{session}").json()["steps"]) and len(s) == 3 and s,
        timeout=5,
    )
    assert [s["action"]["type"] for s in steps] == ["goto", "fill", "click"]
    assert [s["success"] for s in steps] == [True, True, False]
    assert steps[1]["action"]["value"] == "********"
    assert "TOP-SECRET-42" not in str(steps)
    assert steps[0]["url_before"] == "about:blank" and steps[0]["url_after"].endswith("/login.html")
    stored = Step.objects.get(session_id=session, index=1)
    assert stored.screenshot.read()[:3] == b"\xff\xd8\xff"
    assert "TOP-SECRET-42" not in str(list(Step.objects.values()))


def test_screenshot_endpoint_returns_png_or_jpeg(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/article.html")
    png = api.post(f"/sessions/{session}/page/screenshot", json={})
    assert png.headers["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    jpeg = api.post(f"/sessions/{session}/page/screenshot", json={"type": "jpeg", "quality": 50})
    assert jpeg.headers["Content-Type"] == "image/jpeg" and jpeg.content[:3] == b"\xff\xd8\xff"


def test_replay_is_404_still_active_then_a_downloadable_animation(api, site, session):
    import requests
    from PIL import Image

    act(api, session, type="goto", url=f"{site.url}/login.html")
    act(api, session, type="goto", url=f"{site.url}/article.html")
    wait_until(lambda: len(api.get(f"/sessions/{session}").json()["steps"]) == 2, timeout=5)
    running = api.get(f"/sessions/{session}/replay")
    assert running.status_code == 404 and "still active" in running.json()["message"]
    api.delete(f"/sessions/{session}/stop")
    replay = api.get(f"/sessions/{session}/replay")
    assert replay.status_code == 200
    body = replay.json()
    assert body["video_duration_ms"] == 2000 and "detail" not in body
    webp = requests.get(body["webp_url"], timeout=30)  # no key: the signed URL is the credential
    assert webp.status_code == 200
    import io

    animation = Image.open(io.BytesIO(webp.content))
    assert animation.format == "WEBP" and animation.n_frames == 2
    if body["mp4_url"]:
        assert requests.get(body["mp4_url"], timeout=30).content[4:8] == b"ftyp"
    forged = body["webp_url"].replace("/replays/", "/replays/x")
    assert requests.get(forged, timeout=30).status_code == 404


def test_notte_sdk_drives_the_perception_layer(live, api_key, site):
    from notte_sdk import NotteClient

    client = NotteClient(api_key=api_key, server_url=live.api_url)
    with client.Session(headless=True) as session:
        result = session.execute(type="goto", url=f"{site.url}/login.html")
        assert result.success
        obs = session.observe()
        email = next(a for a in obs.space.interaction_actions if "Email" in a.description)
        assert session.execute(type="fill", id=email.id, value="sdk@example.com").success
        remember = next(a for a in obs.space.interaction_actions if "Remember" in a.description)
        assert session.execute(type="check", id=remember.id, value=True).success
        assert session.execute(type="scroll_down").success
        assert session.execute(type="press_key", key="Tab").success
        session.execute(type="goto", url=f"{site.url}/forms.html")
        country = next(
            a for a in session.observe().space.interaction_actions if "Country" in a.description
        )
        assert session.execute(
            type="select_dropdown_option", id=country.id, value="Germany"
        ).success
        session.execute(type="goto", url=f"{site.url}/article.html")
        markdown = session.scrape()
        assert "The Lens That Lit the Atlantic" in markdown
        images = session.scrape(only_images=True)
        assert any(getattr(i.category, "value", i.category) == "content_image" for i in images)
        sign = next(a for a in session.observe().space.interaction_actions if a.id.startswith("L"))
        assert session.execute(type="click", id=sign.id).success


def test_links_popups_and_scripts_cannot_reach_other_schemes(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/schemes.html")
    obs = observe(api, session)
    for label in (
        "Local file",
        "Browser internals",
        "View source",
        "Data URL",
        "Local file in a new tab",
        "local file popup",
        "Navigate this page",
    ):
        act(api, session, type="click", id=by_name(obs, label)["id"])
        tabs = observe(api, session)["metadata"]["tabs"]
        assert all(t["url"].startswith(("http://", "https://", "about:blank")) for t in tabs), (
            label,
            tabs,
        )
        assert all("root:" not in (t["title"] or "") for t in tabs)
        if len(tabs) > 1:
            act(api, session, type="switch_tab", tab_index=len(tabs) - 1)
            act(api, session, type="close_tab")
            act(api, session, type="switch_tab", tab_index=0)
        obs = observe(api, session)
    assert observe(api, session)["metadata"]["url"] == f"{site.url}/schemes.html"


def test_form_fill_and_the_other_fill_kinds(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/forms.html")
    filled = act(
        api,
        session,
        type="form_fill",
        value={
            "full_name": "Ada Lovelace",
            "email": "ada@example.com",
            "postal_code": "75001",
            "cc_number": "4111111111111111",
        },
    )
    assert filled["success"], filled["message"]
    assert "full_name" in filled["message"] and "cc_number" in filled["message"]
    obs = observe(api, session)
    comments = by_name(obs, "Comments")
    assert act(api, session, type="fallback_fill", id=comments["id"], value="typed slowly")[
        "success"
    ]
    assert act(
        api, session, type="multi_factor_fill", id=by_name(obs, "Full name")["id"], value="123456"
    )["success"]
    appended = act(
        api, session, type="fill", id=comments["id"], value=" and more", clear_before_fill=False
    )
    assert appended["success"]
    markdown = api.post(f"/sessions/{session}/page/scrape", json={"selector": "#status"}).json()[
        "markdown"
    ]
    assert "typed slowly and more" in markdown
    nothing = act(api, session, type="form_fill", value={"totp": "000000"})
    assert nothing["success"] is False and "totp" in nothing["message"]


def test_evaluate_js_when_the_operator_allows_it(api, site, session, settings):
    settings.PERISCOPE_ALLOW_EVALUATE_JS = True
    act(api, session, type="goto", url=f"{site.url}/login.html")
    result = act(api, session, type="evaluate_js", code="document.title")
    assert (
        result["success"]
        and result["data"]["markdown"] == '"' + observe(api, session)["metadata"]["title"] + '"'
    )


def test_debug_tab_describes_each_tab(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/login.html")
    act(api, session, type="goto_new_tab", url=f"{site.url}/article.html")
    debug = api.get(f"/sessions/{session}/debug").json()
    assert [t["metadata"]["tab_id"] for t in debug["tabs"]] == [0, 1]
    tab = api.get(f"/sessions/{session}/debug/tab", params={"tab_idx": 1}).json()
    assert tab["metadata"]["url"].endswith("/article.html")
    assert tab["ws_url"].partition("?")[0].endswith(f"/cdp/{session}")
    assert api.get(f"/sessions/{session}/debug/tab", params={"tab_idx": 7}).status_code == 404


def test_observe_screenshots_follow_the_page_and_steps_show_each_result(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/login.html")
    login = observe(api, session)
    act(api, session, type="fill", id=by_name(login, "Email")["id"], value="visible@example.com")
    filled = observe(api, session)
    assert filled["screenshot"]["raw"] != login["screenshot"]["raw"]
    act(api, session, type="goto", url=f"{site.url}/article.html")
    article = observe(api, session)
    assert article["screenshot"]["raw"] not in (
        login["screenshot"]["raw"],
        filled["screenshot"]["raw"],
    )
    images = wait_until(
        lambda: (
            len(s := list(Step.objects.filter(session_id=session).order_by("index"))) == 3 and s
        ),
        timeout=5,
    )
    pictures = [step.screenshot.read() for step in images]
    assert len(set(pictures)) == 3


def test_dialog_controls_get_their_own_block(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/dialog.html")
    description = observe(api, session)["space"]["description"]
    block = description.index("### Content of 'dialog' component Cookie consent")
    assert description.index("Accept all") > block > description.index("Read the article")


def test_a_capped_observe_keeps_the_page_controls_before_a_long_sidebar(api, site, session):
    act(api, session, type="goto", url=f"{site.url}/docs.html")
    observation = observe(
        api, session, max_nb_actions=100
    )  # the SDK default: 100 of the page's 193
    actions = observation["space"]["interaction_actions"]
    assert len(actions) == 100
    names = {a["description"] for a in actions}
    for control in (
        'aria-label="Change theme"',
        'aria-label="Search"',
        'placeholder="Search this book"',
    ):
        assert any(control in name for name in names), control
    description = observation["space"]["description"]
    listed = [
        line.split("[:]", 1)[0]
        for line in description.splitlines()
        if not line.startswith(("_", "#"))
    ]
    assert listed == [a["id"] for a in actions]  # the description lists exactly what is returned
    assert "93 more actions on this page are not listed" in description
    whole = observe(api, session, max_nb_actions=1000)["space"]
    assert len(whole["interaction_actions"]) == 193 and "not listed" not in whole["description"]
    ids = [a["id"] for a in actions]
    assert ids == [
        a["id"] for a in whole["interaction_actions"] if a["id"] in set(ids)
    ]  # document order
