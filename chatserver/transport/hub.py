"""The hub: what the socket endpoints and routes call; it builds and wires the parts that do the work.

Endpoints parse frames and call the hub; the hub feeds events to the sans-I/O core through the
``CoreDriver`` (effects applied in order by one task, see ``appliers``), stores messages and
fans them out through broker channels (``channels``, ``message_relay``), and keeps what this
process knows about operators (``directory``), briefings (``briefing``), suggestions
(``suggestion_worker``) and the waiting etiquette (``etiquette``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from chatserver.assistant import Assistant, Feedback, Usage
from chatserver.broker.base import Broker
from chatserver.core import events as ev
from chatserver.core.effects import CheckBackDue, Closed, Refused, ReplyWritten, ShutOut
from chatserver.core.engine import Engine
from chatserver.core.views import PresenceView
from chatserver.mail import MailSender
from chatserver.metrics import Metrics
from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage, StoredMessage
from chatserver.storage.writer import MessageWriter

from .appliers import EffectAppliers
from .briefing import Briefing
from .channels import Channels, conv_channel, operator_channel, visitor_channel
from .check_back_appliers import CheckBacks
from .cluster import ClusterMember
from .core_driver import Clock, CoreDriver
from .core_log import CoreLog
from .directory import OperatorDirectory
from .etiquette import Etiquette
from .frames import ack_frame
from .hold_library import HoldLibraryStore
from .ideas import IdeasHeard
from .message_relay import MessageRelay, OnCommitted
from .open_conversations import OpenConversations
from .operator_requests import OperatorRequests
from .outbox import Outbox
from .promises import PromiseRecorder
from .readiness import DatabaseProbe
from .redis_core_log import RedisLog
from .shut_out import ShutOuts
from .suggestion_worker import SuggestionWorker
from .transfers import Transfers
from .visitor_requests import VisitorRequests
from .waiting import Waiting
from .watchers import Watchers

# Re-exported: callers import these from here.
__all__ = ["Clock", "Hub", "ack_frame", "conv_channel", "operator_channel", "visitor_channel"]


class Hub:
    """One server process's chat: builds the parts, and hands each call to the part that does it."""

    def __init__(
        self,
        *,
        engine: Engine,
        broker: Broker,
        writer: MessageWriter,
        clock: Clock = time.time,
        assistant: Assistant | None = None,
        record_usage: Callable[[list[Usage]], None] | None = None,
        record_feedback: Callable[[Feedback, int | None], None] | None = None,
        suggest_cpu_share: float = 0.2,
        core_log: CoreLog | None = None,
        process: str = "",
        new_engine: Callable[[], Engine] | None = None,
        db_ping_timeout_s: float = 1.0,
        metrics: Metrics | None = None,
        mail: MailSender | None = None,
    ) -> None:
        self.engine = engine
        self.metrics = metrics or Metrics()
        self.metrics.watch_core(lambda: self.engine)
        writer.on_commit = self.metrics.committed
        self.broker = broker
        self.writer = writer
        self.clock = clock
        self.assistant = assistant
        self.process = process
        self.core = CoreDriver(engine, clock, core_log=core_log, process=process)
        self.core.observers.append(self._observe)
        self.cluster: ClusterMember | None = None
        if isinstance(core_log, RedisLog):
            self.cluster = ClusterMember(
                core=self.core,
                core_log=core_log,
                broker=broker,
                new_engine=new_engine or Engine,
                restore=self._restore_from_storage,
                on_resync=self._announce_operators,
            )
        self.channels = Channels(broker)
        self.database = DatabaseProbe(writer, clock, timeout_s=db_ping_timeout_s)
        self.relay = MessageRelay(writer, self.channels, clock)
        self.directory = OperatorDirectory(writer)
        self.conversations = OpenConversations(writer, clock)
        self.suggestions = SuggestionWorker(
            engine=engine,
            channels=self.channels,
            assistant=assistant,
            record_usage=record_usage,
            cpu_share=suggest_cpu_share,
            record_feedback=record_feedback,
            observe_latency=self.metrics.suggestion_latency.observe,
            writer_idle=writer.idle,
        )
        self.briefing = Briefing(
            engine=engine,
            writer=writer,
            directory=self.directory,
            relay=self.relay,
            suggestions=self.suggestions,
            assistant=assistant,
            clock=clock,
            channels=self.channels,
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
            observe_assignment=self.metrics.assignment_latency.observe,
        )
        # I don't know yet: the reminder and the answer by mail (check_backs.py).
        self.check_backs = CheckBacks(self, mail)
        self.appliers.shared[CheckBackDue] = self.check_backs.due
        self.appliers.shared[ReplyWritten] = self.check_backs.reply_written
        # A blocked visitor's sockets close wherever they are (shut_out.py).
        self.appliers.local[ShutOut] = ShutOuts(self.channels).shut_out
        # Supervisors watching a chat are told when it ends (supervision.py, watchers.py).
        self.watchers = Watchers()
        self.appliers.local[Closed] = self.watchers.then(self.appliers.local[Closed])
        self.visitors = VisitorRequests(
            engine=engine,
            writer=writer,
            clock=clock,
            core=self.core,
            channels=self.channels,
            relay=self.relay,
            conversations=self.conversations,
            briefing=self.briefing,
            waiting=waiting,
            suggestions=self.suggestions,
            assistant=assistant,
        )
        self.operators = OperatorRequests(
            engine=engine,
            writer=writer,
            clock=clock,
            core=self.core,
            channels=self.channels,
            relay=self.relay,
            directory=self.directory,
            briefing=self.briefing,
            suggestions=self.suggestions,
            assistant=assistant,
        )
        # Ideas heard: recorded when a feature request is answered, its askers told first.
        self.ideas = IdeasHeard(
            engine=engine, writer=writer, clock=clock, channels=self.channels, relay=self.relay
        )
        self.operators.on_pick.append(self.ideas.picked)
        self.visitors.on_back.append(self.ideas.visitor_back)
        # The same objects, under the names the tests look at.
        self._timers = self.core.timers
        self._visitor_locks = self.visitors.locks

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Rebuild routing state from storage (or take the service's, with several processes),
        then start applying effects."""
        self.core.start(self.appliers.apply, apply_run=self.appliers.apply_run, batched=self.appliers.batched)
        self.suggestions.start()
        await self.etiquette.start()
        if self.cluster is None:
            await self._restore_from_storage()
            await self.core.log.start()
            return
        await self.cluster.join()
        for conv in self.engine.open_conversations():
            self.conversations.opened(conv.visitor_id, conv.conversation_id, conv.locale)

    @property
    def ready(self) -> bool:
        """Routing works here: always with one process; with several, while the shared log and
        the broker's fan-out answer."""
        return self.cluster is None or (self.cluster.ready and self.cluster.healthy and self.broker.healthy)

    async def ready_to_serve(self) -> bool:
        """``ready`` and the database answers (checked at most once a second)."""
        database = await self.database.check()
        return self.ready and database

    @property
    def leading(self) -> bool:
        """This process runs the timers and the shared part of effects (always, with one process)."""
        return self.cluster is None or (self.ready and self.cluster.leading)

    async def _restore_from_storage(self) -> None:
        """Feed the core every open conversation from storage (the record)."""
        left_message = await self.etiquette.rebuild()
        owed = await self.writer.read(repo.owed_answers)
        now = self.clock()
        for conv in await self.writer.read(repo.list_open_conversations):
            self.conversations.opened(conv.visitor_id, conv.id, conv.locale)
            self.core.restore(
                ev.ConversationRestored(
                    conversation_id=conv.id,
                    visitor_id=conv.visitor_id,
                    operator_id=conv.operator_id if conv.state != "waiting" else None,
                    waiting_since=conv.created_at,
                    team=conv.team,
                    locale=conv.locale,
                    left_message=conv.id in left_message,
                    check_back_due_at=owed.check_backs.get(conv.id),
                    left_answered=conv.id in owed.left_answered,
                ),
                now,
            )
        # Boundary cool-downs outlive a restart: their end is in the abuse audit.
        for visitor_id, until in (await self.writer.read(repo.cool_downs_in_force, now=now)).items():
            self.core.restore(ev.VisitorCooledDown(visitor_id, until), now)

    async def _announce_operators(self, before: PresenceView) -> None:
        """After the shared state was rebuilt: the operators connected here are still here."""
        for oid in self.directory.operator_ids():
            seen = before.operator(oid)
            if seen.known:
                await self.core.ask(ev.OperatorConnected(oid, seen.teams, seen.capacity, self.process))
                self.core.dispatch(ev.OperatorStatusChanged(oid, seen.status))

    async def stop(self) -> None:
        if self.cluster is not None:
            await self.cluster.leave()
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

    async def ask(self, event: ev.Event) -> Refused | None:
        """``dispatch`` for a request the core may refuse: a refusal comes back instead of being applied."""
        return await self.core.ask(event)

    def _observe(self, event: ev.Event) -> None:
        """Every process learns every conversation opened, whichever process the visitor is on."""
        if isinstance(event, (ev.ConversationOpened, ev.ConversationRestored)):
            self.conversations.opened(event.visitor_id, event.conversation_id, event.locale)

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
        self.watchers.forget(outbox)

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

    async def visitor_joined(self, outbox: Outbox, visitor_id: str, resume: tuple[int, int] | None) -> None:
        """A visitor socket said hello: subscribe it, replay what it missed, say where the chat stands."""
        await self.visitors.joined(outbox, visitor_id, resume)

    async def send_conversation_state(self, outbox: Outbox, conversation_id: int) -> None:
        await self.briefing.send_conversation_state(outbox, conversation_id)

    async def visitor_message(
        self, *, visitor_id: str, locale: str | None, customer_id: int | None, client_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """Store a visitor's message, opening a conversation if none is open. Returns (stored, opened)."""
        return await self.visitors.message(
            visitor_id=visitor_id, locale=locale, customer_id=customer_id, client_id=client_id, text=text
        )

    def visitor_message_nowait(
        self, *, visitor_id: str, locale: str | None, client_id: str, text: str, reply: OnCommitted
    ) -> asyncio.Future[StoredMessage] | None:
        """The hot path: None when the caller must use `visitor_message`, which waits."""
        return self.visitors.message_nowait(
            visitor_id=visitor_id, locale=locale, client_id=client_id, text=text, reply=reply
        )

    async def visitor_typing(self, visitor_id: str, on: bool) -> None:
        await self.visitors.typing(visitor_id, on)

    # ------------------------------------------------------------------ operators

    def operator_holds(self, operator_id: int, conversation_id: object) -> bool:
        return self.operators.holds(operator_id, conversation_id)

    async def operator_joined(self, outbox: Outbox, operator: Any) -> None:
        await self.operators.joined(outbox, operator)

    async def operator_left(self, outbox: Outbox, operator_id: int) -> None:
        await self.operators.left(outbox, operator_id)

    async def brief_operator(self, outbox: Outbox, conversation_id: int) -> None:
        """``assigned`` with who the visitor is, then the whole conversation so far, in order."""
        await self.briefing.brief_operator(outbox, conversation_id)

    def operator_status(self, operator_id: int, status: str) -> None:
        self.operators.status(operator_id, status)

    async def operator_message(
        self, *, operator_id: int, conversation_id: int, client_id: str, text: str
    ) -> StoredMessage:
        return await self.operators.message(
            operator_id=operator_id, conversation_id=conversation_id, client_id=client_id, text=text
        )

    def operator_message_nowait(
        self, *, operator_id: int, conversation_id: int, client_id: str, text: str, reply: OnCommitted
    ) -> asyncio.Future[StoredMessage] | None:
        """`visitor_message_nowait` for operators; None until the operator's name is known here."""
        return self.operators.message_nowait(
            operator_id=operator_id,
            conversation_id=conversation_id,
            client_id=client_id,
            text=text,
            reply=reply,
        )

    async def operator_typing(self, operator_id: int, conversation_id: int, on: bool) -> None:
        await self.operators.typing(operator_id, conversation_id, on)

    def close_conversation(self, conversation_id: int) -> None:
        self.operators.close_conversation(conversation_id)

    async def deactivate_operator(self, operator_id: int) -> None:
        """Close the operator's sockets now and hand their chats back to the queue at once."""
        await self.operators.deactivate(operator_id)
