"""Which agent actions wait for a member's approval when the team asks for it
(Team.agent_approval_required): using the vault's card, and submitting a payment form.

A payment form is recognised from the current page's listing: an input whose rendering names a
card field (cc-number, card number, CVC...). On such a page, a click on a button, Enter, or any
action that presses Enter waits, as does any fill that would use a card placeholder.
"""

import re
from typing import Any

from vaults_app.placeholders import CARD_FIELDS, FORM_FILL_KEYS, placeholder_field

_CARD_INPUT = re.compile(
    r"cc-(?:number|num|csc|cvc|cvv|exp)|card.?number|cardnumber|\bcvc\b|\bcvv\b|security code|"
    r'autocomplete="cc-',
    re.IGNORECASE,
)
_SUBMITTING_KEYS = {"enter", "numpadenter"}


def page_has_card_fields(observation: dict[str, Any]) -> bool:
    for action in observation.get("space", {}).get("interaction_actions", []):
        if str(action.get("id", "")).startswith("I") and _CARD_INPUT.search(
            action.get("description", "")
        ):
            return True
    return False


def uses_card(action: dict[str, Any]) -> bool:
    value = action.get("value")
    if action.get("type") == "form_fill" and isinstance(value, dict):
        return any(
            FORM_FILL_KEYS.get(key) in CARD_FIELDS or placeholder_field(str(v), key) in CARD_FIELDS
            for key, v in value.items()
        )
    return isinstance(value, str) and placeholder_field(value) in CARD_FIELDS


def submits(action: dict[str, Any], observation: dict[str, Any]) -> bool:
    kind = action.get("type")
    if action.get("press_enter"):
        return True
    if kind == "press_key":
        return str(action.get("key", "")).lower() in _SUBMITTING_KEYS
    if kind == "click":
        target = str(action.get("id") or "")
        return target.startswith("B") or bool(action.get("selector"))
    return False


def approval_reason(action: dict[str, Any], observation: dict[str, Any]) -> str | None:
    """Why this action needs approval, or None."""
    if uses_card(action):
        return "the agent is about to fill the vault's payment card"
    if page_has_card_fields(observation) and submits(action, observation):
        return "the agent is about to submit a payment form"
    return None
