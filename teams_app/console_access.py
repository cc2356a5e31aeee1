"""Who a console request acts as: the member of the team the user picked, or a clear refusal."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import Membership


def current_membership(request: HttpRequest) -> Membership:
    membership = request.membership.get()
    if membership is None:
        raise PermissionDenied("You are not a member of any team yet; ask a team owner to add you")
    return membership


def current_operator(request: HttpRequest, *, refusal: str) -> Membership:
    """A member who may act (not a viewer); `refusal` tells a viewer what they may not do."""
    membership = current_membership(request)
    if not membership.can_operate:
        raise PermissionDenied(refusal)
    return membership
