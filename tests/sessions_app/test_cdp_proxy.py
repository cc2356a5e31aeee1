"""CDP attach through the real ASGI app, worker and Chromium: Playwright (in a process of its
own), Puppeteer (Node), notte-sdk's session.page and raw CDP clients attached through /cdp/<id>."""

import hashlib
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core import signing
from django.utils import timezone
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from sessions_app.cdp_access import SALT
from sessions_app.consumers import RECHECK_SECONDS
from sessions_app.models import BrowserSession, SessionEvent
from teams_app.models import ApiKey, AuditAction, AuditEvent, Scope
from teams_app.services import api_key_create, team_create
from tests.conftest import Api

from .cdp_driver import CdpDriver, DriverError
from .cdp_raw import CdpError, RawCdp
from .helpers import start, wait_until
from .live_client import console_socket

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
PUPPETEER = ROOT / "tests" / "support" / "puppeteer"


@pytest.fixture
def driver():
    client = CdpDriver()
    yield client
    client.close()


def act(api, session_id: str, **action) -> dict:
    result = api.post(f"/sessions/{session_id}/page/execute", json=action).json()
    assert result["success"], result
    return result


def observe_text(api, session_id: str) -> str:
    return json.dumps(api.post(f"/sessions/{session_id}/page/observe", json={}).json())


def tab_urls(api, session_id: str) -> list[str]:
    return [t["metadata"]["url"] for t in api.get(f"/sessions/{session_id}/debug").json()["tabs"]]


def target_of(live, session_id: str) -> tuple[str, str]:
    """(target id, browser context id) of the session's current page, as the worker knows them."""

    async def probe():
        session = live.worker.pool.get(session_id)
        cdp = await session.context.new_cdp_session(session.page)
        info = (await cdp.send("Target.getTargetInfo"))["targetInfo"]
        await cdp.detach()
        return info["targetId"], info["browserContextId"]

    return live.call(probe)


def refused(url: str, headers: dict[str, str] | None = None) -> bool:
    """Whether the handshake is refused (HTTP 403); an accepted one is closed again at once."""
    try:
        connect(url, additional_headers=headers, open_timeout=15).close()
    except InvalidStatus as exc:
        assert exc.response.status_code == 403
        return True
    return False


