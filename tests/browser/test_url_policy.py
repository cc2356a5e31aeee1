"""URL policy: pure functions, no network, no Django."""

import pytest

from browser.url_policy import (
    EgressPolicy,
    address_refusal,
    navigation_refusal,
    parse_allow_list,
    parse_ip_literal,
    split_target,
    static_addresses,
)

# -- which URLs goto / new tab may open -----------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://example.com/", "https://example.com/a?b=c#d", "HTTPS://EXAMPLE.COM", "about:blank"],
)
def test_http_https_and_about_blank_may_be_opened(url):
    assert navigation_refusal(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file:%2F%2F/etc/passwd",
        "\tfile:///etc/passwd",
        " file:///etc/passwd",
        "fi\nle:///etc/passwd",
        "chrome://version",
        "chrome-extension://abc/x.html",
        "devtools://devtools/bundled/inspector.html",
        "view-source:file:///etc/hostname",
        "VIEW-SOURCE:https://example.com/",
        "data:text/html,<h1>x</h1>",
        "blob:https://example.com/uuid",
        "filesystem:https://example.com/temporary/x",
        "javascript:alert(1)",
        "about:config",
        "about:blank#x",
        "ftp://example.com/",
        "ws://example.com/",
    ],
)
def test_other_schemes_are_refused_with_a_clear_message(url):
    refusal = navigation_refusal(url)
    assert refusal is not None
    assert "use an http(s) URL" in refusal


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "not a url",
        "http://",
        "http://[::1/",
        "http://exa mple.com/",
        "http://h:99999/",
        "http://1.2.3.4.5/",
        "http://example.123/",
        "//example.com/",
        "http://ex%41mple.com/",
    ],
)
def test_unparseable_urls_are_refused(url):
    assert navigation_refusal(url) is not None


def test_the_message_names_the_scheme():
    assert navigation_refusal("file:///etc/passwd") == (
        "file: URLs cannot be opened in a session; use an http(s) URL"
    )


# -- egress: addresses and the known SSRF bypass vectors ------------------------------

VECTORS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://localhost/",
    "http://LOCALHOST:3000/",
    "http://app.localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://2852039166/",
    "http://0xA9FEA9FE/",
    "http://0251.0376.0251.0376/",
    "http://172.16.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://example.com@127.0.0.1/",
    "https://user:pw@169.254.169.254:8443/",
    "ws://127.0.0.1:9222/devtools/browser",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[ff02::1]/",
    "http://[fec0::1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[::ffff:0:7f00:1]/",
    "http://[::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[fe80::1%25eth0]/",
]


def decide(url: str, policy: EgressPolicy | None = None) -> str | None:
    """What the proxy decides for a URL whose host needs no DNS lookup."""
    try:
        host, port = split_target(url)
    except ValueError as exc:
        return f"unparseable: {exc}"
    addresses = static_addresses(host)
    assert addresses is not None, f"{host} would need DNS; vectors must not"
    return (policy or EgressPolicy()).refusal(host, port, addresses)


@pytest.mark.parametrize("url", VECTORS)
def test_ssrf_vectors_are_refused(url):
    assert decide(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/",
        "http://exa mple/",
        "http://:80/",
        "http://h:0x50/",
        "http://[zz::1]/",
        "http://1.2.3.4.5/",
        "http://foo.0x10/",
        "http://%31%32%37.0.0.1/",
        "gopher://127.0.0.1/",
    ],
)
def test_unparseable_targets_fail_closed(url):
    with pytest.raises(ValueError):
        split_target(url)


def test_userinfo_is_not_mistaken_for_the_host():
    assert split_target("http://example.com@127.0.0.1/") == ("127.0.0.1", 80)
    assert split_target("http://127.0.0.1:80@example.com/") == ("example.com", 80)


