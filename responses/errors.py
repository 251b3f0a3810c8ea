"""The exceptions of the response library, with stable snake_case codes.

Codes travel to HTTP clients unchanged (an admin API answers 422 with the code,
the operator socket refuses a send with ``unfilled_slot``), so they are part of the
public surface: add new ones, never rename old ones.
"""

from __future__ import annotations

from collections.abc import Sequence

UNKNOWN_VARIABLE = "unknown_variable"
EMPTY_TEXT = "empty_text"
UNKNOWN_SITUATION = "unknown_situation"
DUPLICATE_ID = "duplicate_id"
DUPLICATE_SHORTCUT = "duplicate_shortcut"
INVALID_FIELD = "invalid_field"
UNFILLED_SLOT = "unfilled_slot"

LIBRARY_CODES = (
    UNKNOWN_VARIABLE,
    EMPTY_TEXT,
    UNKNOWN_SITUATION,
    DUPLICATE_ID,
    DUPLICATE_SHORTCUT,
    INVALID_FIELD,
)


class ResponsesError(Exception):
    """Base of every error this package raises on purpose."""

    code: str = "responses_error"


class LibraryError(ResponsesError):
    """A response or a library file is invalid.

    Names the file, the entry (its id when it has one, else its index in the file)
    and the field, so an admin can find the mistake without reading a traceback.
    """

    def __init__(
        self,
        file: str,
        entry: str | int | None,
        field: str | None,
        code: str,
        message: str,
    ) -> None:
        self.file = file
        self.entry = entry
        self.field = field
        self.code = code
        self.message = message
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = [self.file]
        if self.entry is not None:
            where.append(f"entry #{self.entry}" if isinstance(self.entry, int) else f"entry {self.entry!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.code}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        """The error as JSON for an HTTP 422 body."""
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "entry": self.entry,
            "field": self.field,
        }


class UnfilledSlotError(ResponsesError):
    """A text about to be sent still holds a placeholder the visitor must not see."""

    code = UNFILLED_SLOT

    def __init__(self, placeholders: Sequence[str]) -> None:
        self.placeholders = list(placeholders)
        shown = ", ".join(self.placeholders)
        self.message = f"the text still holds unfilled placeholders: {shown}"
        super().__init__(self.message)
