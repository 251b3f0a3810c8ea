"""Chat messages from the writer to the conversation's channel, and replays of stored ones.

Commit first, then deliver: nobody sees a message that a crash could still lose. A replay
reads history from storage while live messages are held back by the socket's outbox, which
then sends both in seq order without gaps or repeats.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage, StoredMessage
from chatserver.storage.writer import MessageWriter

from . import frames as f
from .channels import Channels, conv_channel
from .core_driver import Clock
from .outbox import Outbox

REPLAY_BATCH = 1000
OnCommitted = Callable[[StoredMessage | BaseException], None]  # the sender's answer: stored, or why not


class MessageRelay:
    """Stores messages and fans them out once committed; replays history to one socket."""

    def __init__(self, writer: MessageWriter, channels: Channels, clock: Clock) -> None:
        self._writer = writer
        self._channels = channels
        self._clock = clock

    async def store_and_fan_out(self, message: NewMessage) -> StoredMessage:
        """Commit first, then deliver: nobody sees a message that a crash could still lose."""
        return await self.fan_out_committed(self._writer.submit(message))

    async def fan_out_committed(self, pending: asyncio.Future[StoredMessage]) -> StoredMessage:
        stored = await pending
        self._channels.publish_message(stored)
        return stored

    def when_committed(
        self,
        pending: asyncio.Future[StoredMessage],
        reply: OnCommitted,
        then: Callable[[StoredMessage], None],
    ) -> None:
        """After the commit, in commit order: deliver the message, answer its sender, then ``then``.

        A callback, not a task: no wake-up per message on the hot path.
        """
        publish_message = self._channels.publish_message

        def committed(done: asyncio.Future[StoredMessage]) -> None:
            if done.cancelled():
                return
            error = done.exception()
            if error is not None:
                reply(error)
                return
            stored = done.result()
            publish_message(stored)
            reply(stored)
            then(stored)

        pending.add_done_callback(committed)

    async def system_message(self, conversation_id: int, text: str) -> StoredMessage:
        """A text the server writes into the chat (in the visitor's language), stored like any message."""
        return await self.store_and_fan_out(
            NewMessage(conversation_id, "system", "", None, text, self._clock())
        )

    async def replay(self, outbox: Outbox, conversation_id: int, after_seq: int) -> None:
        """Send every stored message after ``after_seq`` in order, then what arrived meanwhile."""
        outbox.begin_sync(conversation_id, after_seq)
        self._channels.listen(conv_channel(conversation_id), outbox)
        await outbox.subscriptions_ready()
        try:
            history = await self.history(conversation_id, after_seq)
        except BaseException:
            outbox.end_sync(conversation_id, [])
            raise
        outbox.end_sync(conversation_id, history)

    async def history(self, conversation_id: int, after_seq: int) -> list[tuple[int, str]]:
        """Every stored message after ``after_seq`` as (seq, frame), read a page at a time."""
        history: list[tuple[int, str]] = []
        cursor = after_seq
        while True:
            batch = await self._writer.read(
                repo.messages_after, conversation_id=conversation_id, after_seq=cursor, limit=REPLAY_BATCH
            )
            history.extend((m.seq, f.encode(f.message_frame(m))) for m in batch)
            if len(batch) < REPLAY_BATCH:
                return history
            cursor = batch[-1].seq
