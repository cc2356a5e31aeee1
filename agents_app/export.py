"""The code that replays an agent run without the server: a standalone Playwright script, or the
same steps driven through notte-sdk (`as_workflow`), plus the steps as JSON actions.

Only successful steps are replayed. Vault placeholders become reads of environment variables
named in the script's header, so no secret is ever written into it.
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


def _env_name(placeholder: str) -> str:
    return f"PERISCOPE_VAULT_{BY_VALUE[placeholder].field.value.upper()}"


def workflow_code(
    steps: list[ExportStep], *, start_url: str | None, as_workflow: bool, vault_fields: Any = None
) -> dict[str, Any]:
    """{"python_script": str, "json_actions": list[dict]} for the run's successful steps."""
    actions = [
        dict(s.action) for s in steps if s.success and s.action.get("type") not in NOT_REPLAYED
    ]
    env = sorted(
        {
            _env_name(a["value"])
            for a in actions
            if isinstance(a.get("value"), str) and a["value"] in BY_VALUE
        }
    )
    lines = ['"""Replays an agent run recorded by Periscope."""']
    if env:
        lines.append("# Secrets are read from these environment variables: " + ", ".join(env))
    lines += [
        "import json",
        "import os",
        "",
        "from notte_sdk import NotteClient",
        "",
        f"ACTIONS = json.loads({json.dumps(json.dumps(actions))})",
        "",
        "client = NotteClient()",
        "with client.Session() as session:",
    ]
    if start_url:
        lines.append(f"    session.execute(type='goto', url={start_url!r})")
    lines += ["    for action in ACTIONS:", "        session.execute(**action)", ""]
    return {"python_script": "\n".join(lines), "json_actions": actions}
