"""What a visitor's socket asks of the server: join, send messages, type.

A visitor's first message opens a conversation; while it is being opened, a lock per visitor
keeps their messages in order. Once it is open, messages take the hot path: queued to the
writer at once and answered when their batch commits, without a task per message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from chatserver.assistant import Assistant
from chatserver.core import events as ev
from chatserver.core import texts
from chatserver.core.engine import Engine
from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage, StoredMessage
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .briefing import Briefing
from .channels import Channels, conv_channel, visitor_channel
from .core_driver import Clock, CoreDriver
from .message_relay import MessageRelay, OnCommitted
from .open_conversations import OpenConversations
from .outbox import Outbox
from .suggestion_worker import SuggestionWorker
from .waiting import Waiting


class VisitorRequests:
    """Joins, messages and typing from visitors' sockets."""

    def __init__(
        self,
        *,
        engine: Engine,
        writer: MessageWriter,
        clock: Clock,
        core: CoreDriver,
        channels: Channels,
        relay: MessageRelay,
        conversations: OpenConversations,
        briefing: Briefing,
        waiting: Waiting,
        suggestions: SuggestionWorker,
        assistant: Assistant | None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._clock = clock
        self._core = core
        self._channels = channels
        self._relay = relay
        self._conversations = conversations
        self._briefing = briefing
        self._waiting = waiting
        self._suggestions = suggestions
        self._assistant = assistant
        # Called after a visitor's join has replayed and said where things stand (ideas' news).
        self.on_back: list[Callable[[Outbox, str, int | None, tuple[int, int] | None], Awaitable[None]]] = []
        # Per visitor while a conversation is being opened: the lock and how many hold or wait.
        self.locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def _turn(self, visitor_id: str) -> AsyncIterator[None]:
        """One of a visitor's messages at a time while a conversation is opened.

        The lock is dropped as soon as nobody holds or waits for it, so nothing is kept
        per visitor once their conversation is open (a long-running server sees millions).
        """
        entry = self.locks.get(visitor_id)
        if entry is None:
            entry = self.locks[visitor_id] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self.locks[visitor_id]

    async def joined(self, outbox: Outbox, visitor_id: str, resume: tuple[int, int] | None) -> None:
        """A visitor socket said hello: subscribe it, replay what it missed, say where the chat stands."""
        self._channels.listen(visitor_channel(visitor_id), outbox)
        cid = self._conversations.of_visitor(visitor_id)
        if resume is not None and resume[0] != cid:
            # Resuming a conversation that has since closed: replay its tail, then say it ended.
            conv = await self._writer.read(repo.get_conversation, conversation_id=resume[0])
            if conv is not None and conv.visitor_id == visitor_id:
                await self._relay.replay(outbox, conv.id, resume[1])
                self._channels.unlisten(conv_channel(conv.id), outbox)
                outbox.put(f.encode(f.closed_frame(conv.id)))
        if cid is None:
            await self._waiting.visitor_back(outbox, visitor_id, None, resume)
        else:
            after = resume[1] if resume is not None and resume[0] == cid else 0
            await self._relay.replay(outbox, cid, after)
            await self._briefing.send_conversation_state(outbox, cid)
            await self._waiting.visitor_back(outbox, visitor_id, cid, resume)
        for back in self.on_back:
            await back(outbox, visitor_id, cid, resume)

    async def message(
        self, *, visitor_id: str, locale: str | None, customer_id: int | None, client_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """Store a visitor's message, opening a conversation if none is open. Returns (stored, opened).

        The lock orders a visitor's messages while a conversation is being opened; it is let go
        once the message has its place in the writer's queue.
        """
        async with self._turn(visitor_id):
            cid = self._conversations.of_visitor(visitor_id)
            opened = cid is None
            previous: int | None = None
            if cid is None:
                # Opened in the writer's next group commit, with who served this visitor last.
                conv, previous = await self._writer.bulk(
                    repo.open_conversations,
                    visitor_id=visitor_id,
                    customer_id=customer_id,
                    locale=locale,
                    now=self._clock(),
                )
                cid = conv.id
                self._conversations.opened(visitor_id, cid, locale)
                for outbox in self._channels.listeners(visitor_channel(visitor_id)):
                    outbox.begin_sync(cid, 0)
                    self._channels.listen(conv_channel(cid), outbox)
                    outbox.end_sync(cid, [])
                for outbox in self._channels.listeners(visitor_channel(visitor_id)):
                    await outbox.subscriptions_ready()
            pending = self._writer.submit(
                NewMessage(cid, "visitor", visitor_id, client_id, text, self._clock())
            )
        stored = await self._relay.fan_out_committed(pending)
        if opened:
            # Awaited: whether the visitor now waits in line is read just below.
            await self._core.ask(
                ev.ConversationOpened(cid, visitor_id, previous_operator_id=previous, locale=locale)
            )
            if self._engine.queue_view.is_waiting(cid):
                if not self._engine.presence.anyone_serving():
                    await self._relay.system_message(cid, texts.text("no_operator_online", locale))
        return self._after_message(stored, text, locale, opened=opened)

    def message_nowait(
        self, *, visitor_id: str, locale: str | None, client_id: str, text: str, reply: OnCommitted
    ) -> asyncio.Future[StoredMessage] | None:
        """The hot path: queue a message to an open conversation and return at once.

        ``reply`` gets the stored message (or the error) right after its batch commits. None
        when there is no open conversation yet, or one is being opened: then the caller uses
        `message`, which waits.
        """
        cid = self._conversations.of_visitor(visitor_id)
        if cid is None or visitor_id in self.locks:
            return None
        pending = self._writer.submit(NewMessage(cid, "visitor", visitor_id, client_id, text, self._clock()))

        def then(stored: StoredMessage) -> None:
            self._after_message(stored, text, locale, opened=False)

        self._relay.when_committed(pending, reply, then)
        return pending

    def _after_message(
        self, stored: StoredMessage, text: str, locale: str | None, *, opened: bool
    ) -> tuple[StoredMessage, bool]:
        """What the core and the assistant learn from a committed visitor message."""
        cid = stored.conversation_id
        if not stored.duplicate:
            self._core.dispatch(ev.VisitorMessaged(cid))
        if not stored.duplicate and self._assistant is not None:
            self._assistant.visitor_said(cid, text, locale)
            self._suggestions.request(cid, stored.seq)
        return stored, opened

    async def typing(self, visitor_id: str, on: bool) -> None:
        cid = self._conversations.of_visitor(visitor_id)
        conv = self._engine.conversation(cid) if cid is not None else None
        if conv is None or conv.operator_id is None:
            return
        await self._channels.tell_operator(
            conv.operator_id, f.typing_frame(conv.conversation_id, on, "visitor")
        )
