"""The ninja routers of the sessions app, one module per resource; console/api.py mounts them."""
