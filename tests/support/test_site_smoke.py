"""Smoke tests of the test site itself (tests/support/site.py and tests/site/).

No Django needed: ``pytest tests/support/test_site_smoke.py -p no:django --confcutdir=tests/support``
also works (the confcutdir keeps pytest away from tests/conftest.py, which needs Django).
"""

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from playwright.sync_api import sync_playwright

from tests.support.chromium import chromium_executable
from tests.support.site import EVIL_FILENAME, REPORT_CSV, Target, TestSite

CONTROLS_QUERY = 'button, input, select, textarea, a[href], [role][tabindex="0"]'


@pytest.fixture(scope="module")
def site():
    with TestSite() as site:
        yield site


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_executable(),
            args=["--disable-background-networking", "--no-sandbox", "--disable-gpu"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers.items()), response.read(), response.url


def raw_request(host: str, port: int, method: str, path: str, body: bytes = b"", headers=None):
    """One request without following redirects: (status, headers, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


PAGES = [
    ("/", "Periscope test site"),
    ("/index.html", 'href="/controls.html"'),
    ("/login.html", 'aria-label="Show password"'),
    ("/forgot-password.html", "Send reset link"),
    ("/account.html", "Welcome back"),
    ("/article.html", "The Lens That Lit the Atlantic"),
    ("/glossary.html", 'id="fresnel-lens"'),
    ("/controls.html", "Restock bin 50"),
    ("/frames.html", 'id="frame-cross"'),
    ("/frame-same.html", "Frame submit"),
    ("/frame-cross.html", "Cross go"),
    ("/shadow.html", "Shadow search"),
    ("/spa.html", "history.pushState"),
    ("/forms.html", 'autocomplete="cc-number"'),
    ("/redirect.html", "/redirect-chain?n=3"),
    ("/popup.html", "window.open"),
    ("/css/site.css", ".controls-grid"),
    ("/img/favicon.svg", "<svg"),
    ("/img/hero.png", "PNG"),
    ("/favicon.ico", ""),
]


@pytest.mark.parametrize(("path", "needle"), PAGES)
def test_pages_are_served(site, path, needle):
    status, headers, body, _ = fetch(site.url + path)
    assert status == 200
    assert needle.encode() in body
    assert headers["Cache-Control"] == "no-store"
    assert path in site.hits


def test_alt_url_is_the_same_server(site):
    assert site.alt_url == f"http://localhost:{site.port}"
    status, _, body, _ = fetch(site.alt_url + "/frame-cross.html")
    assert status == 200 and b"Cross email" in body
    assert site.requests[-1]["host"] == f"localhost:{site.port}"


def test_article_shape(site):
    _, _, body, _ = fetch(site.url + "/article.html")
    html = body.decode()
    assert len(body) > 30_000
    assert html.count("<img ") == 6 and 'alt=""' in html
    assert "HIDDEN-TEXT" in html and "INVISIBLE-TEXT" in html
    assert html.count("<a ") > 130
    for tag in ("<main", "<article", "<table", "<blockquote", "<pre><code>", "<figcaption>", "<h3"):
        assert tag in html


def test_unknown_path_is_404_and_counted(site):
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(site.url + "/nope.html")
    assert err.value.code == 404
    assert site.count("/nope.html") == 1


def test_redirect_chain_hops(site):
    site.reset()
    status, _, body, final_url = fetch(site.url + "/redirect-chain?n=3")
    assert status == 200 and final_url == site.url + "/article.html"
    assert b"The Lens That Lit the Atlantic" in body
    assert site.hits == [
        "/redirect-chain?n=3",
        "/redirect-chain?n=2",
        "/redirect-chain?n=1",
        "/article.html",
    ]


def test_redirect_to(site):
    status, headers, _ = raw_request("127.0.0.1", site.port, "GET", "/redirect?to=/article.html")
    assert status == 302 and dict(headers)["Location"] == "/article.html"
    elsewhere = "http://127.0.0.2:9/x"
    status, headers, _ = raw_request(
        "127.0.0.1", site.port, "GET", "/redirect?to=" + urllib.parse.quote(elsewhere, safe="")
    )
    assert status == 302 and dict(headers)["Location"] == elsewhere


def test_downloads(site):
    status, headers, body, _ = fetch(site.url + "/download/report.csv")
    assert status == 200 and body == REPORT_CSV
    assert headers["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert headers["Content-Type"].startswith("text/csv")
    status, headers, body, _ = fetch(site.url + "/download/evil")
    assert status == 200 and body
    assert headers["Content-Disposition"] == f'attachment; filename="{EVIL_FILENAME}"'
    assert EVIL_FILENAME == "../../../etc/cron.d/evil.sh"


def test_upload_records_files(site):
    site.uploads.clear()
    boundary = uuid.uuid4().hex
    payload = b"col1,col2\r\n1,2\r\n" * 10
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="description"\r\n\r\n'
            "quarterly numbers\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="attachment"; filename="numbers.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, html, _ = fetch(
        site.url + "/upload",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 200
    assert site.uploads == [
        {"field": "attachment", "filename": "numbers.csv", "size": len(payload)}
    ]
    assert b"numbers.csv" in html and f">{len(payload)}<".encode() in html


def test_login_sets_cookie_and_redirects(site):
    body = urllib.parse.urlencode({"email": "ada@example.com", "password": "hunter2"}).encode()
    status, headers, _ = raw_request(
        "127.0.0.1",
        site.port,
        "POST",
        "/login",
        body,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    headers = dict(headers)
    assert status == 302 and headers["Location"] == "/account.html"
    assert headers["Set-Cookie"].startswith("session=ok;")
    assert site.logins[-1] == {"email": "ada@example.com", "password": "hunter2"}


def test_echo_returns_headers(site):
    status, headers, body, _ = fetch(site.url + "/echo", headers={"X-Periscope-Test": "yes"})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["X-Periscope-Test"] == "yes"


def test_target_counts_hits_on_another_loopback_address():
    with Target("127.0.0.2") as target:
        assert target.url == f"http://127.0.0.2:{target.port}"
        assert target.hits == []
        status, _, body, _ = fetch(target.url + "/anything?x=1")
        assert status == 200 and body == b"secret"
        assert target.hits == ["/anything?x=1"]

        # A WebSocket upgrade attempt is counted (and answered with a 101 handshake).
        with socket.create_connection(("127.0.0.2", target.port), timeout=5) as sock:
            sock.sendall(
                b"GET /ws HTTP/1.1\r\nHost: 127.0.0.2\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            reply = sock.recv(1024)
        assert reply.startswith(b"HTTP/1.1 101")
        assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in reply
        assert target.ws_hits == ["/ws"]
        assert target.hits == ["/anything?x=1", "/ws"]
        port = target.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", port), timeout=2).close()


def test_target_on_ipv6_loopback():
    with Target("::1") as target:
        assert target.url == f"http://[::1]:{target.port}"
        assert fetch(target.url + "/")[2] == b"secret"
        assert target.hits == ["/"]


def test_site_closes_its_port():
    with TestSite() as site:
        port = site.port
        assert fetch(site.url + "/index.html")[0] == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# -- in a real Chromium --------------------------------------------------------------------------


def test_controls_page_has_exactly_200_controls(site, page):
    page.goto(site.url + "/controls.html")
    counts = page.evaluate(
        """(query) => ({
            total: document.querySelectorAll(query).length,
            focusable: Array.from(document.querySelectorAll('*')).filter((el) => el.tabIndex >= 0).length,
            buttons: document.querySelectorAll('button').length,
            text: document.querySelectorAll('input[type=text]').length,
            checkboxes: document.querySelectorAll('input[type=checkbox]').length,
            radios: document.querySelectorAll('input[type=radio]').length,
            links: document.querySelectorAll('a[href]').length,
            selects: document.querySelectorAll('select').length,
            textareas: document.querySelectorAll('textarea').length,
            widgets: document.querySelectorAll('[role][tabindex="0"]').length,
        })""",
        CONTROLS_QUERY,
    )
    assert counts == {
        "total": 200,
        "focusable": 200,
        "buttons": 50,
        "text": 50,
        "checkboxes": 30,
        "radios": 20,
        "links": 20,
        "selects": 10,
        "textareas": 10,
        "widgets": 10,
    }
    page.get_by_role("button", name="Restock bin 7", exact=True).click()
    assert page.locator("#status").text_content() == "Restock bin 7"
    page.get_by_role("switch", name="Night mode").click()
    assert page.locator("#status").text_content() == "Night mode"
    assert page.get_by_role("switch", name="Night mode").get_attribute("aria-checked") == "true"


def test_frames_page_loads_both_iframes(site, page):
    page.goto(site.url + "/frames.html?alt=" + urllib.parse.quote(site.alt_url, safe=""))
    page.frame_locator("#frame-cross").get_by_role("button", name="Cross go").wait_for()
    page.frame_locator("#frame-same").get_by_role("button", name="Frame submit").wait_for()
    by_host = {urllib.parse.urlsplit(f.url).hostname: f for f in page.frames[1:]}
    assert set(by_host) == {"127.0.0.1", "localhost"}
    assert by_host["localhost"].url == site.alt_url + "/frame-cross.html"
    assert by_host["127.0.0.1"].url == site.url + "/frame-same.html"
    boxes = [page.locator(sel).bounding_box() for sel in ("#frame-same", "#frame-cross")]
    assert all(box and box["width"] > 400 and box["height"] > 200 for box in boxes)

    cross = page.frame_locator("#frame-cross")
    cross.get_by_label("Cross email").fill("ada@example.com")
    cross.get_by_role("button", name="Cross go").click()
    page.wait_for_function(
        "document.querySelector('#status').textContent === 'cross: ada@example.com'"
    )

    # Without ?alt the cross-origin frame is the same server under its other name.
    page.goto(site.url + "/frames.html")
    page.frame_locator("#frame-cross").get_by_role("button", name="Cross go").wait_for()
    assert any(f.url == site.alt_url + "/frame-cross.html" for f in page.frames)


def test_shadow_spa_forms_and_login_work(site, page):
    page.goto(site.url + "/shadow.html")
    page.get_by_label("Shadow search").fill("lighthouse")
    page.get_by_role("button", name="Shadow go").click()
    assert page.locator("#status").text_content() == "lighthouse"
    assert page.evaluate("document.querySelector('#closed-host').shadowRoot") is None

    page.goto(site.url + "/spa.html")
    hits_before = site.count("/spa.html")
    assert page.locator("#count").text_content() == "5"
    page.get_by_label("New item").fill("Figs")
    page.get_by_role("button", name="Add item").click()
    assert page.locator("#count").text_content() == "6"
    page.get_by_role("button", name="Delete").first.click()
    assert page.locator("#count").text_content() == "5"
    assert page.locator(".item-name").all_text_contents() == [
        "Bread",
        "Coffee",
        "Dates",
        "Eggs",
        "Figs",
    ]
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="Settings").wait_for()
    assert page.url == site.url + "/spa.html?view=settings"
    page.go_back()
    page.get_by_role("heading", name="Home").wait_for()
    assert site.count("/spa.html") == hits_before  # no reload

    page.goto(site.url + "/forms.html")
    page.get_by_label("Country", exact=True).select_option(label="Japan")
    assert page.locator("#status").text_content() == "country: Japan"
    page.get_by_label("Accept terms").check()
    assert page.locator("#status").text_content() == "terms: checked"
    page.get_by_label("Notes").fill("call first")
    assert page.locator("#status").text_content() == "notes: call first"
    site.uploads.clear()
    page.get_by_label("Attachment").set_input_files(
        {"name": "hello.txt", "mimeType": "text/plain", "buffer": b"hello world"}
    )
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Upload received").wait_for()
    assert site.uploads == [{"field": "attachment", "filename": "hello.txt", "size": 11}]

    page.goto(site.url + "/login.html")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("hunter2")
    page.get_by_role("button", name="Show password").click()
    assert page.locator("#password").get_attribute("type") == "text"
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url + "/account.html")
    assert page.get_by_text("Signed in").is_visible()
    assert page.locator("#session-state").text_content() == "present"
