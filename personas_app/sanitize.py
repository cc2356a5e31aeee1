"""Inbound HTML is written by whoever sends the mail: clean it with nh3 before it is stored.

What survives is plain formatting: no scripts, no event handlers, no styles, no forms, no frames.
Links keep only http(s) and mailto and open in a new tab without a referrer. Remote images are
dropped (they are how senders track opens); inline `data:image/...` images stay.
"""

import nh3

_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS)
# Their content is dropped too, not only the tags.
_DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "title",
    "noscript",
    "template",
    "iframe",
    "object",
    "svg",
    "math",
}


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if element == "img" and attribute == "src":
        return value if lowered.startswith("data:image/") else None
    if attribute in {"href", "cite"} and lowered.startswith("data:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS - _DROPPED_WITH_CONTENT,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        url_schemes={"http", "https", "mailto", "data"},
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        attribute_filter=_keep_attribute,
    )
