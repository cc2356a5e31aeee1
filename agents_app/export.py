"""The code that replays an agent run without the agent: the run's successful steps as JSON
actions, and a Python script that carries them out through notte-sdk.

This is the minimal version; a standalone Playwright script (selectors resolved from the run)
replaces it. Vault placeholders become reads of environment variables named in the script's
header, so no secret is ever written into it.
"""

import json
from dataclasses import dataclass
from typing import Any

from vaults_app.placeholders import BY_VALUE

# Steps that only report (the final answer, a call for help) do nothing on replay.
NOT_REPLAYED = frozenset({"completion", "help"})


@dataclass(frozen=True)
class ExportStep:
    action: dict[str, Any]
    target: dict[str, Any] | None
    url_before: str
    url_after: str
    success: bool


def env_name(placeholder: str) -> str:
    return f"PERISCOPE_VAULT_{BY_VALUE[placeholder].field.value.upper()}"


def _replayable(step: ExportStep) -> dict[str, Any]:
    action = dict(step.action)
    if step.target and step.target.get("selector"):
        action.pop("id", None)  # observe ids do not survive the run: the resolved element does
        action["selector"] = step.target["selector"]
    return action


def workflow_code(
    steps: list[ExportStep], *, start_url: str | None, as_workflow: bool, vault_fields: Any = None
) -> dict[str, Any]:
    """{"python_script": str, "json_actions": list[dict]} for the run's successful steps."""
    actions = [
        _replayable(s) for s in steps if s.success and s.action.get("type") not in NOT_REPLAYED
    ]
    secrets = {
        a["value"]: env_name(a["value"])
        for a in actions
        if isinstance(a.get("value"), str) and a["value"] in BY_VALUE
    }
    lines = [
        '"""Replays an agent run recorded by Periscope (notte-sdk; NOTTE_API_KEY and NOTTE_API_URL)."""'
    ]
    if secrets:
        lines.append("# Vault values are read from: " + ", ".join(sorted(set(secrets.values()))))
    lines += [
        "import json",
        "import os",
        "",
        "from notte_sdk import NotteClient",
        "",
        f"ACTIONS = json.loads({json.dumps(json.dumps(actions))})",
        f"FROM_ENVIRONMENT = {secrets!r}",
        "",
        "client = NotteClient()",
        "with client.Session() as session:",
    ]
    if start_url and not (actions and actions[0].get("type") == "goto"):
        lines.append(f"    session.execute(type='goto', url={start_url!r})")
    lines += [
        "    for action in ACTIONS:",
        "        if action.get('value') in FROM_ENVIRONMENT:",
        "            action = {**action, 'value': os.environ[FROM_ENVIRONMENT[action['value']]]}",
        "        if 'id' in action:",
        "            session.observe()  # ids refer to the latest observation",
        "        session.execute(**action)",
        "",
    ]
    return {"python_script": "\n".join(lines), "json_actions": actions}
