"""The agent loop's entry points in a browser worker (registered as worker programs)."""


def register_programs() -> None:
    pass
