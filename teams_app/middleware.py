from .selectors import membership_get

SESSION_KEY = "periscope_team_id"


class CurrentTeamMiddleware:
    """Console requests carry the team the user picked (kept in the Django session).

    The lookup is lazy, so API requests, which authenticate with keys, never pay for it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = _LazyMembership(request)
        return self.get_response(request)


class _LazyMembership:
    def __init__(self, request):
        self._request = request
        self._loaded = False
        self._value = None

    def get(self):
        if not self._loaded:
            user = self._request.user
            if user.is_authenticated:
                self._value = membership_get(user=user, team_id=self._request.session.get(SESSION_KEY))
            self._loaded = True
        return self._value
