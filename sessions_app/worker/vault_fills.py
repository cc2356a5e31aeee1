"""Vault placeholders in fills, resolved in the worker at the moment of filling.

Code written for Notte fills its placeholders (`mycoolpassword`, `4242 4242 4242 4242`, ...):
in a session started with a vault, each one becomes the real value right here, just before it is
typed, under the rules of vaults_app.fill (the page's origin, the field's type, an audit row).
Nothing upstream ever holds the value: steps keep the placeholder, and afterwards

- the filled element is masked in the page itself, so every image the server makes of it
  (observe and step screenshots, live frames, replays) shows dots, whatever its input type;
- the value is kept in the worker's memory only, so that any text leaving the worker (observe,
  scrape, results, events) has it replaced by a mask wherever the page echoed it;
- the session is marked as vault-filled: its cookies are then read only by keys that may reveal,
  and CDP attaches need such a key too.
"""

import asyncio
import html
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from asgiref.sync import sync_to_async
from playwright.async_api import ElementHandle

from browser.perception.actions import ActionFailed
from browser.session import SessionContext
from core.errors import PeriscopeError
from sessions_app import services
from vaults_app.fill import FillElement, vault_secret_for_fill
from vaults_app.placeholders import is_placeholder

log = logging.getLogger(__name__)

MASK = "********"
MIN_SECRET_LENGTH = 3  # shorter values (an expiry month) would mask ordinary text everywhere

# One round trip: describe the element and mask it before anything is typed into it, so that no
# frame of the live view or of a screenshot ever shows the value. Styles are set through the
# element's own style (allowed by any page CSP): inputs show dots; other elements (a select, an
# editable area) hide their text behind a hatch.
DESCRIBE_AND_MASK = """(e) => {
    e.setAttribute('data-periscope-masked', '');
    if (e.localName === 'input' || e.localName === 'textarea') {
        e.style.setProperty('-webkit-text-security', 'disc', 'important');
    } else {
        e.style.setProperty('color', 'transparent', 'important');
        e.style.setProperty('background', 'repeating-linear-gradient(45deg,#555 0 4px,#777 4px 8px)', 'important');
    }
    return {
        tag: e.localName, type: (e.getAttribute('type') || '').toLowerCase(),
        autocomplete: e.getAttribute('autocomplete') || '', name: e.getAttribute('name') || '',
        id: e.id || '',
        label: (e.labels && e.labels[0] ? e.labels[0].textContent : (e.getAttribute('aria-label')
                || e.getAttribute('placeholder') || '')).trim().slice(0, 100),
    };
}"""

# A refused fill leaves the field as the page made it.
UNMASK = """(e) => {
    e.removeAttribute('data-periscope-masked');
    for (const name of ['-webkit-text-security', 'color', 'background']) e.style.removeProperty(name);
}"""


@dataclass
class SessionVault:
    vault_id: str
    secrets: set[str] = field(default_factory=set)
    marked: bool = False


class VaultFills:
    def __init__(self):
        self._sessions: dict[str, SessionVault] = {}

    def open(self, session: SessionContext, *, vault_id: str) -> None:
        if vault_id:
            self._sessions[session.session_id] = SessionVault(vault_id=vault_id)

    def opened(self, session_id: str) -> bool:
        return session_id in self._sessions

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def used(self, session_id: str) -> bool:
        vault = self._sessions.get(session_id)
        return bool(vault and vault.marked)

    def resolver(self, session_id: str, step_index: int | None):
        """The fill_value hook for one action of one session (None: fill values as given)."""
        vault = self._sessions.get(session_id)
        if vault is None:
            return None

        async def fill_value(
            session: SessionContext, handle: ElementHandle, value: str, form_key: str | None
        ) -> str:
            if not is_placeholder(value):
                return value
            return await self._resolve(vault, session, handle, value, form_key, step_index)

        return fill_value

    async def _resolve(
        self,
        vault: SessionVault,
        session: SessionContext,
        handle: ElementHandle,
        placeholder: str,
        form_key: str | None,
        step_index: int | None,
    ) -> str:
        # The frame comes from the browser, not from the page's script (which could lie about
        # its location); both questions go out at once.
        described, frame = await asyncio.gather(
            handle.evaluate(DESCRIBE_AND_MASK), handle.owner_frame()
        )
        element = FillElement(**described)
        try:
            secret = await sync_to_async(_fill, thread_sensitive=False)(
                vault,
                session.session_id,
                placeholder,
                session.page.url,
                frame.url if frame else None,
                element,
                step_index,
                form_key,
            )
        except PeriscopeError as exc:  # refused (origin, field type), sealed, or gone: audited
            await handle.evaluate(UNMASK)
            raise ActionFailed(f"the vault did not fill this field: {exc.message}") from None
        if len(secret) >= MIN_SECRET_LENGTH:
            vault.secrets.add(secret)
        if not vault.marked:
            vault.marked = True
            await sync_to_async(services.session_mark_vault_filled)(session_id=session.session_id)
        return secret

    def scrub[T: (str, bytes)](self, session_id: str, text: T) -> T:
        """The text with every vault value this session typed masked, in the forms it would take
        in text, JSON, HTML or a URL. UTF-8 bytes (a reply's ready JSON) are scrubbed as they are:
        a form's UTF-8 bytes occur in them exactly where the form occurs in the text."""
        vault = self._sessions.get(session_id)
        if vault is None or not vault.secrets:
            return text
        as_bytes = isinstance(text, bytes)
        for secret in vault.secrets:
            for form in _forms(secret):
                needle, mask = (form.encode(), MASK.encode()) if as_bytes else (form, MASK)
                if needle in text:
                    text = text.replace(needle, mask)
        return text

    def scrub_data(self, session_id: str, data: Any) -> Any:
        """The same for a JSON-ready value (nested dicts, lists, strings)."""
        vault = self._sessions.get(session_id)
        if vault is None or not vault.secrets:
            return data
        return json.loads(self.scrub(session_id, json.dumps(data)))


def _forms(secret: str) -> list[str]:
    # JSON escapes quotes, backslashes and control characters; non-ASCII stays as it is (orjson,
    # which writes the replies) or becomes \u escapes (the json module's default).
    in_json = json.dumps(secret, ensure_ascii=False)[1:-1]
    in_ascii_json = json.dumps(secret)[1:-1]
    return sorted(
        {
            secret,
            in_json,
            in_ascii_json,
            html.escape(secret),
            quote(secret, safe=""),
            quote_plus(secret),
        },
        key=len,
        reverse=True,
    )


def _fill(
    vault: SessionVault,
    session_id: str,
    placeholder: str,
    page_url: str,
    frame_url: str | None,
    element: FillElement,
    step_index: int | None,
    form_key: str | None,
) -> str:
    # The actor is read afresh on every fill (a role may have changed since the session began);
    # its team is the session's, which is the vault's.
    actor = services.session_vault_actor(session_id=session_id)
    return vault_secret_for_fill(
        team=actor.team,
        vault_id=vault.vault_id,
        placeholder=placeholder,
        page_url=page_url,
        frame_url=frame_url,
        element=element,
        session_id=session_id,
        step_index=step_index,
        actor=actor,
        form_fill_key=form_key,
    )
