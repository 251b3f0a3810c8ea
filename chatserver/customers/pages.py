"""The page the visitor is on: the widget reports it with ``{"type": "page", "url", "title"}``.

The page is stored per visitor (it survives a reconnect and is seen by every server
process) and shown in the context beside the chat. When the visitor's open conversation is
with an operator, that operator also gets ``{"type": "page", "conversation_id", "url",
"title", "ts"}`` at once.
"""

from __future__ import annotations

from typing import Any

from chatserver.storage import repository as repo
from chatserver.transport import frames as f
from chatserver.transport.hub import operator_channel

MAX_URL = 2048
MAX_TITLE = 300
PAGE = "page"


def check_page(frame: dict[str, Any]) -> tuple[str, str | None]:
    """The url and title of a page frame, or a FrameError: only http(s) addresses are kept."""
    f.require(frame, f.FieldSpec("url", str), f.FieldSpec("title", str, required=False))
    url: str = frame["url"].strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
        raise f.FrameError(f.INVALID_FIELD, f"'url' must be an http(s) address, at most {MAX_URL} characters")
    title = frame.get("title")
    if not isinstance(title, str):
        return url, None
    return url, title.strip()[:MAX_TITLE] or None


async def visitor_page(state: Any, visitor_id: str, frame: dict[str, Any]) -> None:
    """Store the page the visitor reported and tell the operator who has their chat."""
    url, title = check_page(frame)
    hub = state.hub
    now = hub.clock()
    await state.writer.run(repo.set_visitor_page, visitor_id=visitor_id, url=url, title=title, now=now)
    cid = hub.open_conversation_of(visitor_id)
    conv = hub.engine.conversations.get(cid) if cid is not None else None
    if conv is not None and conv.operator_id is not None:
        await hub.publish(
            operator_channel(conv.operator_id),
            {"type": PAGE, "conversation_id": cid, "url": url, "title": title, "ts": now},
        )
