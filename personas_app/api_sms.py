"""The SMS provider's webhook (Twilio's format). No API key: the provider's signature is the
authentication, and a request without a valid one stores nothing."""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from ninja import Router

from core.errors import Forbidden, InvalidInput, PeriscopeError

from . import services
from .sms_signature import twilio_signature_valid

router = Router(tags=["Personas"], auth=None)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: HttpRequest) -> str:
    """The URL the provider signed: behind a proxy, the public one."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


@router.post("/sms/inbound", include_in_schema=True, operation_id="personaSmsInbound")
async def sms_inbound(request: HttpRequest):
    token = settings.PERISCOPE_SMS_AUTH_TOKEN
    if not token:
        raise Forbidden(
            "The SMS webhook is off: set PERISCOPE_SMS_AUTH_TOKEN to your provider's auth token"
        )
    try:
        params = [(name, value) for name, values in request.POST.lists() for value in values]
    except SuspiciousOperation:  # over Django's size or field-count limits
        raise PeriscopeError("This request is too large for an SMS webhook") from None
    url = public_url(request)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not twilio_signature_valid(url=url, params=params, auth_token=token, signature=signature):
        raise Forbidden(
            f"Missing or invalid X-Twilio-Signature for {url}: the provider must sign with the auth "
            "token in PERISCOPE_SMS_AUTH_TOKEN and call exactly this URL (set PERISCOPE_PUBLIC_URL "
            "when a proxy is in front)"
        )
    form = request.POST
    for name in ("To", "From"):
        if not form.get(name):
            raise InvalidInput(name, "required (Twilio's form field)")
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid:
        raise InvalidInput("MessageSid", "required (Twilio's form field)")
    await sync_to_async(services.sms_receive)(
        to_number=form["To"].strip(),
        sender=form["From"].strip(),
        body=form.get("Body", ""),
        provider_sid=sid[:64],
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
