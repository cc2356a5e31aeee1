"""The CDP endpoint's rules as pure functions: target filters, and what a client may send."""

import pytest

from browser.cdp_policy import (
    Refused,
    check_everywhere,
    check_in_session,
    checked_filter,
    filter_matches,
)

MINE = "A" * 32


@pytest.mark.parametrize(
    ("target_filter", "kind", "expected"),
    [
        (None, "page", True),  # Chromium's default: everything but browser and tab targets
        (None, "tab", False),
        (None, "browser", False),
        ([{}], "tab", True),
        ([{"type": "page", "exclude": True}, {}], "page", False),  # Puppeteer's root auto-attach
        ([{"type": "page", "exclude": True}, {}], "tab", True),
        ([{"type": "page"}], "service_worker", False),  # no entry matches: excluded
        ([], "page", False),
    ],
)
def test_target_filters_match_as_chromium_does(target_filter, kind, expected):
    assert filter_matches(target_filter, kind) is expected


@pytest.mark.parametrize("bad", ["page", [1], [{"type": 3}], [{"exclude": "yes"}]])
def test_a_malformed_filter_is_refused_naming_the_method(bad):
    with pytest.raises(Refused, match=r"^Target\.setAutoAttach is refused.*filter"):
        checked_filter("Target.setAutoAttach", bad)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("Page.navigate", {"url": "file:///etc/passwd"}),
        ("Page.navigate", {"url": "chrome://settings"}),
        ("Page.navigate", {"url": " FILE:///etc/passwd"}),
        ("Page.navigate", {"url": 42}),
        ("Network.loadNetworkResource", {"url": "file:///etc/passwd"}),
        ("Storage.getCookies", {"browserContextId": "B" * 32}),
        ("Tracing.start", {}),
        ("SystemInfo.getInfo", {}),
        ("Extensions.loadUnpacked", {"path": "/tmp"}),
        ("DOM.setFileInputFiles", {"files": ["/etc/passwd"]}),
        ("Target.sendMessageToTarget", {"message": "{}"}),
        ("Target.exposeDevToolsProtocol", {"targetId": "x"}),
    ],
)
def test_inside_a_page_what_reaches_beyond_the_session_is_refused(method, params):
    with pytest.raises(Refused) as refused:
        check_in_session(method, params, MINE)
    assert str(refused.value).startswith(f"{method} is refused by this session's CDP endpoint: ")


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("Page.navigate", {"url": "https://example.com/"}),
        ("Page.navigate", {"url": "about:blank"}),
        ("Runtime.evaluate", {"expression": "1"}),
        ("Storage.getCookies", {"browserContextId": MINE}),
        ("Network.loadNetworkResource", {"url": "http://example.com/app.js"}),
        ("Input.dispatchMouseEvent", {"type": "mousePressed", "x": 1, "y": 1}),
    ],
)
def test_inside_a_page_its_own_business_passes(method, params):
    check_in_session(method, params, MINE)


def test_new_targets_obey_the_url_policy_and_default_to_a_blank_page():
    check_everywhere("Target.createTarget", {"url": ""}, MINE)
    check_everywhere("Target.createTarget", {}, MINE)
    with pytest.raises(
        Refused, match=r"^Target\.createTarget is refused.*javascript: URLs cannot be opened"
    ):
        check_everywhere("Target.createTarget", {"url": "javascript:alert(1)"}, MINE)
