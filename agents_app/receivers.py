"""What this app does when another app reports something: a session that ends ends its agent."""


def connect() -> None:
    pass
