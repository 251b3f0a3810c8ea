"""The waiting etiquette as sockets and admin routes see it: one object, ``hub.etiquette``.

The work is done in ``transfers`` (transfers), ``waiting`` (late notices, hold lines, left
messages, silence), ``hold_library`` (the admins' wait-fillers) and ``promises`` (the wait
promises kept for reports); the effects reach them through ``appliers``. This facade keeps the
requests the endpoints make in one place, and the frame names they import from here.
"""

from __future__ import annotations

from typing import Any

from chatserver.core import hold

from . import frames as f
from .frames import (  # re-exported: the endpoints import these names from here
    LEAVE_MESSAGE,
    TRANSFER_ACCEPT,
    TRANSFER_CANCEL,
    TRANSFER_DECLINE,
)
from .hold_library import HoldLibraryStore
from .outbox import Outbox
from .promises import PromiseRecorder
from .transfers import Transfers
from .waiting import Waiting

__all__ = ["LEAVE_MESSAGE", "TRANSFER_ACCEPT", "TRANSFER_CANCEL", "TRANSFER_DECLINE", "Etiquette"]


class Etiquette:
    """Transfers, left messages and the hold library, for the sockets and routes that ask for them."""

    def __init__(
        self, *, transfers: Transfers, waiting: Waiting, library: HoldLibraryStore, promises: PromiseRecorder
    ) -> None:
        self.transfers = transfers
        self.waiting = waiting
        self.library = library
        self.promises = promises

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.promises.start()
        await self.library.refresh(force=True)

    async def rebuild(self) -> set[int]:
        """Before the routing state is rebuilt from storage: tidy what a previous run left in
        flight; the open chats whose visitor left a message."""
        await self.transfers.start()
        return await self.waiting.left_message_conversations()

    async def flush(self) -> None:
        """Wait until every promise recorded so far is written (tests, shutdown)."""
        await self.promises.flush()

    # ------------------------------------------------------------------ requests from sockets

    async def request_transfer(
        self, operator_id: int, conversation_id: int, frame: dict[str, Any], *, max_text_chars: int
    ) -> f.Reply:
        """Check a ``transfer`` frame and hand it to the core: None when it started, else an error frame."""
        return await self.transfers.request_transfer(
            operator_id, conversation_id, frame, max_text_chars=max_text_chars
        )

    async def answer_offer(self, operator_id: int, conversation_id: int, *, accept: bool) -> f.Reply:
        return await self.transfers.answer_offer(operator_id, conversation_id, accept=accept)

    async def cancel_transfer(self, operator_id: int, conversation_id: int) -> f.Reply:
        return await self.transfers.cancel_transfer(operator_id, conversation_id)

    async def leave_message(self, visitor_id: str) -> f.Reply:
        return await self.waiting.leave_message(visitor_id)

    @staticmethod
    def with_client_id(error: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
        """Echo the frame's client_id on an error, like every other error frame does."""
        if isinstance(frame.get("client_id"), str):
            error["client_id"] = frame["client_id"]
        return error

    async def visitor_back(
        self, outbox: Outbox, visitor_id: str, open_cid: int | None, resume: tuple[int, int] | None
    ) -> None:
        """After the welcome and replay: a left message still waiting, or an answer not seen yet."""
        await self.waiting.visitor_back(outbox, visitor_id, open_cid, resume)

    # ------------------------------------------------------------------ the hold library (admins)

    async def hold_library(self) -> hold.HoldLibrary:
        return await self.library.current()

    async def replace_hold_library(self, data: Any) -> hold.HoldLibrary:
        """Validate and store an admin's library (InvalidHoldLibrary says what is wrong)."""
        return await self.library.replace(data)

    async def reset_hold_library(self) -> hold.HoldLibrary:
        return await self.library.reset()
