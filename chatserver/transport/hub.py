"""The hub: the one place that awaits, owns timers and fans frames out to sockets.

Endpoints parse frames and call the hub; the hub feeds events to the sans-I/O core
(``Engine.receive(event, now)``) and carries out the effects it returns, strictly in the order
the core produced them (one applier task), so storage, claims and notifications never race.
Frames reach sockets through broker channels: ``conv:<id>`` (messages, seen by everyone in the
conversation), ``visitor:<id>`` and ``operator:<id>`` (control frames for one person).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

from chatserver.assistant import Assistant, Usage
from chatserver.broker.base import Broker
from chatserver.core import events as ev
from chatserver.core import texts
from chatserver.core.effects import (
    Assign,
    CancelTimer,
    Closed,
    Effect,
    QueueUpdate,
    Refused,
    Released,
    Requeued,
    StartTimer,
)
from chatserver.core.engine import Engine
from chatserver.customers.context import context_for_assigned
from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage, StoredMessage
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .cpu_budget import CpuBudget
from .frames import message_frame
from .loop_load import busy_clock
from .outbox import Outbox

log = logging.getLogger("chatserver.hub")

Clock = Callable[[], float]


def conv_channel(conversation_id: int) -> str:
    return f"conv:{conversation_id}"


def visitor_channel(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


def operator_channel(operator_id: int) -> str:
    return f"operator:{operator_id}"


def ack_frame(m: StoredMessage) -> str:
    return f.encode({"type": f.ACK, "client_id": m.client_id, "message_id": m.message_id, "seq": m.seq})


def _envelope(seq: int, text: str) -> str:
    """Channel payloads carry the seq in front so receivers can drop repeats without parsing JSON."""
    return f"{seq} {text}"


def _open_envelope(payload: str) -> tuple[int, str]:
    head, _, text = payload.partition(" ")
    return int(head), text


class _ChannelSubscription:
    """An open broker subscription for one channel, shared by every local socket listening to it."""

    __slots__ = ("cm", "ready", "entered")

    def __init__(self, cm: AbstractAsyncContextManager[Any], ready: asyncio.Future[None]) -> None:
        self.cm = cm
        self.ready = ready
        self.entered = False


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
        self._record_usage = record_usage
        self._suggest_cpu_share = suggest_cpu_share
        self._suggest_pending: dict[int, int] = {}
        self._suggest_wake = asyncio.Event()
        self._suggester: asyncio.Task[None] | None = None
        self._listeners: dict[str, set[Outbox]] = {}
        self._channels: dict[str, _ChannelSubscription] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._effects: asyncio.Queue[list[Effect]] = asyncio.Queue()
        self._applier: asyncio.Task[None] | None = None
        self._operator_outboxes: dict[int, set[Outbox]] = {}
        self._operator_info: dict[int, dict[str, Any]] = {}
        self._open_by_visitor: dict[str, int] = {}
        self._conversation_locale: dict[int, str | None] = {}
        # Per visitor while a conversation is being opened: the lock and how many hold or wait.
        self._visitor_locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        self._last_visitor_seq: dict[int, int] = {}
        # Transfers, promises, hold messages, left messages, silence: see etiquette.py.
        from .etiquette import Etiquette

        self.etiquette = Etiquette(self)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Rebuild routing state from storage, then start applying effects."""
        self._applier = asyncio.create_task(self._apply_forever(), name="hub-effects")
        if self.assistant is not None:
            self._suggester = asyncio.create_task(self._suggest_forever(), name="hub-suggestions")
        left_message = await self.etiquette.start()
        now = self.clock()
        for conv in await self.writer.read(repo.list_open_conversations):
            self._open_by_visitor[conv.visitor_id] = conv.id
            self._conversation_locale[conv.id] = conv.locale
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
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._suggester is not None:
            self._suggester.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._suggester
        if self._applier is not None:
            await self._effects.join()
            await self.etiquette.flush()
            self._applier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._applier
        for sub in list(self._channels.values()):
            await self._exit_subscription(sub)
        self._channels.clear()
        for task in list(self._background):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ core driving

    def dispatch(self, event: ev.Event, *, now: float | None = None) -> None:
        """Feed the core and queue its effects; they are applied in order by one task."""
        effects = self.engine.receive(event, self.clock() if now is None else now)
        if effects:
            self._effects.put_nowait(effects)

    def ask(self, event: ev.Event) -> Refused | None:
        """``dispatch`` for a request the core may refuse: a refusal comes back instead of being applied."""
        effects = self.engine.receive(event, self.clock())
        refused = next((e for e in effects if isinstance(e, Refused)), None)
        rest: list[Effect] = [e for e in effects if not isinstance(e, Refused)]
        if rest:
            self._effects.put_nowait(rest)
        return refused

    async def settle(self) -> None:
        """Wait until every effect queued so far has been applied (tests and shutdown)."""
        await self._effects.join()

    async def _apply_forever(self) -> None:
        while True:
            effects = await self._effects.get()
            try:
                for effect in effects:
                    try:
                        await self._apply(effect)
                    except Exception:
                        log.exception("could not apply %r", effect)
            finally:
                self._effects.task_done()

    async def _apply(self, effect: Effect) -> None:
        if isinstance(effect, Assign):
            await self._apply_assign(effect)
        elif isinstance(effect, QueueUpdate):
            await self._apply_queue_update(effect)
        elif isinstance(effect, Requeued):
            await self._apply_requeued(effect)
        elif isinstance(effect, Released):
            self._release_operator(effect.operator_id, effect.conversation_id)
        elif isinstance(effect, Closed):
            await self._apply_closed(effect)
        elif isinstance(effect, StartTimer):
            self._start_timer(effect.key, effect.deadline)
        elif isinstance(effect, CancelTimer):
            handle = self._timers.pop(effect.key, None)
            if handle is not None:
                handle.cancel()
        else:
            await self.etiquette.apply(effect)

    def _start_timer(self, key: str, deadline: float) -> None:
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        delay = max(deadline - self.clock(), 0.0)

        def fire() -> None:
            self._timers.pop(key, None)
            self.dispatch(ev.TimerFired(key))

        self._timers[key] = loop.call_later(delay, fire)

    async def _apply_assign(self, effect: Assign) -> None:
        cid, oid = effect.conversation_id, effect.operator_id
        if not await self.broker.claim(f"claim:conv:{cid}", f"operator:{oid}"):
            self.dispatch(ev.ClaimLost(cid, oid))
            return
        now = self.clock()
        await self.writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="assigned",
            operator_id=oid,
            now=now,
            event_kind="assigned",
            data={"sticky": effect.sticky},
        )
        info = await self._operator_public(oid)
        await self.publish(
            visitor_channel(effect.visitor_id),
            {
                "type": f.ASSIGNED,
                "conversation_id": cid,
                "operator": {"name": info["name"], "title": info["title"]},
            },
        )
        for outbox in list(self._operator_outboxes.get(oid, ())):
            await self.brief_operator(outbox, cid)

    async def _apply_queue_update(self, effect: QueueUpdate) -> None:
        frame: dict[str, Any] = {
            "type": f.QUEUE,
            "conversation_id": effect.conversation_id,
            "position": effect.position,
            "estimated_wait_s": effect.estimated_wait_s,
            "operators_online": effect.operators_online,
            "low_s": effect.low_s,
            "high_s": effect.high_s,
            "kind": effect.kind,
        }
        if effect.late:
            frame["late"] = True
        await self.publish(visitor_channel(effect.visitor_id), frame)

    async def _apply_requeued(self, effect: Requeued) -> None:
        cid = effect.conversation_id
        await self.broker.release(f"claim:conv:{cid}", f"operator:{effect.operator_id}")
        await self.writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="waiting",
            operator_id=None,
            now=self.clock(),
            event_kind="requeued",
            data={"reason": effect.reason, "operator_id": effect.operator_id},
        )
        await self.system_message(cid, texts.text(effect.reason, self._conversation_locale.get(cid)))

    async def _apply_closed(self, effect: Closed) -> None:
        cid = effect.conversation_id
        await self.writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="closed",
            operator_id=effect.operator_id,
            now=self.clock(),
            event_kind="closed",
        )
        if effect.operator_id is not None:
            await self.broker.release(f"claim:conv:{cid}", f"operator:{effect.operator_id}")
        if self._open_by_visitor.get(effect.visitor_id) == cid:
            del self._open_by_visitor[effect.visitor_id]
        self._conversation_locale.pop(cid, None)
        self._suggest_pending.pop(cid, None)
        if self.assistant is not None:
            self.assistant.forget(cid)
        closed = {"type": f.CLOSED, "conversation_id": cid}
        await self.publish(visitor_channel(effect.visitor_id), closed)
        if effect.operator_id is not None:
            await self.publish(operator_channel(effect.operator_id), closed)
        for outbox in list(self._listeners.get(conv_channel(cid), ())):
            self.unlisten(conv_channel(cid), outbox)

    def _release_operator(self, operator_id: int, conversation_id: int) -> None:
        for outbox in list(self._operator_outboxes.get(operator_id, ())):
            self.unlisten(conv_channel(conversation_id), outbox)
            outbox.put(f.encode({"type": f.RELEASED, "conversation_id": conversation_id}))

    # ------------------------------------------------------------------ channels and fan-out

    async def publish(self, channel: str, frame: dict[str, Any], *, seq: int = 0) -> None:
        await self.broker.publish(channel, _envelope(seq, f.encode(frame)))

    def listen(self, channel: str, outbox: Outbox) -> None:
        """Deliver the channel's frames to this socket; one broker subscription per channel per process."""
        listeners = self._listeners.setdefault(channel, set())
        listeners.add(outbox)
        outbox.channels.add(channel)
        sub = self._channels.get(channel)
        if sub is None:
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            cm = self.broker.subscribe(channel, on_message=self._fan_out_to(channel))
            sub = self._channels[channel] = _ChannelSubscription(cm, ready)
            self._spawn(self._enter_subscription(channel, sub))
        if not sub.ready.done():
            outbox.pending_subscriptions.append(sub.ready)

    def unlisten(self, channel: str, outbox: Outbox) -> None:
        outbox.channels.discard(channel)
        listeners = self._listeners.get(channel)
        if listeners is None:
            return
        listeners.discard(outbox)
        if not listeners:
            del self._listeners[channel]
            sub = self._channels.pop(channel, None)
            if sub is not None and sub.entered:
                self._spawn(self._exit_subscription(sub))

    def forget(self, outbox: Outbox) -> None:
        for channel in list(outbox.channels):
            self.unlisten(channel, outbox)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _fan_out_to(self, channel: str) -> Callable[[str], None]:
        """The broker calls this for each payload on the channel: straight into the sockets' outboxes."""
        conversation_id = int(channel[5:]) if channel.startswith("conv:") else None
        listeners = self._listeners

        def fan_out(payload: str) -> None:
            seq, text = _open_envelope(payload)
            for outbox in tuple(listeners.get(channel, ())):
                outbox.deliver(conversation_id, seq, text)

        return fan_out

    async def _enter_subscription(self, channel: str, sub: _ChannelSubscription) -> None:
        """Subscribe without keeping a task per channel: enter now, exit when the last listener leaves."""
        try:
            await sub.cm.__aenter__()
            sub.entered = True
        except Exception:
            log.exception("could not subscribe to %s", channel)
        finally:
            if not sub.ready.done():
                sub.ready.set_result(None)
        if sub.entered and self._channels.get(channel) is not sub:
            await self._exit_subscription(sub)

    @staticmethod
    async def _exit_subscription(sub: _ChannelSubscription) -> None:
        if not sub.entered:
            return
        sub.entered = False
        try:
            await sub.cm.__aexit__(None, None, None)
        except Exception:
            log.exception("could not unsubscribe")

    # ------------------------------------------------------------------ messages

    async def store_and_fan_out(self, message: NewMessage) -> StoredMessage:
        """Commit first, then deliver: nobody sees a message that a crash could still lose."""
        return await self.fan_out_committed(self.writer.submit(message))

    async def fan_out_committed(self, pending: asyncio.Future[StoredMessage]) -> StoredMessage:
        stored = await pending
        self._fan_out_stored(stored)
        return stored

    def _fan_out_stored(self, stored: StoredMessage) -> None:
        if not stored.duplicate:
            channel = conv_channel(stored.conversation_id)
            self.broker.publish_nowait(channel, _envelope(stored.seq, f.encode(message_frame(stored))))

    def _when_committed(
        self,
        pending: asyncio.Future[StoredMessage],
        reply: Callable[[StoredMessage | BaseException], None],
        then: Callable[[StoredMessage], None],
    ) -> None:
        """After the commit, in commit order: deliver the message, answer its sender, then ``then``.

        A callback, not a task: no wake-up per message on the hot path.
        """

        def committed(done: asyncio.Future[StoredMessage]) -> None:
            if done.cancelled():
                return
            error = done.exception()
            if error is not None:
                reply(error)
                return
            stored = done.result()
            self._fan_out_stored(stored)
            reply(stored)
            then(stored)

        pending.add_done_callback(committed)

    async def system_message(self, conversation_id: int, text: str) -> StoredMessage:
        return await self.store_and_fan_out(
            NewMessage(conversation_id, "system", "", None, text, self.clock())
        )

    async def replay(self, outbox: Outbox, conversation_id: int, after_seq: int) -> None:
        """Send every stored message after ``after_seq`` in order, then what arrived meanwhile."""
        outbox.begin_sync(conversation_id, after_seq)
        self.listen(conv_channel(conversation_id), outbox)
        await outbox.subscriptions_ready()
        history: list[tuple[int, str]] = []
        cursor = after_seq
        while True:
            batch = await self.writer.read(
                repo.messages_after, conversation_id=conversation_id, after_seq=cursor, limit=1000
            )
            history.extend((m.seq, f.encode(message_frame(m))) for m in batch)
            if len(batch) < 1000:
                break
            cursor = batch[-1].seq
        outbox.end_sync(conversation_id, history)

    # ------------------------------------------------------------------ visitors

    def open_conversation_of(self, visitor_id: str) -> int | None:
        return self._open_by_visitor.get(visitor_id)

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
        self.listen(visitor_channel(visitor_id), outbox)
        cid = self._open_by_visitor.get(visitor_id)
        if resume is not None and resume[0] != cid:
            # Resuming a conversation that has since closed: replay its tail, then say it ended.
            conv = await self.writer.read(repo.get_conversation, conversation_id=resume[0])
            if conv is not None and conv.visitor_id == visitor_id:
                await self.replay(outbox, conv.id, resume[1])
                self.unlisten(conv_channel(conv.id), outbox)
                outbox.put(f.encode({"type": f.CLOSED, "conversation_id": conv.id}))
        if cid is None:
            await self.etiquette.visitor_back(outbox, visitor_id, None, resume)
            return
        after = resume[1] if resume is not None and resume[0] == cid else 0
        await self.replay(outbox, cid, after)
        await self.send_conversation_state(outbox, cid)
        await self.etiquette.visitor_back(outbox, visitor_id, cid, resume)

    async def send_conversation_state(self, outbox: Outbox, conversation_id: int) -> None:
        conv = self.engine.conversations.get(conversation_id)
        if conv is None:
            return
        if conv.operator_id is not None:
            info = await self._operator_public(conv.operator_id)
            outbox.put(
                f.encode(
                    {
                        "type": f.ASSIGNED,
                        "conversation_id": conversation_id,
                        "operator": {"name": info["name"], "title": info["title"]},
                    }
                )
            )
            return
        figures = self.engine.figures(conversation_id)
        if figures is not None:
            # The figures the visitor was last given: the promise they hold.
            frame = {
                "type": f.QUEUE,
                "conversation_id": conversation_id,
                "position": figures.position,
                "estimated_wait_s": figures.estimate.seconds,
                "operators_online": figures.online,
                "low_s": figures.estimate.low,
                "high_s": figures.estimate.high,
                "kind": "queue",
            }
            outbox.put(f.encode(frame))
            return
        for cid, position, estimate in self.engine.queue_snapshot():
            if cid == conversation_id:
                online = len(self.engine.roster.serving(conv.team))
                outbox.put(
                    f.encode(
                        {
                            "type": f.QUEUE,
                            "conversation_id": cid,
                            "position": position,
                            "estimated_wait_s": estimate,
                            "operators_online": online,
                        }
                    )
                )

    async def visitor_message(
        self, *, visitor_id: str, locale: str | None, customer_id: int | None, client_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """Store a visitor's message, opening a conversation if none is open. Returns (stored, opened).

        The lock orders a visitor's messages while a conversation is being opened; it is let go
        once the message has its place in the writer's queue.
        """
        async with self._visitor_turn(visitor_id):
            cid = self._open_by_visitor.get(visitor_id)
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
                self._open_by_visitor[visitor_id] = cid
                self._conversation_locale[cid] = locale
                for outbox in tuple(self._listeners.get(visitor_channel(visitor_id), ())):
                    outbox.begin_sync(cid, 0)
                    self.listen(conv_channel(cid), outbox)
                    outbox.end_sync(cid, [])
                for outbox in tuple(self._listeners.get(visitor_channel(visitor_id), ())):
                    await outbox.subscriptions_ready()
            pending = self.writer.submit(
                NewMessage(cid, "visitor", visitor_id, client_id, text, self.clock())
            )
        stored = await self.fan_out_committed(pending)
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
                    await self.system_message(cid, texts.text("no_operator_online", locale))
        return self._after_visitor_message(stored, text, locale, opened=opened)

    def visitor_message_nowait(
        self,
        *,
        visitor_id: str,
        locale: str | None,
        client_id: str,
        text: str,
        reply: Callable[[StoredMessage | BaseException], None],
    ) -> asyncio.Future[StoredMessage] | None:
        """The hot path: queue a message to an open conversation and return at once.

        ``reply`` gets the stored message (or the error) right after its batch commits. None
        when there is no open conversation yet, or one is being opened: then the caller uses
        `visitor_message`, which waits.
        """
        cid = self._open_by_visitor.get(visitor_id)
        if cid is None or visitor_id in self._visitor_locks:
            return None
        pending = self.writer.submit(NewMessage(cid, "visitor", visitor_id, client_id, text, self.clock()))

        def then(stored: StoredMessage) -> None:
            self._after_visitor_message(stored, text, locale, opened=False)

        self._when_committed(pending, reply, then)
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
            self.request_suggestions(cid, stored.seq)
        return stored, opened

    async def visitor_typing(self, visitor_id: str, on: bool) -> None:
        cid = self._open_by_visitor.get(visitor_id)
        conv = self.engine.conversations.get(cid) if cid is not None else None
        if conv is None or conv.operator_id is None:
            return
        await self.publish(
            operator_channel(conv.operator_id),
            {"type": f.TYPING, "conversation_id": cid, "on": on, "from": "visitor"},
        )

    # ------------------------------------------------------------------ suggestions

    def request_suggestions(self, conversation_id: int, seq: int) -> None:
        """Ask for suggestions for the visitor message ``seq``; a newer request replaces an older one."""
        self._last_visitor_seq[conversation_id] = seq
        self._suggest_pending[conversation_id] = seq
        self._suggest_wake.set()

    def _usage(self, usage: list[Usage]) -> None:
        if usage and self._record_usage is not None:
            try:
                self._record_usage(usage)
            except Exception:
                log.exception("could not record reply usage")

    async def _suggest_forever(self) -> None:
        """Compute suggestions after the messages they are about have gone out.

        The chat always comes first: the worker runs only when nothing else is ready, spends at
        most ``suggest_cpu_share`` of the loop's time and never more than keeps the loop under
        60 % busy (`CpuBudget`), and under load answers only each chat's newest visitor message
        (older requests for the same chat are replaced, not queued).
        """
        assert self.assistant is not None
        budget = CpuBudget(share=self._suggest_cpu_share)
        loop_busy = busy_clock(asyncio.get_running_loop())
        while True:
            await self._suggest_wake.wait()
            self._suggest_wake.clear()
            while self._suggest_pending:
                await asyncio.sleep(0)  # let frames already waiting go first
                now = time.perf_counter()
                if budget.allowance(now, loop_busy()) <= 0.0:
                    await asyncio.sleep(budget.until_next_window(now))
                    continue
                if not self._suggest_pending:
                    break
                cid = next(iter(self._suggest_pending))
                seq = self._suggest_pending.pop(cid)
                conv = self.engine.conversations.get(cid)
                if conv is None or conv.operator_id is None:
                    continue
                started = time.perf_counter()
                try:
                    frame, usage = self.assistant.suggestions(cid, seq)
                except Exception:
                    log.exception("suggestions failed for conversation %s", cid)
                    continue
                finally:
                    budget.spend(time.perf_counter() - started)
                await self.publish(operator_channel(conv.operator_id), frame)
                self._usage(usage)

    # ------------------------------------------------------------------ operators

    async def _operator_public(self, operator_id: int) -> dict[str, Any]:
        info = self._operator_info.get(operator_id)
        if info is None:
            op = await self.writer.read(repo.get_operator, operator_id=operator_id)
            info = {"id": operator_id, "name": op.name if op else "", "title": op.title if op else ""}
            self._operator_info[operator_id] = info
        return info

    def operator_holds(self, operator_id: int, conversation_id: object) -> bool:
        conv = self.engine.conversations.get(conversation_id) if isinstance(conversation_id, int) else None
        return conv is not None and conv.operator_id == operator_id

    async def operator_joined(self, outbox: Outbox, operator: Any) -> None:
        oid = operator.id
        self._operator_info[oid] = {"id": oid, "name": operator.name, "title": operator.title}
        self.listen(operator_channel(oid), outbox)
        first = not self._operator_outboxes.get(oid)
        self._operator_outboxes.setdefault(oid, set()).add(outbox)
        await outbox.subscriptions_ready()
        if first:
            self.dispatch(ev.OperatorConnected(oid, frozenset(operator.teams), operator.capacity))
        await self.settle()
        for cid in self.engine.operator_chats(oid):
            await self.brief_operator(outbox, cid)

    async def operator_left(self, outbox: Outbox, operator_id: int) -> None:
        outboxes = self._operator_outboxes.get(operator_id, set())
        outboxes.discard(outbox)
        if not outboxes:
            self._operator_outboxes.pop(operator_id, None)
            self.dispatch(ev.OperatorDisconnected(operator_id))

    async def brief_operator(self, outbox: Outbox, conversation_id: int) -> None:
        """``assigned`` with who the visitor is, then the whole conversation so far, in order."""
        conv = await self.writer.read(repo.get_conversation, conversation_id=conversation_id)
        if conv is None:
            return
        customer = await context_for_assigned(self.writer, conv)
        if self.assistant is not None:
            info = await self._operator_public(conv.operator_id) if conv.operator_id else None
            name = str(customer["name"]) if customer and customer["name"] else None
            self.assistant.set_context(
                conversation_id,
                {
                    "customer.name": name,
                    "customer.first_name": name.split()[0] if name else None,
                    "operator.name": info["name"] if info else None,
                    "operator.title": info["title"] if info else None,
                },
            )
        outbox.put(
            f.encode(
                {
                    "type": f.ASSIGNED,
                    "conversation_id": conversation_id,
                    "visitor": {"id": conv.visitor_id, "locale": conv.locale},
                    "customer": customer,
                }
            )
        )
        await self.replay(outbox, conversation_id, 0)
        if self.assistant is not None and conversation_id in self._last_visitor_seq:
            self.request_suggestions(conversation_id, self._last_visitor_seq[conversation_id])

    def operator_status(self, operator_id: int, status: str) -> None:
        self.dispatch(ev.OperatorStatusChanged(operator_id, status))

    async def operator_message(
        self, *, operator_id: int, conversation_id: int, client_id: str, text: str
    ) -> StoredMessage:
        info = await self._operator_public(operator_id)
        stored = await self.fan_out_committed(
            self.writer.submit(self._operator_new_message(info, conversation_id, client_id, text))
        )
        self._after_operator_message(stored, text)
        return stored

    def operator_message_nowait(
        self,
        *,
        operator_id: int,
        conversation_id: int,
        client_id: str,
        text: str,
        reply: Callable[[StoredMessage | BaseException], None],
    ) -> asyncio.Future[StoredMessage] | None:
        """`visitor_message_nowait` for operators; None until the operator's name is known here."""
        info = self._operator_info.get(operator_id)
        if info is None:
            return None
        pending = self.writer.submit(self._operator_new_message(info, conversation_id, client_id, text))
        self._when_committed(pending, reply, lambda stored: self._after_operator_message(stored, text))
        return pending

    def _operator_new_message(
        self, info: dict[str, Any], conversation_id: int, client_id: str, text: str
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
            self._usage(self.assistant.operator_sent(stored.conversation_id, text))

    async def operator_typing(self, operator_id: int, conversation_id: int, on: bool) -> None:
        conv = self.engine.conversations.get(conversation_id)
        if conv is None:
            return
        await self.publish(
            visitor_channel(conv.visitor_id),
            {"type": f.TYPING, "conversation_id": conversation_id, "on": on, "from": "operator"},
        )

    def close_conversation(self, conversation_id: int) -> None:
        self.dispatch(ev.ConversationClosed(conversation_id))

    async def deactivate_operator(self, operator_id: int) -> None:
        """Close the operator's sockets now and hand their chats back to the queue at once."""
        self._operator_info.pop(operator_id, None)
        for outbox in list(self._operator_outboxes.get(operator_id, ())):
            await outbox.close(f.CLOSE_UNAUTHORIZED, "account deactivated")
        self._operator_outboxes.pop(operator_id, None)
        self.dispatch(ev.OperatorDisconnected(operator_id))
        self.dispatch(ev.TimerFired(f"grace:{operator_id}"))
