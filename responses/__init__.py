"""Reply libraries, filling and suggestions for operators: pure code, no server imports.

``fill`` and ``suggest`` are imported from their modules (``from responses.fill
import fill``, ``from responses.suggest import suggest``), not from here: a function
named like its submodule would shadow it. ``responses.suggest`` also depends on the
recognizer, and the library and filling must work without it.
"""

from __future__ import annotations

from responses.errors import LibraryError, ResponsesError, UnfilledSlotError
from responses.fill import Filled, Segment, ensure_sendable, fill_text, find_unfilled
from responses.library import (
    GENERAL,
    SITUATIONS,
    Library,
    Response,
    default_library,
    load_library,
    save_library,
    validate_response,
)
from responses.variables import VARIABLES, Variable, register

__all__ = [
    "GENERAL",
    "SITUATIONS",
    "VARIABLES",
    "Filled",
    "Library",
    "LibraryError",
    "Response",
    "ResponsesError",
    "Segment",
    "UnfilledSlotError",
    "Variable",
    "default_library",
    "ensure_sendable",
    "fill_text",
    "find_unfilled",
    "load_library",
    "register",
    "save_library",
    "validate_response",
]
