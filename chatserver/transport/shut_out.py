"""A blocked visitor's sockets close in every process (the core's ``ShutOut``, a local effect).

The process where the operator blocked the visitor is not always the one holding the visitor's
sockets: the block goes through the core's log, and every process closes its own sockets of that
visitor with 4410, after the frames already queued for them (the ``boundary`` block, ``closed``).
"""

from __future__ import annotations

import asyncio

from chatserver.core.effects import ShutOut

from . import frames as f
from .channels import Channels, visitor_channel


class ShutOuts:
    """The local applier of ``ShutOut``; closing runs beside the effect applier, never blocking it."""

    def __init__(self, channels: Channels) -> None:
        self._channels = channels
        self._closing: set[asyncio.Task[None]] = set()

    async def shut_out(self, effect: ShutOut) -> None:
        for outbox in self._channels.listeners(visitor_channel(effect.visitor_id)):
            task = asyncio.create_task(outbox.close_after_sending(f.CLOSE_BLOCKED, f.VISITOR_BLOCKED))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