def page_session(raw: RawCdp, target_id: str) -> str:
    """Auto-attach as Playwright does, and the client session id of the given page."""
    raw.send(
        "Target.setAutoAttach",
        {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": True},
    )
    attached = raw.until(
        lambda m: (
            m.get("method") == "Target.attachedToTarget"
            and m["params"]["targetInfo"]["targetId"] == target_id
        )
    )
    assert attached, "the session's page is attached"
    return attached["params"]["sessionId"]


# -- what a client sees ---------------------------------------------------------------------------


def test_playwright_drives_the_session_and_the_api_sees_it_and_the_reverse(
    api, live, site, owner, driver
):
    session = start(api)
    sid = session["session_id"]
    act(api, sid, type="goto", url=f"{site.url}/controls.html")

    attached = driver("connect", url=session["cdp_url"])
    assert attached["contexts"] == 1
    assert [p["url"] for p in attached["pages"]] == [f"{site.url}/controls.html"]

    # CDP -> API: a click through Playwright shows in the next observe.
    driver("click", selector="#restock-7")
    assert driver("text", selector="#status") == "Restock bin 7"
    assert "Restock bin 7" in observe_text(api, sid)

    # API -> CDP: a value filled through the API is what Playwright reads.
    act(api, sid, type="fill", selector="#qty-3", value="42")
    assert driver("value", selector="#qty-3") == "42"

    # A page the client opens belongs to the session: the API lists it, the live view shows it.
    socket = console_socket(live, f"/ws/sessions/{sid}/", owner)
    socket.until(lambda s: s.event("hello"))
    assert driver("new_page", url=f"{site.url}/article.html") == 1
    assert tab_urls(api, sid) == [f"{site.url}/controls.html", f"{site.url}/article.html"]
    tabs = socket.until(lambda s: (e := s.event("tabs.changed")) and len(e["tabs"]) == 2 and e)
    assert tabs["tabs"][1]["url"] == f"{site.url}/article.html"
    socket.close()

    driver("disconnect")
    assert api.get(f"/sessions/{sid}").json()["status"] == "active"
    act(
        api, sid, type="goto", url=f"{site.url}/login.html"
    )  # the session goes on without its client
    assert "Sign in" in observe_text(api, sid)

    # The detach is recorded once the proxy has seen the socket close and told the worker: on a
    # loaded machine that takes longer than the default wait.
    detached = wait_until(
        lambda: SessionEvent.objects.filter(
            session_id=sid, reason__contains="CDP client detached"
        ).exists(),
        timeout=30,
    )
    assert detached
    reasons = [
        e.reason for e in SessionEvent.objects.filter(session_id=sid, reason__contains="CDP")
    ]
    assert reasons[0].startswith("CDP client attached (API key tests")
    assert (
        reasons[1].startswith("CDP client detached (API key tests") and "disconnected" in reasons[1]
    )
    audit = AuditEvent.objects.filter(
        target=f"session {sid}", action__startswith="session.cdp"
    ).order_by("id")
    assert [(a.action, a.actor_key.name) for a in audit] == [
        (AuditAction.CDP_ATTACHED, "tests"),
        (AuditAction.CDP_DETACHED, "tests"),
    ]


def test_tabs_the_client_closes_leave_the_session_usable(api, live, site, driver):
    session = start(api)
    sid = session["session_id"]
    act(api, sid, type="goto", url=f"{site.url}/login.html")
    act(api, sid, type="goto_new_tab", url=f"{site.url}/article.html")  # now the current tab
    driver("connect", url=session["cdp_url"])
    driver("close_page", page=1)
    assert wait_until(lambda: tab_urls(api, sid) == [f"{site.url}/login.html"])
    assert "Sign in" in observe_text(api, sid)  # the session went on in the tab that was left
    driver("close_page", page=0)  # the last one: the session gets a blank tab
    assert wait_until(lambda: tab_urls(api, sid) == ["about:blank"])
    act(api, sid, type="goto", url=f"{site.url}/controls.html")
    assert "Warehouse controls" in observe_text(api, sid)
    assert [p["url"] for p in driver("pages")["pages"]] == [f"{site.url}/controls.html"]


def test_browser_close_ends_the_connection_and_nothing_else(api, outsider_api, live, site):
    mine, theirs = start(api), start(outsider_api)
    act(api, mine["session_id"], type="goto", url=f"{site.url}/login.html")
    other_client = RawCdp(mine["cdp_url"])
    raw = RawCdp(mine["cdp_url"])
    assert raw.send("Browser.close") == {}
    assert raw.closed()
    assert other_client.send("Browser.getVersion")[
        "product"
    ]  # another client of the same session goes on
    for api_, session in ((api, mine), (outsider_api, theirs)):
        assert api_.get(f"/sessions/{session['session_id']}").json()["status"] == "active"
    assert "Sign in" in observe_text(api, mine["session_id"])
    other_client.close()
    reason = wait_until(
        lambda: SessionEvent.objects.filter(
            session_id=mine["session_id"], reason__contains="Browser.close"
        ).first()
    )
    assert reason is not None


def test_a_client_sees_only_its_own_session_on_a_shared_worker(
    api, outsider_api, live, site, driver
):
    mine, theirs = start(api)["session_id"], start(outsider_api)["session_id"]
    assert {mine, theirs} <= set(live.worker.pool.session_ids())  # one worker, one Chromium
    act(api, mine, type="goto", url=f"{site.url}/login.html")
    act(outsider_api, theirs, type="goto", url=f"{site.url}/article.html")
    act(outsider_api, theirs, type="goto_new_tab", url=f"{site.url}/controls.html")
    for api_, name in ((api, "mine"), (outsider_api, "theirs")):
        api_.post(
            f"/sessions/{mine if name == 'mine' else theirs}/cookies",
            json={
                "cookies": [
                    {
                        "name": name,
                        "value": f"{name}-cookie-value",
                        "domain": "127.0.0.1",
                        "path": "/",
                    }
                ]
            },
        )
    my_target, my_context = target_of(live, mine)
    their_target, their_context = target_of(live, theirs)
    their_tabs = tab_urls(outsider_api, theirs)
    url = api.get(f"/sessions/{mine}").json()["cdp_url"]

    # Playwright: one context, this session's page only.
    seen = driver("connect", url=url)
    assert seen["contexts"] == 1
    assert [p["url"] for p in seen["pages"]] == [f"{site.url}/login.html"]

    raw = RawCdp(url)
    assert raw.send("Target.getBrowserContexts") == {"browserContextIds": []}
    targets = raw.send("Target.getTargets", {"filter": [{}]})["targetInfos"]
    assert {t["browserContextId"] for t in targets} == {my_context}
    assert {t["targetId"] for t in targets if t["type"] == "page"} == {my_target}
    raw.send("Target.setDiscoverTargets", {"discover": True, "filter": [{}]})
    page = page_session(raw, my_target)
    for domain in ("Page", "Network", "Runtime", "Log"):
        raw.send(f"{domain}.enable", session=page)
    inside = raw.send("Target.getTargets", session=page)["targetInfos"]
    assert {t["targetId"] for t in inside} == {my_target}

    escaping = [
        ("Target.attachToTarget", {"targetId": their_target, "flatten": True}, None),
        ("Target.getTargetInfo", {"targetId": their_target}, None),
        ("Target.activateTarget", {"targetId": their_target}, None),
        ("Target.closeTarget", {"targetId": their_target}, None),
        ("Target.createTarget", {"url": "about:blank", "browserContextId": their_context}, None),
        ("Target.createBrowserContext", {}, None),
        ("Target.disposeBrowserContext", {"browserContextId": their_context}, None),
        ("Target.exposeDevToolsProtocol", {"targetId": my_target}, None),
        ("Target.setRemoteLocations", {"locations": [{"host": "127.0.0.1", "port": 9222}]}, None),
        ("Target.sendMessageToTarget", {"message": "{}", "targetId": their_target}, None),
        ("Browser.crash", {}, None),
        ("Browser.getHistograms", {}, None),
        ("Browser.getBrowserCommandLine", {}, None),
        (
            "Browser.grantPermissions",
            {"permissions": ["geolocation"], "browserContextId": their_context},
            None,
        ),
        ("Browser.getWindowForTarget", {"targetId": their_target}, None),
        ("Storage.getCookies", {"browserContextId": their_context}, None),
        ("Storage.clearCookies", {"browserContextId": their_context}, None),
        ("Tracing.start", {}, None),
        ("SystemInfo.getInfo", {}, None),
        ("SystemInfo.getProcessInfo", {}, None),
        # the same from inside the session's own page
        ("Target.getTargetInfo", {"targetId": their_target}, page),
        ("Target.attachToTarget", {"targetId": their_target, "flatten": True}, page),
        ("Target.closeTarget", {"targetId": their_target}, page),
        ("Target.setDiscoverTargets", {"discover": True}, page),
        ("Target.createBrowserContext", {}, page),
        ("Browser.crash", {}, page),
        ("Storage.getCookies", {"browserContextId": their_context}, page),
        ("Tracing.start", {}, page),
        ("SystemInfo.getInfo", {}, page),
        ("DOM.setFileInputFiles", {"files": ["/etc/hostname"], "nodeId": 1}, page),
        (
            "Network.loadNetworkResource",
            {
                "url": "file:///etc/hostname",
                "options": {"disableCache": True, "includeCredentials": False},
            },
            page,
        ),
    ]
    for method, params, session in escaping:
        with pytest.raises(CdpError) as error:
            raw.send(method, params, session=session)
        assert str(error.value).startswith(f"{method} is refused"), (method, str(error.value))

    # What is allowed is this session's alone.
    assert {c["name"] for c in raw.send("Storage.getCookies")["cookies"]} == {"mine"}
    assert {c["name"] for c in raw.send("Network.getCookies", session=page)["cookies"]} == {"mine"}
    assert {c["name"] for c in raw.send("Network.getAllCookies", session=page)["cookies"]} == {
        "mine"
    }
    assert {c["name"] for c in raw.send("Storage.getCookies", session=page)["cookies"]} == {"mine"}
    raw.send("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": site.url})

    # The other session is busy meanwhile: none of it reaches this client (no event ever named
    # it; the only mentions of its ids are this client's own refused commands, quoted back).
    mark = len(raw.texts)
    act(outsider_api, theirs, type="goto", url=f"{site.url}/glossary.html?their-marker")
    act(outsider_api, theirs, type="click", selector="a")
    act(api, mine, type="goto", url=f"{site.url}/article.html?my-marker")
    raw.pump(1.0)
    heard = "\n".join(
        [t for t, m in zip(raw.texts, raw.received, strict=True) if "method" in m]
        + raw.texts[mark:]
    )
    assert "my-marker" in "\n".join(raw.texts[mark:])  # it does hear its own session
    for secret in (their_target, their_context, "their-marker", "theirs-cookie-value", "glossary"):
        assert secret not in heard, secret
    assert {
        m["params"]["targetInfo"]["browserContextId"] for m in raw.events("Target.targetCreated")
    } == {my_context}

    # ... and this client left the other session as it was: its first tab (the target this
    # client tried to close) is there, its second went where its own API calls took it.
    assert their_tabs == [f"{site.url}/article.html", f"{site.url}/controls.html"]
    assert tab_urls(outsider_api, theirs)[0] == f"{site.url}/article.html"
    assert len(tab_urls(outsider_api, theirs)) == 2
    assert {
        c["name"] for c in outsider_api.get(f"/sessions/{theirs}/cookies").json()["cookies"]
    } == {"theirs"}
    raw.close()