@pytest.mark.parametrize(
    ("literal", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("2852039166", "169.254.169.254"),
        ("0xA9FEA9FE", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("169.254.169.254.", "169.254.169.254"),
        ("[::ffff:a9fe:a9fe]", "::ffff:169.254.169.254"),
    ],
)
def test_ip_literals_are_read_the_way_browsers_read_them(literal, address):
    assert str(parse_ip_literal(literal)) == address


@pytest.mark.parametrize("name", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x1g", "08.0.0.1"])
def test_names_and_invalid_numbers_are_not_addresses(name):
    assert parse_ip_literal(name) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-global"),
        ("224.0.0.251", "multicast"),
        ("::ffff:127.0.0.1", "loopback (embedded 127.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "link-local (embedded 169.254.169.254)"),
    ],
)
def test_address_refusal_names_the_kind_of_address(address, reason):
    assert address_refusal(address) == reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address):
    assert address_refusal(address) is None
    assert EgressPolicy().refusal("example.com", 443, [address]) is None


def test_one_private_address_among_public_ones_refuses_the_host():
    refusal = EgressPolicy().refusal("mixed.test", 443, ["93.184.215.14", "10.0.0.5"])
    assert refusal == "egress to mixed.test (10.0.0.5) refused: private address"


def test_a_name_that_resolves_to_nothing_is_refused():
    assert EgressPolicy().refusal("nothing.test", 80, []) is not None


# -- the allow-list --------------------------------------------------------------------------


def test_allow_list_by_host_name_is_case_insensitive_and_any_port():
    policy = EgressPolicy(["Minio.Internal"])
    assert policy.refusal("minio.internal", 9000, ["10.0.0.7"]) is None
    assert policy.refusal("MINIO.INTERNAL.", 443, ["10.0.0.7"]) is None
    assert policy.refusal("other.internal", 9000, ["10.0.0.7"]) is not None


def test_allow_list_by_host_and_port_allows_that_port_only():
    policy = EgressPolicy(["localhost:3000", "127.0.0.1:8001", "[::1]:8002"])
    assert policy.refusal("localhost", 3000, ["127.0.0.1", "::1"]) is None
    assert policy.refusal("localhost", 3001, ["127.0.0.1", "::1"]) is not None
    assert policy.refusal("127.0.0.1", 8001, ["127.0.0.1"]) is None
    assert policy.refusal("127.0.0.1", 8002, ["127.0.0.1"]) is not None
    assert policy.refusal("::1", 8002, ["::1"]) is None
    # an IP entry is matched by address, so other spellings of it are the same entry
    assert policy.refusal("2130706433", 8001, ["127.0.0.1"]) is None


def test_allow_list_by_cidr_allows_addresses_inside_it():
    policy = EgressPolicy(["10.1.0.0/16", "fd00::/8"])
    assert policy.refusal("db.internal", 5432, ["10.1.2.3"]) is None
    assert policy.refusal("db.internal", 5432, ["10.1.2.3", "10.2.0.1"]) is not None
    assert policy.refusal("v6.internal", 443, ["fd12::1"]) is None
    assert policy.refusal("169.254.169.254", 80, ["169.254.169.254"]) is not None


def test_parse_allow_list_accepts_the_documented_forms():
    text = " example.test, 127.0.0.1:8001,10.1.0.0/16 ,[::1]:8080, ::1, localhost:3000,, "
    assert parse_allow_list(text) == [
        "example.test",
        "127.0.0.1:8001",
        "10.1.0.0/16",
        "[::1]:8080",
        "::1",
        "localhost:3000",
    ]
    assert parse_allow_list("") == []


@pytest.mark.parametrize(
    "entry",
    [
        "http://example.test",
        "exa mple.test",
        "*.example.test",
        "example.test:0",
        "example.test:http",
        "10.0.0.0/33",
        "[::1",
        "[example.test]:80",
        "host:80:90",
        "a/b",
    ],
)
def test_parse_allow_list_rejects_junk_with_a_clear_message(entry):
    with pytest.raises(ValueError, match="PERISCOPE_EGRESS_ALLOW entry"):
        parse_allow_list(f"example.test,{entry}")
