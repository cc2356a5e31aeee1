"""Pure async Playwright layer: one Chromium per worker, one BrowserContext per session.

Nothing here imports Django or the apps (an import-linter contract enforces it), so the
worker adapter is the only place that knows about both worlds.
"""