def test_the_url_policy_holds_for_cdp_navigations_and_new_targets(api, live, site, driver):
    session = start(api)
    sid = session["session_id"]
    act(api, sid, type="goto", url=f"{site.url}/login.html")
    raw = RawCdp(session["cdp_url"])
    page = page_session(raw, target_of(live, sid)[0])
    for url in (
        "file:///etc/hostname",
        "chrome://version",
        "javascript:alert(1)",
        "data:text/html,hi",
        "view-source:http://127.0.0.1/",
        "devtools://devtools/bundled/inspector.html",
        "\tfile:///etc/passwd",
    ):
        with pytest.raises(
            CdpError, match=r"^Page\.navigate is refused.*(URLs cannot be opened|not a valid URL)"
        ):
            raw.send("Page.navigate", {"url": url}, session=page)
        with pytest.raises(CdpError, match=r"^Target\.createTarget is refused"):
            raw.send("Target.createTarget", {"url": url})
    assert tab_urls(api, sid) == [f"{site.url}/login.html"]
    # http(s) goes through, and a new target lands in the session.
    raw.send("Page.navigate", {"url": f"{site.url}/article.html"}, session=page)
    created = raw.send("Target.createTarget", {"url": f"{site.url}/controls.html"})["targetId"]
    assert wait_until(
        lambda: tab_urls(api, sid) == [f"{site.url}/article.html", f"{site.url}/controls.html"]
    )
    assert created in {t["targetId"] for t in raw.send("Target.getTargets")["targetInfos"]}
    raw.close()
    driver("connect", url=session["cdp_url"])
    with pytest.raises(DriverError, match=r"Page\.navigate is refused"):
        driver("goto", url="file:///etc/hostname")


