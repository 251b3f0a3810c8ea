"""While the visitor waits: late notices, hold lines, left messages and silence nudges.

The core decides when (``chatserver.core``); this module writes the texts in the visitor's
language, stores those that belong in the transcript and sends the frames. A visitor may stop
waiting and leave the message instead: it is answered in the same conversation and shown on
their next visit. The rules and their reasons are in ``docs/etiquette.md``.
"""

from __future__ import annotations

from chatserver.core import events as ev
from chatserver.core import hold, texts
from chatserver.core.effects import (
    AnswerLater,
    HoldingLine,
    HoldMessage,
    LateNotice,
    MessageLeft,
    SilenceNudge,
)
from chatserver.core.engine import Engine
from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .channels import Channels, conv_channel
from .core_driver import Ask, Clock
from .directory import OperatorDirectory
from .hold_library import HoldLibraryStore
from .message_relay import MessageRelay
from .open_conversations import OpenConversations
from .outbox import Outbox


class Waiting:
    """Applies the waiting effects and takes ``leave_message`` from visitors' sockets."""

    def __init__(
        self,
        *,
        engine: Engine,
        writer: MessageWriter,
        clock: Clock,
        ask: Ask,
        channels: Channels,
        directory: OperatorDirectory,
        conversations: OpenConversations,
        relay: MessageRelay,
        library: HoldLibraryStore,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._ask = ask
        self._channels = channels
        self._directory = directory
        self._conversations = conversations
        self._relay = relay
        self._library = library

    async def left_message_conversations(self) -> set[int]:
        """The open chats whose visitor left a message (read once, at start)."""
        return await self._writer.read(repo.left_message_conversations)

    # ------------------------------------------------------------------ requests from sockets

    async def leave_message(self, visitor_id: str) -> f.Reply:
        cid = self._conversations.of_visitor(visitor_id)
        if cid is None:
            raise f.FrameError(f.NO_OPEN_CONVERSATION, "there is no open conversation to leave a message in")
        refused = await self._ask(ev.LeaveMessage(cid))
        return None if refused is None else f.refusal_frame(refused)

    async def visitor_back(
        self, outbox: Outbox, visitor_id: str, open_cid: int | None, resume: tuple[int, int] | None
    ) -> None:
        """After the welcome and replay: say a left message is waiting for its answer, or show an
        answer the visitor has not seen yet (replaying that conversation, then ``closed``)."""
        if open_cid is not None:
            conv = self._engine.conversation(open_cid)
            if conv is None or not conv.left_message:
                return
            if conv.operator_id is None:
                outbox.put(f.encode(f.message_left_frame(open_cid)))
            found = await self._writer.read_keyed(repo.unseen_answers, visitor_id, None)
            if found is not None and found[0] == open_cid:
                await self._conversations.record_event(open_cid, repo.ANSWER_SEEN_EVENT, {"seq": found[1]})
            return
        found = await self._writer.read_keyed(repo.unseen_answers, visitor_id, None)
        if found is None:
            return
        cid, seq = found
        # Marked first: an answer is shown once, even if this socket drops halfway through.
        await self._conversations.record_event(cid, repo.ANSWER_SEEN_EVENT, {"seq": seq})
        if resume is None or resume[0] != cid:
            outbox.put(f.encode(f.message_answered_frame(cid)))
            await self._relay.replay(outbox, cid, 0)
            self._channels.unlisten(conv_channel(cid), outbox)
            outbox.put(f.encode(f.closed_frame(cid)))

    # ------------------------------------------------------------------ waits

    async def late(self, e: LateNotice) -> None:
        locale = self._conversations.locale(e.conversation_id)
        if e.estimated_wait_s is None:
            text = texts.render("late_queue_none", locale)
        else:
            text = texts.render(
                "late_queue", locale, wait=texts.wait_phrase(e.estimated_wait_s, e.low_s, e.high_s, locale)
            )
        await self._relay.system_message(e.conversation_id, text)

    async def hold(self, e: HoldMessage) -> None:
        await self._library.refresh()
        locale = self._conversations.locale(e.conversation_id)
        kind = e.kind
        if kind == "queue" and e.estimated_wait_s is None:
            kind = "queue_offline"
        target = ""
        if kind == "transfer":
            target = await self._directory.target_phrase(locale, e.to_operator_id, e.to_team)
        line = hold.pick(self._library.library, kind, locale, e.count)
        wait = texts.wait_phrase(e.estimated_wait_s, e.low_s, e.high_s, locale)
        # A frame, not a stored message: wait-fillers would crowd the transcript the next operator reads.
        await self._channels.tell_visitor(
            e.visitor_id,
            f.hold_frame(
                e.conversation_id,
                kind=e.kind,
                text=hold.render(line, position=e.position, wait=wait, target=target),
                position=e.position,
                estimated_wait_s=e.estimated_wait_s,
                low_s=e.low_s,
                high_s=e.high_s,
            ),
        )

    # ------------------------------------------------------------------ left messages

    async def message_left(self, e: MessageLeft) -> None:
        cid = e.conversation_id
        if not e.again:
            await self._conversations.record_event(cid, repo.LEFT_MESSAGE_EVENT, {})
            await self._relay.system_message(
                cid, texts.render("message_left", self._conversations.locale(cid))
            )
        await self._channels.tell_visitor(e.visitor_id, f.message_left_frame(cid))

    async def answer_later(self, e: AnswerLater) -> None:
        email = await self._writer.read(repo.reply_email, conversation_id=e.conversation_id)
        await self._channels.tell_operator(e.operator_id, f.message_left_frame(e.conversation_id, email))

    # ------------------------------------------------------------------ silence

    async def nudge(self, e: SilenceNudge) -> None:
        await self._channels.tell_operator(
            e.operator_id,
            f.nudge_frame(
                e.conversation_id, stage="nudge", unanswered_since=e.since, waited_s=int(e.waited_s)
            ),
        )
        # Logged for the reports (etiquette: how often a visitor was left unanswered).
        await self._conversations.record_event(
            e.conversation_id, repo.SILENCE_NUDGE_EVENT, {"waited_s": int(e.waited_s)}, e.operator_id
        )

    async def holding_line(self, e: HoldingLine) -> None:
        info = await self._directory.public(e.operator_id)
        now = self._clock()
        text = texts.render("holding_line", self._conversations.locale(e.conversation_id))
        await self._relay.store_and_fan_out(
            NewMessage(
                e.conversation_id,
                "operator",
                str(e.operator_id),
                None,
                text,
                now,
                author_name=info["name"],
                author_title=info["title"],
            )
        )
        await self._channels.tell_operator(
            e.operator_id,
            f.nudge_frame(
                e.conversation_id,
                stage="holding_line",
                unanswered_since=e.since,
                waited_s=int(now - e.since),
                text=text,
            ),
        )
        await self._conversations.record_event(
            e.conversation_id, repo.HOLDING_LINE_EVENT, {"waited_s": int(now - e.since)}, e.operator_id
        )
