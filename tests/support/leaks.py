"""Leak scanner: is a secret anywhere in this text or these bytes, in any usual disguise?

The forms looked for: raw, URL-encoded (quote and quote_plus, upper- and lower-case escapes),
JSON-escaped, HTML-escaped, base64 (standard and URL-safe, at each of the three byte
alignments, so a secret in the middle of a larger encoded blob is found too) and hex.

    from tests.support.leaks import assert_no_leak, find_leaks
    assert_no_leak(secret, response.content, where="GET /api/vaults/x")
    leaks = find_leaks(secret, log_text, db_dump)   # [] when clean
"""

import base64
import html
import json
from dataclasses import dataclass
from urllib.parse import quote, quote_plus


@dataclass(frozen=True)
class Leak:
    form: str
    where: str

    def __str__(self) -> str:
        return f"{self.form} form found in {self.where}"


def _base64_cores(data: bytes) -> dict[str, bytes]:
    """For each alignment of `data` inside a larger byte string, the part of its base64 that does
    not depend on the neighbouring bytes."""
    cores = {}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data)
        skip = 4 if offset else 0  # the first group mixes in the padding bytes
        end = (offset + len(data)) // 3 * 4  # the last full group: no trailing bytes mixed in
        core = encoded[skip:end]
        if len(core) >= 8:
            cores[f"base64@{offset}"] = core
            cores[f"base64url@{offset}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return cores


def encodings(secret: str) -> dict[str, bytes]:
    """Every form of the secret the scanner looks for, as bytes."""
    raw = secret.encode()
    forms = {
        "raw": raw,
        "url": quote(secret, safe="").encode(),
        "url-lower": quote(secret, safe="").encode().lower()
        if "%" in quote(secret, safe="")
        else b"",
        "quote_plus": quote_plus(secret).encode(),
        "json": json.dumps(secret, ensure_ascii=False)[1:-1].encode(),
        "json-ascii": json.dumps(secret, ensure_ascii=True)[1:-1].encode(),
        "html": html.escape(secret).encode(),
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        **_base64_cores(raw),
    }
    return {name: value for name, value in forms.items() if value}


def _as_bytes(haystack) -> bytes:
    if isinstance(haystack, bytes | bytearray | memoryview):
        return bytes(haystack)
    return str(haystack).encode(errors="surrogateescape")


def find_leaks(secret: str, *haystacks, where: str = "") -> list[Leak]:
    """Every (form, place) where the secret shows up; `where` names the haystacks (numbered)."""
    if not secret:
        raise ValueError("an empty secret would match everything")
    forms = encodings(secret)
    found = []
    for index, haystack in enumerate(haystacks):
        data = _as_bytes(haystack)
        place = f"{where or 'haystack'}[{index}]" if len(haystacks) > 1 else (where or "haystack")
        found += [Leak(name, place) for name, needle in forms.items() if needle in data]
    return found


def assert_no_leak(secret: str, *haystacks, where: str = "") -> None:
    leaks = find_leaks(secret, *haystacks, where=where)
    assert not leaks, "secret leaked: " + "; ".join(map(str, leaks))
