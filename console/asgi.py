import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
console_app = get_asgi_application()  # sets Django up: the imports below need it

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from .api_http import ApiHandler, BodyLimit, is_api_path  # noqa: E402
from .probes import is_probe_path, probe_app  # noqa: E402
from .routing import websocket_app  # noqa: E402

api_app = BodyLimit(ApiHandler())
# The process serves its own CSS, htmx and Swagger assets (make run has no web server in front);
# only /static/ paths are intercepted, and the rest of the stack stays async.
static_and_console_app = ASGIStaticFilesHandler(console_app)


async def http_app(scope, receive, send):
    """Health probes are answered before any middleware (console/probes.py), API calls take the
    lean path (console/api_http.py), everything else the console's."""
    path = scope["path"]
    app = (
        probe_app
        if is_probe_path(path)
        else api_app
        if is_api_path(path)
        else static_and_console_app
    )
    await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": websocket_app,
    }
)
