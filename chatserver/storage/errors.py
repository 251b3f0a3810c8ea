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
    """No operator account with this id."""


class UnknownVisitor(NotFound):
    """No visitor with this id."""


class UnknownConversation(NotFound):
    """No conversation with this id."""


class UnknownCustomer(NotFound):
    """No customer with this id."""


class UnknownTeam(NotFound):
    """No team with this id."""


class UnknownReply(NotFound):
    """No reply with this id in this language (or, for an edit, it is deleted)."""


class ReplyExists(StorageError):
    """A reply that is not deleted already has this id in this language."""


class ReplyVersionConflict(StorageError):
    """The reply changed since the version the caller edited."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the reply is at version {current}, not {expected}")
        self.expected, self.current = expected, current


class ProfileVersionConflict(StorageError):
    """The profile changed since the version the operator edited."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the profile is at version {current}, not {expected}")
        self.expected, self.current = expected, current


class LastAdmin(StorageError):
    """The change would leave no active admin account, and nobody could manage the others."""


class TeamExists(StorageError):
    """Another team already has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a team named {name!r} already exists")
        self.name = name


class TeamInUse(StorageError):
    """A team still has members; move them first."""

    def __init__(self, name: str, members: int) -> None:
        super().__init__(f"team {name!r} still has {members} member(s)")
        self.name, self.members = name, members
