"""Broker channels and the local fan-out from a channel to the sockets of this process.

Frames reach sockets through broker channels: ``conv:<id>`` (messages, seen by everyone in the
conversation), ``visitor:<id>`` and ``operator:<id>`` (control frames for one person). Each
process subscribes once per channel, however many of its sockets listen to it, and hands each
payload straight to those sockets' outboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

from chatserver.broker.base import Broker
from chatserver.storage.records import StoredMessage

from . import frames as f
from .outbox import Outbox

log = logging.getLogger("chatserver.hub")

CONV_PREFIX = "conv:"


def conv_channel(conversation_id: int) -> str:
    return f"{CONV_PREFIX}{conversation_id}"


def visitor_channel(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


def operator_channel(operator_id: int) -> str:
    return f"operator:{operator_id}"


def envelope(seq: int, text: str) -> str:
    """Channel payloads carry the seq in front so receivers can drop repeats without parsing JSON."""
    return f"{seq} {text}"


def open_envelope(payload: str) -> tuple[int, str]:
    head, _, text = payload.partition(" ")
    return int(head), text


class ChannelSubscription:
    """An open broker subscription for one channel, shared by every local socket listening to it."""

    __slots__ = ("cm", "ready", "entered")

    def __init__(self, cm: AbstractAsyncContextManager[Any], ready: asyncio.Future[None]) -> None:
        self.cm = cm
        self.ready = ready
        self.entered = False


class Channels:
    """Publishing to channels, and which local sockets listen to which channel."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._listeners: dict[str, set[Outbox]] = {}
        self._subscriptions: dict[str, ChannelSubscription] = {}
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ publishing

    async def publish(self, channel: str, frame: dict[str, Any], *, seq: int = 0) -> None:
        await self.broker.publish(channel, envelope(seq, f.encode(frame)))

    async def tell_visitor(self, visitor_id: str, frame: dict[str, Any]) -> None:
        await self.publish(visitor_channel(visitor_id), frame)

    async def tell_operator(self, operator_id: int, frame: dict[str, Any]) -> None:
        await self.publish(operator_channel(operator_id), frame)

    def publish_message(self, stored: StoredMessage) -> None:
        """A committed message to its conversation, without waiting (repeats of a stored one are not sent)."""
        if not stored.duplicate:
            channel = conv_channel(stored.conversation_id)
            self.broker.publish_nowait(channel, envelope(stored.seq, f.encode(f.message_frame(stored))))

    # ------------------------------------------------------------------ listening

    def listeners(self, channel: str) -> tuple[Outbox, ...]:
        """The local sockets listening to the channel now (a copy: listening may change meanwhile)."""
        return tuple(self._listeners.get(channel, ()))

    def listen(self, channel: str, outbox: Outbox) -> None:
        """Deliver the channel's frames to this socket; one broker subscription per channel per process."""
        listeners = self._listeners.setdefault(channel, set())
        listeners.add(outbox)
        outbox.channels.add(channel)
        sub = self._subscriptions.get(channel)
        if sub is None:
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            cm = self.broker.subscribe(channel, on_message=self._fan_out_to(channel))
            sub = self._subscriptions[channel] = ChannelSubscription(cm, ready)
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
            sub = self._subscriptions.pop(channel, None)
            if sub is not None and sub.entered:
                self._spawn(self._exit_subscription(sub))

    def unlisten_everyone(self, channel: str) -> None:
        for outbox in self.listeners(channel):
            self.unlisten(channel, outbox)

    def forget(self, outbox: Outbox) -> None:
        """A socket went away: stop listening everywhere it listened."""
        for channel in list(outbox.channels):
            self.unlisten(channel, outbox)

    async def close(self) -> None:
        """Leave every subscription and wait for the subscribing and leaving still under way."""
        for sub in list(self._subscriptions.values()):
            await self._exit_subscription(sub)
        self._subscriptions.clear()
        for task in list(self._background):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ subscriptions

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _fan_out_to(self, channel: str) -> Callable[[str], None]:
        """The broker calls this for each payload on the channel: straight into the sockets' outboxes."""
        conversation_id = int(channel[len(CONV_PREFIX) :]) if channel.startswith(CONV_PREFIX) else None
        listeners = self._listeners

        def fan_out(payload: str) -> None:
            seq, text = open_envelope(payload)
            for outbox in tuple(listeners.get(channel, ())):
                outbox.deliver(conversation_id, seq, text)

        return fan_out

    async def _enter_subscription(self, channel: str, sub: ChannelSubscription) -> None:
        """Subscribe without keeping a task per channel: enter now, exit when the last listener leaves."""
        try:
            await sub.cm.__aenter__()
            sub.entered = True
        except Exception:
            log.exception("could not subscribe to %s", channel)
        finally:
            if not sub.ready.done():
                sub.ready.set_result(None)
        if sub.entered and self._subscriptions.get(channel) is not sub:
            await self._exit_subscription(sub)

    @staticmethod
    async def _exit_subscription(sub: ChannelSubscription) -> None:
        if not sub.entered:
            return
        sub.entered = False
        try:
            await sub.cm.__aexit__(None, None, None)
        except Exception:
            log.exception("could not unsubscribe")