def test_cdp_traffic_holds_off_the_idle_timeout(api, live, site):
    busy = start(api, idle_timeout_minutes=1)
    quiet = start(api, idle_timeout_minutes=1)
    raw = RawCdp(busy["cdp_url"])
    raw.send("Browser.getVersion")
    live.clock.offset = 50
    raw.send("Target.getTargets")  # activity, at +50 s
    live.clock.offset = 100  # 100 s since the start, 50 s since the last CDP message
    status = wait_until(
        lambda: api.get(f"/sessions/{quiet['session_id']}").json()["status"] != "active", timeout=8
    )
    assert status, "the session nobody used timed out"
    assert api.get(f"/sessions/{quiet['session_id']}").json()["status"] == "timed_out"
    assert api.get(f"/sessions/{busy['session_id']}").json()["status"] == "active"
    live.clock.offset = 200  # now the CDP client has been quiet too long
    assert wait_until(
        lambda: api.get(f"/sessions/{busy['session_id']}").json()["status"] == "timed_out",
        timeout=8,
    )
    assert raw.closed(), "the client's connection ends with its session"


# -- who may attach -------------------------------------------------------------------------------


def test_the_handshake_refuses_every_wrong_credential(
    api, api_key, outsider_api, other_team_key, live, team
):
    session = start(api)
    sid = session["session_id"]
    base = f"ws://127.0.0.1:{live.port}/cdp/{sid}"
    theirs = start(outsider_api)

    assert not refused(session["cdp_url"])  # the signed link from start
    assert not refused(base, {"Authorization": f"Bearer {api_key}"})
    assert not refused(base, {"X-API-Key": api_key})
    assert not refused(f"{base}?token={api_key}")
    assert not refused(f"{base}/", {"Authorization": f"Bearer {api_key}"})

    assert refused(base)  # no credential at all
    assert refused(f"{base}?token=nonsense")
    assert refused(base, {"Authorization": "Bearer nonsense"})
    # another team's key, on this session
    assert refused(base, {"Authorization": f"Bearer {other_team_key}"})
    assert refused(f"{base}?token={other_team_key}")
    # this team's key on another team's session; another session's signed link on this one
    assert refused(
        f"ws://127.0.0.1:{live.port}/cdp/{theirs['session_id']}",
        {"Authorization": f"Bearer {api_key}"},
    )
    their_token = theirs["cdp_url"].partition("?token=")[2]
    assert refused(f"{base}?token={their_token}")
    # unknown and malformed ids
    assert refused(
        f"ws://127.0.0.1:{live.port}/cdp/{uuid.uuid4()}", {"Authorization": f"Bearer {api_key}"}
    )
    assert refused(
        f"ws://127.0.0.1:{live.port}/cdp/not-a-session", {"Authorization": f"Bearer {api_key}"}
    )
    # a viewer link's token is no CDP credential
    viewer_token = session["viewer_url"].rstrip("/").rsplit("/", 1)[1]
    assert refused(f"{base}?token={viewer_token}")
    # an expired link, a forged one
    key = ApiKey.objects.get(team=team, name="tests")
    expired = signing.dumps(
        {"s": sid, "t": str(team.pk), "k": str(key.pk), "e": int(time.time()) - 1},
        salt=SALT,
        compress=True,
    )
    assert refused(f"{base}?token={expired}")
    forged = signing.dumps(
        {"s": sid, "t": str(team.pk), "k": str(key.pk), "e": int(time.time()) + 600},
        salt=SALT,
        key="not-the-server-secret",
        compress=True,
    )
    assert refused(f"{base}?token={forged}")
    # a key without the sessions scope; a revoked key, and the links handed to it
    _, no_sessions = api_key_create(team=team, name="agents only", scopes=[Scope.AGENTS])
    assert refused(base, {"Authorization": f"Bearer {no_sessions}"})
    revoked, revoked_raw = api_key_create(team=team, name="soon revoked")
    with Api(live.api_url, revoked_raw) as revoked_api:
        revoked_link = revoked_api.get(f"/sessions/{sid}").json()["cdp_url"]
    assert not refused(revoked_link)
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    assert refused(revoked_link)
    assert refused(base, {"Authorization": f"Bearer {revoked_raw}"})
    # a closed session
    api.delete(f"/sessions/{sid}/stop")
    assert refused(session["cdp_url"])
    assert refused(base, {"Authorization": f"Bearer {api_key}"})


