"""What a session start request turns into, or why it is refused: pure logic, no server."""

import pydantic
import pytest

from core.errors import InvalidInput
from sessions_app.schemas import SessionStartRequest
from sessions_app.start_options import build_start_options


def options_for(body: dict):
    return build_start_options(SessionStartRequest.model_validate(body).model_dump())


def refusal(body: dict) -> str:
    """The message a client gets: validation errors name their field first, as the API does."""
    try:
        options_for(body)
    except pydantic.ValidationError as exc:
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    except InvalidInput as exc:
        return exc.message
    raise AssertionError(f"{body} was accepted")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"idle_timeout_minutes": 0}, "idle_timeout_minutes"),
        ({"idle_timeout_minutes": 16}, "idle_timeout_minutes"),
        ({"timeout_minutes": 30}, "timeout_minutes"),
        ({"max_duration_minutes": 1441}, "max_duration_minutes"),
        ({"idle_timeout_minutes": 10, "max_duration_minutes": 5}, "idle_timeout_minutes"),
        ({"viewport_width": 1024}, "viewport_height"),
        ({"viewport_width": 50, "viewport_height": 600}, "viewport_width"),
        ({"aspect_ratio": "16:9", "viewport_width": 800, "viewport_height": 600}, "aspect_ratio"),
        ({"browser_type": "firefox"}, "browser_type"),
        ({"browser_type": "netscape"}, "browser_type"),
        ({"solve_captchas": True}, "solve_captchas"),
        ({"proxies": True}, "proxies"),
        ({"proxies": [{"type": "external", "server": "http://127.0.0.1:3128"}]}, "proxies"),
        ({"cdp_url": "wss://example.com/devtools"}, "cdp_url"),
        ({"chrome_args": ["--disable-web-security"]}, "chrome_args"),
        ({"chrome_args": ["--renderer-cmd-prefix=/tmp/x.sh"]}, "chrome_args"),
        ({"chrome_args": ["--remote-debugging-port=9333"]}, "chrome_args"),
        ({"chrome_args": ["--window-size=9999,9999"]}, "chrome_args"),
        ({"chrome_args": ["--window-size=100,100"]}, "chrome_args"),
        ({"chrome_args": ["--force-device-scale-factor=9.99"]}, "chrome_args"),
        ({"chrome_args": ["--force-device-scale-factor=0.1"]}, "chrome_args"),
        ({"chrome_args": ["--lang=en;rm -rf"]}, "chrome_args"),
        ({"extra_http_headers": {"Host": "evil.example"}}, "extra_http_headers"),
        ({"extra_http_headers": {"Proxy-Authorization": "x"}}, "extra_http_headers"),
        ({"extra_http_headers": {"X-A": "a\r\nInjected: 1"}}, "extra_http_headers"),
        ({"user_agent": "Agent\x00Smith"}, "user_agent"),
        ({"user_agent": "Agent\nSmith"}, "user_agent"),
        ({"profile": {"id": "p1", "persist": True}}, "profile"),
    ],
)
def test_a_refused_start_names_the_field(body, field):
    assert field in refusal(body)


def test_disabled_settings_are_named(settings):
    assert "PERISCOPE_ALLOW_CDP_URL" in refusal({"cdp_url": "wss://example.com/devtools"})
    assert "PERISCOPE_ALLOW_EXTERNAL_PROXIES" in refusal(
        {"proxies": [{"type": "external", "server": "http://p:1"}]}
    )
    settings.PERISCOPE_ALLOW_EXTERNAL_PROXIES = True
    assert "server must look like" in refusal(
        {"proxies": [{"type": "external", "server": "file:///etc/passwd"}]}
    )


def test_the_defaults_are_notte_s():
    options = options_for({})
    assert (options.viewport_width, options.viewport_height) == (1280, 1080)
    assert (options.idle_timeout_minutes, options.max_duration_minutes) == (3, 15)
    assert options.headless and options.proxy is None and options.chrome_args == []


def test_allowed_chrome_args_become_context_options():
    options = options_for(
        {"chrome_args": ["--lang=de-DE", "--window-size=1024,700", "--force-device-scale-factor=2"]}
    )
    assert options.locale == "de-DE"
    assert (options.viewport_width, options.viewport_height) == (1024, 700)
    assert options.device_scale_factor == 2.0


def test_the_deprecated_timeout_minutes_is_the_idle_timeout_within_its_cap():
    assert options_for({"timeout_minutes": 7}).idle_timeout_minutes == 7
    assert options_for({"timeout_minutes": 7, "idle_timeout_minutes": 4}).idle_timeout_minutes == 4


def test_aspect_ratio_picks_a_viewport():
    options = options_for({"aspect_ratio": "5:4"})
    assert (options.viewport_width, options.viewport_height) == (1280, 1024)


def test_the_browser_spec_carries_only_plain_data():
    import json

    spec = options_for({"user_agent": "Agent", "extra_http_headers": {"X-Team": "a"}}).browser_spec(
        "s1"
    )
    assert json.loads(json.dumps(spec)) == spec
    assert spec["session_id"] == "s1" and spec["user_agent"] == "Agent"
