"""What a run's prompt says about its vault and persona, read once when the loop starts: the
sites the vault has logins for and which placeholders stand for them, whether it has a card,
the persona's name and addresses. Never a secret: only what any team member may see."""

from personas_app.models import Persona
from vaults_app.models import Vault
from vaults_app.selectors import card_get, credential_list

from .models import AgentRun
from .prompt import PromptContext


def prompt_context(*, run: AgentRun) -> PromptContext:
    ctx = PromptContext(task=run.task, response_format=run.response_format)
    vault = (
        Vault.objects.filter(team_id=run.team_id, pk=run.vault_id).first() if run.vault_id else None
    )
    if vault is not None:
        for credential in credential_list(vault=vault):
            fields = [
                name
                for name, present in (
                    ("email", credential.email),
                    ("username", credential.username),
                )
                if present
            ] or ["username"]
            fields.append("password")
            if credential.has_totp:
                fields.append("totp_code")
            ctx.vault_sites.append({"url": credential.url, "fields": fields})
        ctx.vault_has_card = card_get(vault=vault) is not None
    persona = (
        Persona.objects.filter(team_id=run.team_id, pk=run.persona_id).first()
        if run.persona_id
        else None
    )
    if persona is not None:
        ctx.persona = {
            "name": persona.full_name,
            "email": persona.email,
            "phone": persona.phone_number or "",
        }
    return ctx
