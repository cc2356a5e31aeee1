"""The Notte vaults API: parse, call a service or selector, answer. 200 on every success.

Credentials and card GETs return secrets, so they are reveals: a key with the `vaults.reveal`
scope created by an owner or admin, audited either way. Listing needs `vaults.use` or
`vaults.manage`; changes need `vaults.manage`. Sealed vaults answer 503 on every route.
"""

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja import Query, Router, Schema

from core.errors import Forbidden
from teams_app.auth import ApiKeyAuth

from . import reveal, selectors, services
from .actors import Permission, VaultActor, actor_for_api_key
from .schemas import (
    AddCredentialsRequest,
    AddCreditCardRequest,
    AddCreditCardResponse,
    DeleteResponse,
    GetCredentialsResponse,
    GetCreditCardResponse,
    ListCredentialsResponse,
    StatusResponse,
    VaultCreateRequest,
    VaultResponse,
)
from .unseal import vault_keyring

router = Router(tags=["Vaults"], auth=ApiKeyAuth())


class ListQuery(Schema):
    only_active: bool = True
    page: int = 1
    page_size: int = 10


class UrlQuery(Schema):
    url: str


def _actor(request: HttpRequest) -> VaultActor:
    return actor_for_api_key(request.auth)


def _readable(actor: VaultActor) -> None:
    vault_keyring()
    if not actor.can(Permission.VIEW):
        raise Forbidden(actor.refusal(Permission.VIEW))


def _vault_wire(vault) -> dict:
    return {
        "vault_id": str(vault.pk),
        "name": vault.name,
        "created_at": vault.created_at,
        "for_persona": vault.for_persona,
    }


@router.post("/create", response=VaultResponse, operation_id="vaultCreate")
async def vault_create(request: HttpRequest, body: VaultCreateRequest | None = None):
    actor = await sync_to_async(_actor)(request)
    vault = await sync_to_async(services.vault_create)(
        actor=actor, name=(body or VaultCreateRequest()).name
    )
    return _vault_wire(vault)


def _list_sync(request: HttpRequest, query: ListQuery) -> list[dict]:
    actor = _actor(request)
    _readable(actor)
    return [
        _vault_wire(v)
        for v in selectors.vault_page_for_team(
            team=actor.team, page=query.page, page_size=query.page_size
        )
    ]


@router.get("/", response=list[VaultResponse], operation_id="vaultList")
async def vault_list(request: HttpRequest, query: Query[ListQuery]):
    return await sync_to_async(_list_sync)(request, query)


@router.get("", response=list[VaultResponse], include_in_schema=False)
async def vault_list_no_slash(request: HttpRequest, query: Query[ListQuery]):
    return await sync_to_async(_list_sync)(request, query)


def _credentials_sync(request: HttpRequest, vault_id: str) -> dict:
    actor = _actor(request)
    _readable(actor)
    vault = selectors.vault_get_for_team(team=actor.team, vault_id=vault_id)
    return {
        "credentials": [
            {"url": c.url, "username": c.username or None, "email": c.email or None}
            for c in selectors.credential_list(vault=vault)
        ]
    }


@router.get("/{vault_id}", response=ListCredentialsResponse, operation_id="vaultListCredentials")
async def vault_credentials(request: HttpRequest, vault_id: str):
    return await sync_to_async(_credentials_sync)(request, vault_id)


@router.delete("/{vault_id}", response=DeleteResponse, operation_id="vaultDelete")
async def vault_delete(request: HttpRequest, vault_id: str):
    actor = await sync_to_async(_actor)(request)
    await sync_to_async(services.vault_delete)(actor=actor, vault_id=vault_id)
    return {"status": "success", "message": "Vault deleted successfully"}


@router.post("/{vault_id}/credentials", response=StatusResponse, operation_id="vaultAddCredentials")
async def credentials_add(request: HttpRequest, vault_id: str, body: AddCredentialsRequest):
    actor = await sync_to_async(_actor)(request)
    creds = body.credentials
    await sync_to_async(services.credential_put)(
        actor=actor,
        vault_id=vault_id,
        url=body.url,
        email=creds.email,
        username=creds.username,
        password=creds.password,
        mfa_secret=creds.mfa_secret,
    )
    return {"status": "success"}


@router.get(
    "/{vault_id}/credentials",
    response=GetCredentialsResponse,
    exclude_none=True,
    operation_id="vaultGetCredentials",
)
async def credentials_get(request: HttpRequest, vault_id: str, query: Query[UrlQuery]):
    actor = await sync_to_async(_actor)(request)
    values = await sync_to_async(reveal.credential_reveal)(
        actor=actor, vault_id=vault_id, url=query.url, purpose="API: GET /vaults/{id}/credentials"
    )
    credentials = {"password": values["password"]}
    credentials["email" if values["email"] else "username"] = values["email"] or values["username"]
    if values["mfa_secret"]:
        credentials["mfa_secret"] = values["mfa_secret"]
    return {"credentials": credentials}


@router.delete(
    "/{vault_id}/credentials", response=DeleteResponse, operation_id="vaultDeleteCredentials"
)
async def credentials_delete(request: HttpRequest, vault_id: str, query: Query[UrlQuery]):
    actor = await sync_to_async(_actor)(request)
    await sync_to_async(services.credential_delete)(actor=actor, vault_id=vault_id, url=query.url)
    return {"status": "success", "message": "Credentials deleted successfully"}


@router.post("/{vault_id}/card", response=AddCreditCardResponse, operation_id="vaultSetCreditCard")
async def card_set(request: HttpRequest, vault_id: str, body: AddCreditCardRequest):
    actor = await sync_to_async(_actor)(request)
    card = body.credit_card
    _, cvv_stored = await sync_to_async(services.card_set)(
        actor=actor,
        vault_id=vault_id,
        holder=card.card_holder_name,
        number=card.card_number,
        expiration=card.card_full_expiration,
        cvv=card.card_cvv,
        allowed_origins=body.allowed_origins,
    )
    message = (
        "Card stored"
        if cvv_stored or not card.card_cvv
        else (
            "Card stored without its CVV: this team does not store CVVs (an owner or admin can turn it on "
            "in the console's Vaults page)"
        )
    )
    return {"status": "success", "cvv_stored": cvv_stored, "message": message}


@router.get("/{vault_id}/card", response=GetCreditCardResponse, operation_id="vaultGetCreditCard")
async def card_get(request: HttpRequest, vault_id: str):
    actor = await sync_to_async(_actor)(request)
    values = await sync_to_async(reveal.card_reveal)(
        actor=actor, vault_id=vault_id, purpose="API: GET /vaults/{id}/card"
    )
    return {"credit_card": {**values, "card_cvv": values["card_cvv"] or ""}}


@router.delete("/{vault_id}/card", response=DeleteResponse, operation_id="vaultDeleteCreditCard")
async def card_delete(request: HttpRequest, vault_id: str):
    actor = await sync_to_async(_actor)(request)
    await sync_to_async(services.card_delete)(actor=actor, vault_id=vault_id)
    return {"status": "success", "message": "Credit card deleted successfully"}
