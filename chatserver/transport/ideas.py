"""Ideas heard: a visitor's feature request is recorded, counted with its near-duplicates, and
when an admin marks it planned or done, everyone who asked is told first, in their own chat.

An idea is recorded when an operator sends one of the suggested ``pointless_suggestion``
replies, or says so with an ``idea`` frame. The news is a system message in each asker's
conversation, in their language; a visitor whose chat has closed sees it on their next visit
(``idea_news``, that conversation's replay, then ``closed``), as an answered left message is shown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from chatserver import ideas
from chatserver.assistant import Feedback
from chatserver.core.engine import Engine
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .channels import Channels, conv_channel
from .core_driver import Clock
from .message_relay import MessageRelay
from .outbox import Outbox

log = logging.getLogger(__name__)

# The frame names live with every other in frames.py; re-exported for the callers here.
IDEA, IDEA_RECORDED, IDEA_NEWS = f.IDEA, f.IDEA_RECORDED, f.IDEA_NEWS
MAX_SUMMARY = 300
SHOWN_AT_ONCE = 3  # closed chats with news replayed on one visit, at most


def idea_recorded_frame(
    conversation_id: int, seq: int, result: dict[str, Any], idea: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": IDEA_RECORDED,
        "conversation_id": conversation_id,
        "seq": seq,
        "new": result["new"],
        "idea": {
            "id": idea["id"],
            "summary": idea["summary"],
            "status": idea["status"],
            "count": idea["count"],
        },
    }


class IdeasHeard:
    """Records ideas, changes their status (telling the askers), and shows news to returning visitors."""

    def __init__(
        self, *, engine: Engine, writer: MessageWriter, clock: Clock, channels: Channels, relay: MessageRelay
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._channels = channels
        self._relay = relay
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ recording

    async def heard(
        self,
        conversation_id: int,
        seq: int,
        *,
        operator_id: int | None,
        summary: str | None,
        language: str | None,
    ) -> dict[str, Any] | None:
        """Count visitor message ``seq`` as asking for an idea; the ``idea_recorded`` frame, or None
        if ``seq`` is not a visitor message of the conversation."""
        found = await self._writer.read(repo.visitor_message, conversation_id=conversation_id, seq=seq)
        if found is None:
            return None
        text: str = found["text"]
        summary = (summary or "").strip()[:MAX_SUMMARY] or text.strip()[:MAX_SUMMARY]
        key = ideas.key_of(summary)
        lang = (found["locale"] or language or "en")[:35]
        result = await self._writer.run(
            repo.record_idea,
            conversation_id=conversation_id,
            seq=seq,
            visitor_id=found["visitor_id"],
            customer_id=found["customer_id"],
            text=text,
            summary=summary,
            key=key,
            language=lang,
            operator_id=operator_id,
            now=self._clock(),
            choose=lambda known: ideas.same_idea(key, known),
        )
        listed = await self._writer.read(repo.list_ideas, idea_id=result["idea_id"])
        return idea_recorded_frame(conversation_id, seq, result, listed[0])

    def picked(self, feedback: Feedback, operator_id: int | None) -> None:
        """An operator sent a suggested reply; if it answers a feature request, the idea is heard."""
        if feedback.corrected != ideas.IDEA_SITUATION:
            return
        task = asyncio.get_running_loop().create_task(self._heard_and_tell(feedback, operator_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _heard_and_tell(self, feedback: Feedback, operator_id: int | None) -> None:
        try:
            frame = await self.heard(
                feedback.conversation_id,
                feedback.seq,
                operator_id=operator_id,
                summary=None,
                language=feedback.language,
            )
            if frame is not None and operator_id is not None:
                await self._channels.tell_operator(operator_id, frame)
        except Exception:
            log.exception("could not record the idea of conversation %s", feedback.conversation_id)

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------------ status and news

    async def set_status(self, idea_id: int, status: str) -> int | None:
        """Change the status; for planned and done, tell every asker not told yet. How many were
        told, or None if there is no such idea."""
        if not await self._writer.run(
            repo.set_idea_status, idea_id=idea_id, status=status, now=self._clock()
        ):
            return None
        if status not in ideas.TOLD_STATUSES:
            return 0
        idea = (await self._writer.read(repo.list_ideas, idea_id=idea_id))[0]
        told = 0
        for entry in await self._writer.read(repo.askers_to_tell, idea_id=idea_id, status=status):
            cid = entry["conversation_id"]
            stored = await self._relay.system_message(
                cid, ideas.news_text(status, entry["language"], idea["summary"])
            )
            # Open chats show it now (and in their replay); closed ones on the visitor's next visit.
            live = self._engine.conversation(cid) is not None
            await self._writer.run(
                repo.mark_told, asker_ids=entry["asker_ids"], status=status, news_seq=stored.seq, seen=live
            )
            told += 1
        return told

    async def visitor_back(
        self, outbox: Outbox, visitor_id: str, open_cid: int | None, resume: tuple[int, int] | None
    ) -> None:
        """After the welcome and replay: show news of their ideas held in chats that have closed."""
        unseen: list[int] = await self._writer.read_keyed(repo.unseen_idea_news_by_visitor, visitor_id, [])
        for cid in unseen[-SHOWN_AT_ONCE:]:
            # Marked first: news is shown once, even if this socket drops halfway through.
            await self._writer.run(repo.mark_idea_news_seen, visitor_id=visitor_id, conversation_id=cid)
            if cid == open_cid or (resume is not None and resume[0] == cid):
                continue  # replayed already
            outbox.put(f.encode({"type": IDEA_NEWS, "conversation_id": cid}))
            await self._relay.replay(outbox, cid, 0)
            self._channels.unlisten(conv_channel(cid), outbox)
            outbox.put(f.encode(f.closed_frame(cid)))