def test_after_a_vault_fill_only_keys_that_may_reveal_attach(api, api_key, live, team):
    session = start(api)
    sid = session["session_id"]
    base = f"ws://127.0.0.1:{live.port}/cdp/{sid}"
    _, revealer = api_key_create(
        team=team, name="revealer", scopes=[Scope.SESSIONS, Scope.VAULTS_REVEAL]
    )
    stranger_team = team_create(name="Strangers", owner=team.memberships.first().user)
    _, stranger = api_key_create(
        team=stranger_team, name="stranger", scopes=[Scope.SESSIONS, Scope.VAULTS_REVEAL]
    )
    attached_before = RawCdp(
        session["cdp_url"]
    )  # a key without vaults.reveal, attached before the fill
    attached_before.send("Browser.getVersion")

    BrowserSession.objects.filter(pk=sid).update(vault_filled_at=timezone.now())

    assert refused(session["cdp_url"])
    assert refused(base, {"Authorization": f"Bearer {api_key}"})
    assert refused(base, {"Authorization": f"Bearer {stranger}"})
    assert not refused(base, {"Authorization": f"Bearer {revealer}"})
    with Api(live.api_url, revealer) as revealer_api:
        assert not refused(revealer_api.get(f"/sessions/{sid}").json()["cdp_url"])
    assert attached_before.closed(timeout=RECHECK_SECONDS + 5), (
        "a client attached before the fill is let go"
    )
    reason = wait_until(
        lambda: SessionEvent.objects.filter(
            session_id=sid, reason__contains="vaults.reveal"
        ).first()
    )
    assert reason is not None and "detached" in reason.reason


