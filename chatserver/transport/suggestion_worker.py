"""Reply suggestions for operators, computed in the loop's spare time after the chat itself.

The chat always comes first: the worker runs only when nothing else is ready, spends at most
its CPU share of the loop's time and never more than keeps the loop under 60 % busy
(`CpuBudget`), and under load answers only each chat's newest visitor message (older requests
for the same chat are replaced, not queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from chatserver.assistant import Assistant, Feedback, Usage
from chatserver.core.engine import Engine

from .channels import Channels, operator_channel
from .cpu_budget import CpuBudget
from .loop_load import busy_clock

log = logging.getLogger("chatserver.hub")

# A suggestion waits at most this long for the writer to be idle: under writes that never
# pause, suggestions still come, later.
WRITER_IDLE_WAIT_S = 0.02

RecordUsage = Callable[[list[Usage]], None]
RecordFeedback = Callable[[Feedback, int | None], None]  # (feedback, operator id)


class SuggestionWorker:
    """Pending suggestion requests, one per chat, and the task that answers them."""

    def __init__(
        self,
        *,
        engine: Engine,
        channels: Channels,
        assistant: Assistant | None,
        record_usage: RecordUsage | None,
        cpu_share: float,
        record_feedback: RecordFeedback | None = None,
        observe_latency: Callable[[float], None] | None = None,
        writer_idle: Callable[[], asyncio.Future[None]] | None = None,
    ) -> None:
        """``writer_idle``: a future resolved when the database writer has nothing in flight;
        each suggestion waits for it (at most `WRITER_IDLE_WAIT_S`), so its Python does not
        hold the GIL the writer thread needs mid-commit."""
        self._engine = engine
        self._channels = channels
        self._assistant = assistant
        self._record_usage = record_usage
        self._record_feedback = record_feedback
        self._cpu_share = cpu_share
        self._pending: dict[int, int] = {}
        self._asked_at: dict[int, float] = {}  # perf_counter of each pending request, for the metric
        self._observe_latency = observe_latency
        self._writer_idle = writer_idle
        self._last_visitor_seq: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._assistant is not None:
            self._task = asyncio.create_task(self._suggest_forever(self._assistant), name="hub-suggestions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def request(self, conversation_id: int, seq: int) -> None:
        """Ask for suggestions for the visitor message ``seq``; a newer request replaces an older one."""
        self._last_visitor_seq[conversation_id] = seq
        self._pending[conversation_id] = seq
        self._asked_at[conversation_id] = time.perf_counter()
        self._wake.set()

    def last_seq(self, conversation_id: int) -> int | None:
        """The chat's newest visitor message asked about, if any."""
        return self._last_visitor_seq.get(conversation_id)

    def request_again(self, conversation_id: int, *, known: int | None) -> None:
        """Suggestions for the chat's last visitor message once more (an operator was just briefed).

        ``known`` is the newest message when the briefing began: if a newer one arrived while
        the briefing awaited the database, that message already asked for its own suggestions,
        and asking again would send (and count) them twice.
        """
        seq = self._last_visitor_seq.get(conversation_id)
        if seq is not None and seq == known:
            self.request(conversation_id, seq)

    def conversation_closed(self, conversation_id: int) -> None:
        self._pending.pop(conversation_id, None)
        self._asked_at.pop(conversation_id, None)
        if self._assistant is not None:
            self._assistant.forget(conversation_id)

    def usage(self, usage: list[Usage]) -> None:
        """Count which library replies were used; a failure here never reaches the chat."""
        if usage and self._record_usage is not None:
            try:
                self._record_usage(usage)
            except Exception:
                log.exception("could not record reply usage")

    def feedback(self, feedback: Feedback | None, operator_id: int | None) -> None:
        """Keep what the operator taught the assistant; a failure here never reaches the chat."""
        if feedback is not None and self._record_feedback is not None:
            try:
                self._record_feedback(feedback, operator_id)
            except Exception:
                log.exception("could not record situation feedback")

    async def _suggest_forever(self, assistant: Assistant) -> None:
        """Compute suggestions after the messages they are about have gone out."""
        budget = CpuBudget(share=self._cpu_share)
        loop_busy = busy_clock(asyncio.get_running_loop())
        pending = self._pending
        while True:
            await self._wake.wait()
            self._wake.clear()
            while pending:
                await asyncio.sleep(0)  # let frames already waiting go first
                if self._writer_idle is not None:
                    idle = self._writer_idle()
                    if not idle.done():
                        await asyncio.wait((idle,), timeout=WRITER_IDLE_WAIT_S)
                now = time.perf_counter()
                if budget.allowance(now, loop_busy()) <= 0.0:
                    await asyncio.sleep(budget.until_next_window(now))
                    continue
                if not pending:
                    break
                cid = next(iter(pending))
                seq = pending.pop(cid)
                asked_at = self._asked_at.pop(cid, None)
                conv = self._engine.conversation(cid)
                if conv is None or conv.operator_id is None:
                    continue
                started = time.perf_counter()
                try:
                    frame, usage = assistant.suggestions(cid, seq)
                except Exception:
                    log.exception("suggestions failed for conversation %s", cid)
                    continue
                finally:
                    budget.spend(time.perf_counter() - started)
                await self._channels.publish(operator_channel(conv.operator_id), frame)
                if asked_at is not None and self._observe_latency is not None:
                    self._observe_latency(time.perf_counter() - asked_at)
                self.usage(usage)
