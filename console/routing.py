# Websocket routes gathered from the apps. The live view (screenshots and steps) lands with the
# viewer; the session routes named in /debug answer once it does.
websocket_urlpatterns: list = []