# -- other clients --------------------------------------------------------------------------------


def test_notte_sdk_session_page_drives_the_session(live, api_key, site):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.sessions_app.notte_page_client",
            live.api_url,
            api_key,
            f"{site.url}/article.html",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["title"] == "The Lens That Lit the Atlantic · Harbour Light"
    assert seen["url"] == seen["observed_url"] == f"{site.url}/article.html"
    assert seen["contexts"] == 1
    assert BrowserSession.objects.get(pk=seen["session_id"]).status == "closed"


@pytest.fixture(scope="session")
def puppeteer_dir() -> Path:
    """puppeteer-core from the npm registry, installed once per lockfile under var/cache."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "Node.js and npm are needed (.ci/run installs them)"
    lock = (PUPPETEER / "package-lock.json").read_bytes()
    target = ROOT / "var" / "cache" / f"puppeteer-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not (target / "node_modules" / "puppeteer-core").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(PUPPETEER / name, target / name)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=target,
            check=True,
            capture_output=True,
            timeout=600,
        )
    shutil.copy(PUPPETEER / "session_title.js", target / "session_title.js")
    return target


def test_puppeteer_connects_reads_the_title_and_opens_a_page(api, live, site, puppeteer_dir):
    session = start(api)
    sid = session["session_id"]
    act(api, sid, type="goto", url=f"{site.url}/login.html")
    done = subprocess.run(
        [
            "node",
            str(puppeteer_dir / "session_title.js"),
            session["cdp_url"],
            f"{site.url}/article.html",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "titles": ["Sign in · Harbour Light"],
        "contexts": 1,
        "newTitle": "The Lens That Lit the Atlantic · Harbour Light",
        "pageCount": 2,
        "connected": False,
    }
    assert api.get(f"/sessions/{sid}").json()["status"] == "active"
    assert tab_urls(api, sid) == [f"{site.url}/login.html", f"{site.url}/article.html"]
