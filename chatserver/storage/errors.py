"""Storage errors the API layer turns into stable error codes."""


class StorageError(Exception):
    """Base class, so callers can catch every storage refusal at once."""


class DuplicateEmail(StorageError):
    """An operator with this email already exists (emails compare case-insensitively)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an operator with email {email!r} already exists")
        self.email = email


class NotFound(StorageError):
    """A write named a row that does not exist."""


class UnknownOperator(NotFound):
    pass


class UnknownVisitor(NotFound):
    pass


class UnknownConversation(NotFound):
    pass
