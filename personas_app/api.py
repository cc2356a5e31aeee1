"""The Notte personas API: parse, call a service or selector, answer. Key scope: personas."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja import Query, Router

from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

from . import selectors, services
from .presenters import email_to_wire, parse_max_age, persona_to_wire, sms_to_wire
from .schemas import (
    CreatePhoneNumberResponse,
    DeletePersonaResponse,
    DeletePhoneNumberResponse,
    EmailResponse,
    MessageReadQuery,
    PersonaCreateRequest,
    PersonaListQuery,
    PersonaResponse,
    SMSResponse,
)

router = Router(tags=["Personas"], auth=ApiKeyAuth(scope=Scope.PERSONAS))


@router.post("/create", response=PersonaResponse, operation_id="personaCreate")
async def persona_create(request: HttpRequest, body: PersonaCreateRequest | None = None):
    body = body or PersonaCreateRequest()
    persona = await sync_to_async(services.persona_create)(
        team=request.auth.team,
        create_vault=body.create_vault,
        create_phone_number=body.create_phone_number,
        api_key=request.auth,
    )
    return persona_to_wire(persona)


async def _list(request: HttpRequest, query: PersonaListQuery):
    personas = await sync_to_async(selectors.persona_page_for_team)(
        team=request.auth.team,
        only_active=query.only_active,
        page=query.page,
        page_size=query.page_size,
    )
    return [persona_to_wire(p) for p in personas]


@router.get("/", response=list[PersonaResponse], operation_id="listPersonas")
async def persona_list(request: HttpRequest, query: Query[PersonaListQuery]):
    return await _list(request, query)


@router.get("", response=list[PersonaResponse], include_in_schema=False)
async def persona_list_no_slash(request: HttpRequest, query: Query[PersonaListQuery]):
    return await _list(request, query)


@router.get("/{persona_id}", response=PersonaResponse, operation_id="personaGet")
async def persona_get(request: HttpRequest, persona_id: str):
    return persona_to_wire(
        await selectors.apersona_get_for_team(team=request.auth.team, persona_id=persona_id)
    )


@router.delete("/{persona_id}", response=DeletePersonaResponse, operation_id="personaDelete")
async def persona_delete(request: HttpRequest, persona_id: str):
    persona = await selectors.apersona_get_for_team(team=request.auth.team, persona_id=persona_id)
    if await sync_to_async(services.persona_delete)(persona=persona):
        return {"status": "success", "message": "Persona deleted, with its mail and SMS"}
    return {"status": "failure", "message": f"Persona {persona_id} was already deleted"}


@router.get("/{persona_id}/emails", response=list[EmailResponse], operation_id="personaEmails")
async def persona_emails(request: HttpRequest, persona_id: str, query: Query[MessageReadQuery]):
    max_age = parse_max_age(query.timedelta)
    persona = await selectors.apersona_get_for_team(team=request.auth.team, persona_id=persona_id)
    emails = await sync_to_async(services.email_read_for_persona)(
        persona=persona, limit=query.limit, only_unread=query.only_unread, max_age=max_age
    )
    return [email_to_wire(e) for e in emails]


@router.get("/{persona_id}/sms", response=list[SMSResponse], operation_id="personaSms")
async def persona_sms(request: HttpRequest, persona_id: str, query: Query[MessageReadQuery]):
    max_age = parse_max_age(query.timedelta)
    persona = await selectors.apersona_get_for_team(team=request.auth.team, persona_id=persona_id)
    messages = await sync_to_async(services.sms_read_for_persona)(
        persona=persona, limit=query.limit, only_unread=query.only_unread, max_age=max_age
    )
    return [sms_to_wire(s) for s in messages]


@router.post(
    "/{persona_id}/sms/number",
    response=CreatePhoneNumberResponse,
    operation_id="personaNumberCreate",
)
async def persona_number_create(request: HttpRequest, persona_id: str):
    persona = await selectors.apersona_get_for_team(team=request.auth.team, persona_id=persona_id)
    number, created = await sync_to_async(services.persona_number_assign)(persona=persona)
    message = "Phone number assigned" if created else "The persona already had this number"
    return {"phone_number": number, "status": "success", "message": message}


@router.delete(
    "/{persona_id}/sms/number",
    response=DeletePhoneNumberResponse,
    operation_id="personaNumberDelete",
)
async def persona_number_delete(request: HttpRequest, persona_id: str):
    persona = await selectors.apersona_get_for_team(team=request.auth.team, persona_id=persona_id)
    number = await sync_to_async(services.persona_number_release)(persona=persona)
    if number is None:
        return {"status": "failure", "message": f"Persona {persona_id} has no phone number"}
    return {"status": "success", "message": f"{number} was given back to the pool"}
