"""The console's ASGI app plus Django's static files handler, for the browser tests.

console.asgi serves no static files, so without this the browser would get neither the
stylesheet nor htmx; with it, pages load as they would behind a static file server.
"""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from console.asgi import application as console_application

application = ASGIStaticFilesHandler(console_application)
