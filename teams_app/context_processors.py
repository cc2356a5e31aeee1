from .selectors import membership_list_for_user


def current_team(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated or not hasattr(request, "membership"):
        return {}
    membership = request.membership.get()
    return {
        "membership": membership,
        "team": membership.team if membership else None,
        "memberships": membership_list_for_user(user=user),
    }
