"""The widget's ``{"type": "page", "url", "title"}`` frame: store the page, tell the operator.

When the visitor's open conversation is with an operator, that operator also gets
``{"type": "page", "conversation_id", "url", "title", "ts"}`` at once.
"""

from __future__ import annotations

from typing import Any

from chatserver.customers.pages import MAX_URL, kept_title, kept_url
from chatserver.storage import repository as repo

from . import frames as f
from .hub import Hub, operator_channel
from .state import ServerState

__all__ = ["PAGE", "check_page", "visitor_page"]

PAGE = f.PAGE


def check_page(frame: dict[str, Any]) -> tuple[str, str | None]:
    """The url and title of a page frame, or a FrameError: only http(s) addresses are kept."""
    f.require(frame, f.FieldSpec("url", str), f.FieldSpec("title", str, required=False))
    url = kept_url(frame["url"])
    if url is None:
        raise f.FrameError(f.INVALID_FIELD, f"'url' must be an http(s) address, at most {MAX_URL} characters")
    return url, kept_title(frame.get("title"))


def _operator_serving(hub: Hub, conversation_id: int | None) -> int | None:
    """The operator who has this conversation now, if any."""
    conv = hub.engine.conversation(conversation_id) if conversation_id is not None else None
    return conv.operator_id if conv is not None else None


async def visitor_page(state: ServerState, visitor_id: str, frame: dict[str, Any]) -> None:
    """Store the page the visitor reported and tell the operator who has their chat."""
    url, title = check_page(frame)
    now = state.clock()
    await state.writer.run(repo.set_visitor_page, visitor_id=visitor_id, url=url, title=title, now=now)
    cid = state.hub.open_conversation_of(visitor_id)
    operator_id = _operator_serving(state.hub, cid)
    if operator_id is not None and cid is not None:
        await state.hub.publish(
            operator_channel(operator_id),
            f.page_frame(cid, url=url, title=title, ts=now),
        )
