class BrowserError(Exception):
    """Something went wrong inside the browser layer."""


class UnsupportedOption(BrowserError):
    """The session asks for something this worker cannot provide (e.g. headed without Xvfb)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class SessionNotFound(BrowserError):
    """The worker does not hold a context for this session id."""
