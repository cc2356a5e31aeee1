"""An accepted message, parsed once with the standard library into what is stored and shown."""

import contextlib
import email.utils
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from .extract import Link, find_codes, find_links, html_to_text
from .sanitize import sanitize_html

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class ParsedEmail:
    message_id: str = ""
    subject: str = ""
    sender_email: str | None = None
    sender_name: str | None = None
    text: str | None = None
    html: str | None = None  # sanitised
    attachments: list[dict] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def parse_email(raw: bytes) -> ParsedEmail:
    """Never raises: a message that cannot be parsed is still kept, as text."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        parsed = _parse(message)
    except Exception:  # a malformed message must not make the server refuse or lose it
        log.warning("could not parse an inbound message; storing it as text", exc_info=True)
        parsed = ParsedEmail(
            subject="(message could not be parsed)",
            text=raw.decode("utf-8", "replace").replace("\x00", ""),
        )
    html_text, anchors = html_to_text(parsed.html) if parsed.html else ("", [])
    if parsed.text is None and parsed.html:
        parsed.text = html_text  # an HTML-only message still gets a readable text
    parsed.codes = find_codes(
        parsed.subject, parsed.text, html_text if html_text != parsed.text else None
    )
    parsed.links = find_links(parsed.text, anchors)
    return parsed


def _parse(message: EmailMessage) -> ParsedEmail:
    parsed = ParsedEmail(
        message_id=_header(message, "message-id")[:998],
        subject=_header(message, "subject"),
    )
    parsed.sender_name, parsed.sender_email = _sender(message)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    if text_part is not None:
        parsed.text = _content(text_part)
    if html_part is not None:
        parsed.html = sanitize_html(_content(html_part))
    bodies = {id(text_part), id(html_part)}
    for part in message.walk():
        if part.is_multipart() or id(part) in bodies:
            continue
        if part is message and message.get_content_maintype() == "text" and not part.get_filename():
            continue  # a single-part message whose type is neither plain nor html text
        payload = part.get_payload(decode=True) or b""
        parsed.attachments.append(
            {
                "name": _clean(part.get_filename() or "")[:255] or "(unnamed)",
                "content_type": part.get_content_type(),
                "size": len(payload),
            }
        )
    return parsed


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the modern policy cannot parse
        value = ""
    return " ".join(_clean(str(value or "")).split())


def _sender(message: EmailMessage) -> tuple[str | None, str | None]:
    with contextlib.suppress(Exception):
        header = message["from"]
        if header is not None and getattr(header, "addresses", None):
            address = header.addresses[0]
            return (_clean(address.display_name) or None), (address.addr_spec.lower() or None)
    name, address = email.utils.parseaddr(_header(message, "from"))
    return (name or None), (address.lower() or None)


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or lying charset
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def _clean(value: str) -> str:
    return _CONTROL.sub("", value).strip()
