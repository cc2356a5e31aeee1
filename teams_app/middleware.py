from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from .selectors import SESSION_KEY, membership_get


class CurrentTeamMiddleware:
    """Console requests carry the team the user picked (kept in the Django session).

    The lookup is lazy, so API requests, which authenticate with keys, never pay for it.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            # An async chain stays async: no thread hop per API request.
            markcoroutinefunction(self)

    def __call__(self, request):
        request.membership = _LazyMembership(request)
        if self.is_async:
            return self._acall(request)
        return self.get_response(request)

    async def _acall(self, request):
        return await self.get_response(request)


class _LazyMembership:
    def __init__(self, request):
        self._request = request
        self._loaded = False
        self._value = None

    def get(self):
        if not self._loaded:
            user = self._request.user
            if user.is_authenticated:
                self._value = membership_get(
                    user=user, team_id=self._request.session.get(SESSION_KEY)
                )
            self._loaded = True
        return self._value
