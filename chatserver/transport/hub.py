"""The hub: what the socket endpoints and routes call; it builds and wires the parts that do the work.

Endpoints parse frames and call the hub; the hub feeds events to the sans-I/O core through the
``CoreDriver`` (effects applied in order by one task, see ``appliers``), stores messages and
fans them out through broker channels (``channels``, ``message_relay``), and keeps what this
process knows about operators (``directory``), briefings (``briefing``), suggestions
(``suggestion_worker``) and the waiting etiquette (``etiquette``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from chatserver.assistant import Assistant, Usage
from chatserver.broker.base import Broker
from chatserver.core import events as ev
from chatserver.core import texts
from chatserver.core.effects import Refused
from chatserver.core.engine import Engine
from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage, StoredMessage
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .appliers import EffectAppliers
from .briefing import Briefing
from .channels import Channels, conv_channel, operator_channel, visitor_channel
from .core_driver import Clock, CoreDriver
from .directory import OperatorDirectory, OperatorInfo
from .etiquette import Etiquette
from .frames import ack_frame
from .hold_library import HoldLibraryStore
from .message_relay import MessageRelay
from .open_conversations import OpenConversations
from .outbox import Outbox
from .promises import PromiseRecorder
from .suggestion_worker import SuggestionWorker
from .transfers import Transfers
from .waiting import Waiting

# Re-exported: callers import these from here.
__all__ = ["Clock", "Hub", "ack_frame", "conv_channel", "operator_channel", "visitor_channel"]

OnCommitted = Callable[[StoredMessage | BaseException], None]  # the sender's answer: stored, or why not


class Hub:
    """Connections, channels, timers and the effect applier for one server process."""

    def __init__(
        self,
        *,
        engine: Engine,
        broker: Broker,
        writer: MessageWriter,
        clock: Clock = time.time,
        assistant: Assistant | None = None,
        record_usage: Callable[[list[Usage]], None] | None = None,
        suggest_cpu_share: float = 0.2,
    ) -> None:
        self.engine = engine
        self.broker = broker
        self.writer = writer
        self.clock = clock
        self.assistant = assistant
        self.core = CoreDriver(engine, clock)
        self.channels = Channels(broker)
        self.relay = MessageRelay(writer, self.channels, clock)
        self.directory = OperatorDirectory(writer)
        self.conversations = OpenConversations(writer, clock)
        self.suggestions = SuggestionWorker(
            engine=engine,
            channels=self.channels,
            assistant=assistant,
            record_usage=record_usage,
            cpu_share=suggest_cpu_share,
        )
        self.briefing = Briefing(
            engine=engine,
            writer=writer,
            directory=self.directory,
            relay=self.relay,
            suggestions=self.suggestions,
            assistant=assistant,
        )
        transfers = Transfers(
            writer=writer,
            broker=broker,
            clock=clock,
            ask=self.core.ask,
            channels=self.channels,
            directory=self.directory,
            conversations=self.conversations,
            relay=self.relay,
            briefing=self.briefing,
        )
        library = HoldLibraryStore(writer, clock)
        waiting = Waiting(
            engine=engine,
            writer=writer,
            clock=clock,
            ask=self.core.ask,
            channels=self.channels,
            directory=self.directory,
            conversations=self.conversations,
            relay=self.relay,
            library=library,
        )
        promises = PromiseRecorder(writer, clock)
        # Transfers, promises, hold messages, left messages, silence.
        self.etiquette = Etiquette(transfers=transfers, waiting=waiting, library=library, promises=promises)
        self.appliers = EffectAppliers(
            core=self.core,
            broker=broker,
            writer=writer,
            channels=self.channels,
            directory=self.directory,
            conversations=self.conversations,
            relay=self.relay,
            briefing=self.briefing,
            suggestions=self.suggestions,
            transfers=transfers,
            waiting=waiting,
            promises=promises,
        )
        self._timers = self.core.timers
        # Per visitor while a conversation is being opened: the lock and how many hold or wait.
        self._visitor_locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Rebuild routing state from storage, then start applying effects."""
        self.core.start(self.appliers.apply)
        self.suggestions.start()
        left_message = await self.etiquette.start()
        now = self.clock()
        for conv in await self.writer.read(repo.list_open_conversations):
            self.conversations.opened(conv.visitor_id, conv.id, conv.locale)
            self.dispatch(
                ev.ConversationRestored(
                    conversation_id=conv.id,
                    visitor_id=conv.visitor_id,
                    operator_id=conv.operator_id if conv.state != "waiting" else None,
                    waiting_since=conv.created_at,
                    team=conv.team,
                    locale=conv.locale,
                    left_message=conv.id in left_message,
                ),
                now=now,
            )

    async def stop(self) -> None:
        self.core.cancel_timers()
        await self.suggestions.stop()
        if self.core.running:
            await self.core.settle()
            await self.etiquette.flush()
            await self.core.stop()
        await self.channels.close()

    # ------------------------------------------------------------------ the core, channels, messages

    def dispatch(self, event: ev.Event, *, now: float | None = None) -> None:
        """Feed the core and queue its effects; they are applied in order by one task."""
        self.core.dispatch(event, now=now)

    def ask(self, event: ev.Event) -> Refused | None:
        """``dispatch`` for a request the core may refuse: a refusal comes back instead of being applied."""
        return self.core.ask(event)

    async def settle(self) -> None:
        """Wait until every effect queued so far has been applied (tests and shutdown)."""
        await self.core.settle()

    async def publish(self, channel: str, frame: dict[str, Any], *, seq: int = 0) -> None:
        await self.channels.publish(channel, frame, seq=seq)

    def listen(self, channel: str, outbox: Outbox) -> None:
        self.channels.listen(channel, outbox)

    def unlisten(self, channel: str, outbox: Outbox) -> None:
        self.channels.unlisten(channel, outbox)

    def forget(self, outbox: Outbox) -> None:
        self.channels.forget(outbox)

    async def store_and_fan_out(self, message: NewMessage) -> StoredMessage:
        return await self.relay.store_and_fan_out(message)

    async def fan_out_committed(self, pending: asyncio.Future[StoredMessage]) -> StoredMessage:
        return await self.relay.fan_out_committed(pending)

    async def system_message(self, conversation_id: int, text: str) -> StoredMessage:
        return await self.relay.system_message(conversation_id, text)

    async def replay(self, outbox: Outbox, conversation_id: int, after_seq: int) -> None:
        await self.relay.replay(outbox, conversation_id, after_seq)

    def request_suggestions(self, conversation_id: int, seq: int) -> None:
        self.suggestions.request(conversation_id, seq)

    # ------------------------------------------------------------------ visitors

    def open_conversation_of(self, visitor_id: str) -> int | None:
        return self.conversations.of_visitor(visitor_id)

    @contextlib.asynccontextmanager
    async def _visitor_turn(self, visitor_id: str) -> AsyncIterator[None]:
        """One of a visitor's messages at a time while a conversation is opened.

        The lock is dropped as soon as nobody holds or waits for it, so nothing is kept
        per visitor once their conversation is open (a long-running server sees millions).
        """
        entry = self._visitor_locks.get(visitor_id)
        if entry is None:
            entry = self._visitor_locks[visitor_id] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._visitor_locks[visitor_id]

    async def visitor_joined(self, outbox: Outbox, visitor_id: str, resume: tuple[int, int] | None) -> None:
        """A visitor socket said hello: subscribe it, replay what it missed, say where the chat stands."""
        self.channels.listen(visitor_channel(visitor_id), outbox)
        cid = self.conversations.of_visitor(visitor_id)
        if resume is not None and resume[0] != cid:
            # Resuming a conversation that has since closed: replay its tail, then say it ended.
            conv = await self.writer.read(repo.get_conversation, conversation_id=resume[0])
            if conv is not None and conv.visitor_id == visitor_id:
                await self.relay.replay(outbox, conv.id, resume[1])
                self.channels.unlisten(conv_channel(conv.id), outbox)
                outbox.put(f.encode(f.closed_frame(conv.id)))
        if cid is None:
            await self.etiquette.visitor_back(outbox, visitor_id, None, resume)
            return
        after = resume[1] if resume is not None and resume[0] == cid else 0
        await self.relay.replay(outbox, cid, after)
        await self.briefing.send_conversation_state(outbox, cid)
        await self.etiquette.visitor_back(outbox, visitor_id, cid, resume)

    async def send_conversation_state(self, outbox: Outbox, conversation_id: int) -> None:
        await self.briefing.send_conversation_state(outbox, conversation_id)

    async def visitor_message(
        self, *, visitor_id: str, locale: str | None, customer_id: int | None, client_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """Store a visitor's message, opening a conversation if none is open. Returns (stored, opened).

        The lock orders a visitor's messages while a conversation is being opened; it is let go
        once the message has its place in the writer's queue.
        """
        async with self._visitor_turn(visitor_id):
            cid = self.conversations.of_visitor(visitor_id)
            opened = cid is None
            if cid is None:
                conv = await self.writer.run(
                    repo.open_conversation,
                    visitor_id=visitor_id,
                    customer_id=customer_id,
                    locale=locale,
                    now=self.clock(),
                )
                cid = conv.id
                self.conversations.opened(visitor_id, cid, locale)
                for outbox in self.channels.listeners(visitor_channel(visitor_id)):
                    outbox.begin_sync(cid, 0)
                    self.channels.listen(conv_channel(cid), outbox)
                    outbox.end_sync(cid, [])
                for outbox in self.channels.listeners(visitor_channel(visitor_id)):
                    await outbox.subscriptions_ready()
            pending = self.writer.submit(
                NewMessage(cid, "visitor", visitor_id, client_id, text, self.clock())
            )
        stored = await self.relay.fan_out_committed(pending)
        if opened:
            previous = await self.writer.read(
                repo.last_operator_for_customer_or_visitor,
                visitor_id=visitor_id,
                customer_id=customer_id,
            )
            self.dispatch(
                ev.ConversationOpened(cid, visitor_id, previous_operator_id=previous, locale=locale)
            )
            if self.engine.conversations.get(cid) is not None and cid in self.engine.queue:
                if not self.engine.roster.serving(None):
                    await self.relay.system_message(cid, texts.text("no_operator_online", locale))
        return self._after_visitor_message(stored, text, locale, opened=opened)

    def visitor_message_nowait(
        self, *, visitor_id: str, locale: str | None, client_id: str, text: str, reply: OnCommitted
    ) -> asyncio.Future[StoredMessage] | None:
        """The hot path: queue a message to an open conversation and return at once.

        ``reply`` gets the stored message (or the error) right after its batch commits. None
        when there is no open conversation yet, or one is being opened: then the caller uses
        `visitor_message`, which waits.
        """
        cid = self.conversations.of_visitor(visitor_id)
        if cid is None or visitor_id in self._visitor_locks:
            return None
        pending = self.writer.submit(NewMessage(cid, "visitor", visitor_id, client_id, text, self.clock()))

        def then(stored: StoredMessage) -> None:
            self._after_visitor_message(stored, text, locale, opened=False)

        self.relay.when_committed(pending, reply, then)
        return pending

    def _after_visitor_message(
        self, stored: StoredMessage, text: str, locale: str | None, *, opened: bool
    ) -> tuple[StoredMessage, bool]:
        """What the core and the assistant learn from a committed visitor message."""
        cid = stored.conversation_id
        if not stored.duplicate:
            self.dispatch(ev.VisitorMessaged(cid))
        if not stored.duplicate and self.assistant is not None:
            self.assistant.visitor_said(cid, text, locale)
            self.suggestions.request(cid, stored.seq)
        return stored, opened

    async def visitor_typing(self, visitor_id: str, on: bool) -> None:
        cid = self.conversations.of_visitor(visitor_id)
        conv = self.engine.conversations.get(cid) if cid is not None else None
        if conv is None or conv.operator_id is None:
            return
        await self.channels.tell_operator(conv.operator_id, f.typing_frame(conv.id, on, "visitor"))

    # ------------------------------------------------------------------ operators

    def operator_holds(self, operator_id: int, conversation_id: object) -> bool:
        conv = self.engine.conversations.get(conversation_id) if isinstance(conversation_id, int) else None
        return conv is not None and conv.operator_id == operator_id

    async def operator_joined(self, outbox: Outbox, operator: Any) -> None:
        oid = operator.id
        self.directory.remember(operator)
        self.channels.listen(operator_channel(oid), outbox)
        first = self.directory.connected(oid, outbox)
        await outbox.subscriptions_ready()
        if first:
            self.dispatch(ev.OperatorConnected(oid, frozenset(operator.teams), operator.capacity))
        await self.settle()
        for cid in self.engine.operator_chats(oid):
            await self.briefing.brief_operator(outbox, cid)

    async def operator_left(self, outbox: Outbox, operator_id: int) -> None:
        if self.directory.disconnected(operator_id, outbox):
            self.dispatch(ev.OperatorDisconnected(operator_id))

    async def brief_operator(self, outbox: Outbox, conversation_id: int) -> None:
        """``assigned`` with who the visitor is, then the whole conversation so far, in order."""
        await self.briefing.brief_operator(outbox, conversation_id)

    def operator_status(self, operator_id: int, status: str) -> None:
        self.dispatch(ev.OperatorStatusChanged(operator_id, status))

    async def operator_message(
        self, *, operator_id: int, conversation_id: int, client_id: str, text: str
    ) -> StoredMessage:
        info = await self.directory.public(operator_id)
        stored = await self.relay.fan_out_committed(
            self.writer.submit(self._operator_new_message(info, conversation_id, client_id, text))
        )
        self._after_operator_message(stored, text)
        return stored

    def operator_message_nowait(
        self, *, operator_id: int, conversation_id: int, client_id: str, text: str, reply: OnCommitted
    ) -> asyncio.Future[StoredMessage] | None:
        """`visitor_message_nowait` for operators; None until the operator's name is known here."""
        info = self.directory.cached(operator_id)
        if info is None:
            return None
        pending = self.writer.submit(self._operator_new_message(info, conversation_id, client_id, text))
        self.relay.when_committed(pending, reply, lambda stored: self._after_operator_message(stored, text))
        return pending

    def _operator_new_message(
        self, info: OperatorInfo, conversation_id: int, client_id: str, text: str
    ) -> NewMessage:
        return NewMessage(
            conversation_id,
            "operator",
            str(info["id"]),
            client_id,
            text,
            self.clock(),
            author_name=info["name"],
            author_title=info["title"],
        )

    def _after_operator_message(self, stored: StoredMessage, text: str) -> None:
        if stored.duplicate:
            return
        self.dispatch(ev.OperatorReplied(stored.conversation_id))
        if self.assistant is not None:
            self.suggestions.usage(self.assistant.operator_sent(stored.conversation_id, text))

    async def operator_typing(self, operator_id: int, conversation_id: int, on: bool) -> None:
        conv = self.engine.conversations.get(conversation_id)
        if conv is None:
            return
        await self.channels.tell_visitor(conv.visitor_id, f.typing_frame(conversation_id, on, "operator"))

    def close_conversation(self, conversation_id: int) -> None:
        self.dispatch(ev.ConversationClosed(conversation_id))

    async def deactivate_operator(self, operator_id: int) -> None:
        """Close the operator's sockets now and hand their chats back to the queue at once."""
        self.directory.drop(operator_id)
        for outbox in self.directory.outboxes(operator_id):
            await outbox.close(f.CLOSE_UNAUTHORIZED, "account deactivated")
        self.directory.disconnect_all(operator_id)
        self.dispatch(ev.OperatorDisconnected(operator_id))
        self.dispatch(ev.TimerFired(f"grace:{operator_id}"))
