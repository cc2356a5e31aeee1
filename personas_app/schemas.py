"""Wire shapes of the personas API, named after the Notte client's models."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict


class PersonaCreateRequest(Schema):
    model_config = ConfigDict(extra="ignore")

    create_vault: bool = False
    create_phone_number: bool = False


class PersonaResponse(Schema):
    persona_id: str
    status: Literal["active", "closed"]
    first_name: str
    last_name: str
    email: str
    vault_id: str | None
    phone_number: str | None
    created_at: datetime


class PersonaListQuery(Schema):
    only_active: bool = True
    page: int = Field(1, ge=1)
    page_size: int = Field(10, ge=1, le=100)


class DeletePersonaResponse(Schema):
    status: Literal["success", "failure"]
    message: str


class MessageReadQuery(Schema):
    limit: int = Field(10, ge=1, le=100)
    only_unread: bool = False
    timedelta: str | None = Field(
        None,
        description="only messages newer than this: seconds, H:MM:SS, 'N days, H:MM:SS' or ISO 8601",
    )


class EmailLink(Schema):
    url: str
    text: str
    verification: bool


class EmailAttachment(Schema):
    name: str
    content_type: str
    size: int


class EmailResponse(Schema):
    email_id: str
    subject: str
    created_at: datetime
    sender_email: str | None
    sender_name: str | None
    text_content: str | None
    html_content: str | None = Field(
        None, description="sanitised: no scripts, styles or remote images"
    )
    codes: list[str] = Field(description="one-time codes found in the message, most likely first")
    verification_links: list[str]
    links: list[EmailLink]
    attachments: list[EmailAttachment] = Field(description="listed only; their content is not kept")
    recipient: str


class SMSResponse(Schema):
    sms_id: str
    body: str
    created_at: datetime
    sender: str | None
    codes: list[str]


class CreatePhoneNumberResponse(Schema):
    phone_number: str
    status: Literal["success"]
    message: str


class DeletePhoneNumberResponse(Schema):
    status: Literal["success", "failure"]
    message: str
