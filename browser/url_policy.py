"""Which URLs a session may open, and which hosts its traffic may reach.

Pure functions and values, no I/O: the egress proxy (egress.py) resolves names and calls
EgressPolicy.refusal with the addresses it is about to connect to.
"""

import ipaddress
import re
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# The WHATWG URL parser drops these before parsing, so "\tfile:..." is still a file: URL.
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


# -- navigation --------------------------------------------------------------------------------


def navigation_refusal(url: str) -> str | None:
    """None when goto/new tab may open `url` (http, https, "about:blank"), else the reason."""
    if not isinstance(url, str):
        return "not a valid URL"
    cleaned = url.strip(_C0_OR_SPACE).translate(_TAB_OR_NEWLINE)
    if cleaned.lower() == "about:blank":
        return None
    match = _SCHEME.match(cleaned)
    if not match:
        return f"not a valid URL: {_shorten(url)!r}; use an http(s) URL"
    scheme = match.group(1).lower()
    if scheme not in ALLOWED_SCHEMES:
        return f"{scheme}: URLs cannot be opened in a session; use an http(s) URL"
    try:
        split_target(cleaned)
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    return None


def split_target(url: str) -> tuple[str, int]:
    """(host, port) of an http/https/ws/wss URL: host lower-case, IPv6 without brackets.

    Raises ValueError for anything else, including URLs whose host a browser would reject.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{_shorten(url)!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"{_shorten(url)!r} is not an http(s) or ws(s) URL")
    host = parts.hostname or ""
    check_host(host)
    return host, port or DEFAULT_PORTS[scheme]


def check_host(host: str) -> None:
    """Raise ValueError unless `host` (lower-case, no brackets) is an IP literal or a DNS name."""
    if not host:
        raise ValueError("the URL has no host")
    if parse_ip_literal(host) is not None:
        return
    name = host.removesuffix(".")
    if _ends_in_number(name):
        raise ValueError(f"{host!r} is neither an IP address nor a host name")
    if len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in name.split(".")):
        raise ValueError(f"{_shorten(host)!r} is not a valid host name")


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a browser reads in `host`, or None for a name.

    IPv4 accepts every form the URL standard does, as Chromium and inet_aton do:
    2130706433, 0x7f000001, 0177.0.0.1, 127.1.
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()
    numbers = [_ipv4_number(p) for p in parts]
    if not parts or len(parts) > 4 or None in numbers:
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):  # type: ignore[operator]
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))  # type: ignore[operator]
    return ipaddress.IPv4Address(value)


def static_addresses(host: str) -> list[str] | None:
    """Addresses known without DNS: an IP literal, or localhost / *.localhost (RFC 6761, and
    Chromium resolves them to loopback itself). None when the name needs a DNS lookup."""
    ip = parse_ip_literal(host)
    if ip is not None:
        return [str(ip)]
    name = host.lower().removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return ["127.0.0.1", "::1"]
    return None


def _ipv4_number(part: str) -> int | None:
    try:
        if part[:2] in ("0x", "0X"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def _ends_in_number(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.isdigit() or (
        last[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in last[2:])
    )


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- egress -------------------------------------------------------------------------------------


def address_refusal(address: str | IPAddress) -> str | None:
    """None for a public unicast address; else what it is ("loopback", "private", ...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return "not an IP address"
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        reason = address_refusal(embedded)
        return f"{reason} (embedded {embedded})" if reason else None
    for label, test in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("non-global", not ip.is_global),  # 100.64/10 shared address space, documentation...
    ):
        if test:
            return label
    return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside IPv4-mapped, -translated, -compatible and NAT64 IPv6 forms."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    high = int(ip) >> 32
    # ::a.b.c.d (compatible), ::ffff:0:a.b.c.d (translated), 64:ff9b::a.b.c.d (NAT64)
    if (high in (0, 0xFFFF0000) and int(ip) > 1) or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


class EgressPolicy:
    """Public addresses are reachable; anything else only through the allow-list.

    Allow-list entries: a host name ("minio.internal", any port), host:port
    ("127.0.0.1:8001", "[::1]:8001"), an IP (any port) or a CIDR ("10.1.0.0/16").
    A host name entry matches the host as requested, case-insensitively.
    """

    def __init__(self, allow: list[str] | tuple[str, ...] = ()):
        self._names: set[tuple[str, int | None]] = set()
        self._networks: list[tuple[IPNetwork, int | None]] = []
        for entry in allow:
            kind, value, port = _parse_entry(entry)
            if kind == "name":
                self._names.add((value, port))  # type: ignore[arg-type]
            else:
                self._networks.append((value, port))  # type: ignore[arg-type]

    def refusal(self, host: str, port: int, addresses: list[str]) -> str | None:
        """None when a connection to `host`:`port` at every one of `addresses` is allowed."""
        host = host.lower().removeprefix("[").removesuffix("]").removesuffix(".")
        if (host, None) in self._names or (host, port) in self._names:
            return None
        if not addresses:
            return f"{host} did not resolve to any address"
        for address in addresses:
            reason = address_refusal(address)
            if reason and not self._network_allows(address, port):
                shown = host if host == address else f"{host} ({address})"
                return f"egress to {shown} refused: {reason} address"
        return None

    def _network_allows(self, address: str, port: int) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in net and allowed in (None, port) for net, allowed in self._networks)


def parse_allow_list(text: str) -> list[str]:
    """PERISCOPE_EGRESS_ALLOW: comma-separated entries; ValueError names the first bad one."""
    entries = [e.strip() for e in (text or "").split(",") if e.strip()]
    for entry in entries:
        _parse_entry(entry)
    return entries


def _parse_entry(entry: str) -> tuple[str, object, int | None]:
    """("name", host, port|None) or ("net", network, port|None); ValueError for junk."""
    text = entry.strip().lower()

    def bad(why: str) -> ValueError:
        return ValueError(
            f"PERISCOPE_EGRESS_ALLOW entry {entry!r}: {why} "
            "(expected host, host:port, IP, [IPv6]:port or CIDR such as 10.1.0.0/16)"
        )

    if not text:
        raise bad("empty")
    if "://" in text:
        raise bad("write the host without a scheme")
    if "/" in text:
        try:
            return "net", ipaddress.ip_network(text, strict=False), None
        except ValueError as exc:
            raise bad(str(exc)) from None
    port: int | None = None
    host = text
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise bad("unbalanced brackets")
        port = _parse_port(rest[1:], bad) if rest else None
    elif text.count(":") == 1:
        host, _, raw_port = text.partition(":")
        port = _parse_port(raw_port, bad)
    ip = parse_ip_literal(host)
    if ip is not None:
        return "net", ipaddress.ip_network(ip), port
    if ":" in host or text.startswith("["):
        raise bad("brackets are for IPv6 addresses; with a port write [::1]:8001")
    try:
        check_host(host)
    except ValueError as exc:
        raise bad(str(exc)) from None
    return "name", host.removesuffix("."), port


def _parse_port(text: str, bad) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise bad(f"port {text!r} is not a number from 1 to 65535")
    return int(text)
