"""Wire shapes of the Notte vaults API, named after notte-sdk's models.

Requests reject unknown fields (422 naming the field), as notte-sdk's own request models do.
Success bodies never carry a top-level `detail` key (the SDK would read it as an error).
"""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class VaultCreateRequest(Strict):
    name: str = Field("default", max_length=200)


class VaultResponse(Schema):
    vault_id: str
    name: str
    created_at: datetime
    for_persona: bool = False


class CredentialSummary(Schema):
    url: str
    username: str | None
    email: str | None


class ListCredentialsResponse(Schema):
    credentials: list[CredentialSummary]


class CredentialsIn(Strict):
    email: str | None = Field(None, max_length=1000)
    username: str | None = Field(None, max_length=1000)
    password: str = Field(..., max_length=4096)
    mfa_secret: str | None = Field(None, max_length=1000)


class AddCredentialsRequest(Strict):
    url: str = Field(..., max_length=4096)
    credentials: CredentialsIn


class StatusResponse(Schema):
    status: str


class DeleteResponse(Schema):
    status: Literal["success", "failure"]
    message: str


class CredentialsOut(Schema):
    email: str | None = None
    username: str | None = None
    password: str
    mfa_secret: str | None = None


class GetCredentialsResponse(Schema):
    credentials: CredentialsOut


class CreditCardIn(Strict):
    card_holder_name: str = Field(..., max_length=1000)
    card_number: str = Field(..., max_length=100)
    card_cvv: str | None = Field(None, max_length=100)
    card_full_expiration: str = Field(..., max_length=100)


class AddCreditCardRequest(Strict):
    credit_card: CreditCardIn
    # Periscope's addition (notte-sdk never sends it): sites the card may be filled on.
    allowed_origins: list[str] | None = Field(None, max_length=20)


class AddCreditCardResponse(Schema):
    status: str
    cvv_stored: bool
    message: str


class CreditCardOut(Schema):
    card_holder_name: str
    card_number: str
    # Always present (notte-sdk requires the key): empty when the team does not store CVVs.
    card_cvv: str
    card_full_expiration: str


class GetCreditCardResponse(Schema):
    credit_card: CreditCardOut
