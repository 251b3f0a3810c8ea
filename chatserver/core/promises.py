"""Waits, hold messages and promises: what a waiting visitor is told, and keeping it true.

Etiquette (``docs/etiquette.md``): every wait figure a visitor is given is recorded as a promise
(its range end is the deadline); before the deadline passes with the visitor still waiting, the
wait is re-estimated and the visitor told so (a late notice), never silently broken. While the
visitor waits, a hold message comes every ``hold_interval_s``. A visitor who left a message is not
waiting: no figures, promises or hold messages for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conversation import Conversation, State
from .effects import (
    CancelTimer,
    Effect,
    HoldMessage,
    LateNotice,
    PromiseMade,
    PromiseSettled,
    QueueUpdate,
    StartTimer,
)
from .estimates import Estimator, Figures
from .queue import WaitingQueue
from .wait_time import NO_ESTIMATE, Estimate, meaningfully_different

HOLD_PREFIX = "hold:"
PROMISE_PREFIX = "promise:"


@dataclass(frozen=True, slots=True)
class Promise:
    """The wait figure a visitor holds right now; broken if the wait runs past ``deadline``."""

    promise_id: int
    kind: str
    made_at: float
    estimate: int
    high: int
    deadline: float


def wait_kind(conv: Conversation) -> str:
    return "transfer" if conv.state is State.TRANSFERRING else "queue"


class WaitRule:
    """The current wait of each visitor: its hold messages, the figures they were told, their promise."""

    def __init__(
        self,
        *,
        conversations: dict[int, Conversation],
        queue: WaitingQueue,
        estimator: Estimator,
        hold_interval_s: float,
        promise_notice_s: float,
    ) -> None:
        self.conversations = conversations
        self.queue = queue
        self.estimator = estimator
        self.hold_interval_s = hold_interval_s
        self.promise_notice_s = promise_notice_s
        self._told: dict[int, Figures] = {}
        self._promises: dict[int, Promise] = {}
        self._promise_seq = 0

    # ------------------------------------------------------------------ what the visitor was told

    def told(self, conversation_id: int) -> Figures | None:
        """The figures last told to this waiting visitor (None when they are not waiting in line)."""
        return self._told.get(conversation_id)

    def remember(self, conversation_id: int, figures: Figures) -> None:
        self._told[conversation_id] = figures

    def forget(self, conversation_id: int) -> None:
        """The chat left the line (an offer, an operator, a dropped transfer): its figures are void."""
        self._told.pop(conversation_id, None)

    # ------------------------------------------------------------------ the wait itself

    def enter(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        if conv.left_message:
            return
        conv.wait_started_at = now
        conv.hold_count = 0
        if self.hold_interval_s > 0:
            out.append(StartTimer(HOLD_PREFIX + str(conv.id), now + self.hold_interval_s))

    def end(self, conv: Conversation, now: float, out: list[Effect], outcome: str) -> None:
        if conv.wait_started_at is None:
            return
        promise = self._promises.pop(conv.id, None)
        if promise is not None:
            if outcome == "served":
                outcome = "kept" if now <= promise.deadline else "broken"
            out.append(PromiseSettled(promise.promise_id, conv.id, outcome, now, now - conv.wait_started_at))
            out.append(CancelTimer(PROMISE_PREFIX + str(conv.id)))
        out.append(CancelTimer(HOLD_PREFIX + str(conv.id)))
        conv.wait_started_at = None
        self._told.pop(conv.id, None)

    # ------------------------------------------------------------------ promises

    def promise(
        self,
        conv: Conversation,
        kind: str,
        estimate: Estimate,
        position: int | None,
        now: float,
        out: list[Effect],
        *,
        timer: bool = True,
        late: bool = False,
    ) -> None:
        """Record what the visitor was just told; arrange to revise it before it would be broken."""
        started = conv.wait_started_at if conv.wait_started_at is not None else now
        old = self._promises.pop(conv.id, None)
        if old is not None:
            out.append(
                PromiseSettled(
                    old.promise_id, conv.id, "revised_late" if late else "revised", now, now - started
                )
            )
        if estimate.seconds is None or conv.left_message:
            # Nothing to promise: nobody could serve the chat, or the visitor is not waiting.
            out.append(CancelTimer(PROMISE_PREFIX + str(conv.id)))
            return
        self._promise_seq += 1
        high = max(estimate.high if estimate.high is not None else estimate.seconds, estimate.seconds)
        low = estimate.low if estimate.low is not None else estimate.seconds
        promise = Promise(self._promise_seq, kind, now, estimate.seconds, high, now + high)
        self._promises[conv.id] = promise
        out.append(
            PromiseMade(
                promise.promise_id,
                conv.id,
                kind,
                now,
                position,
                estimate.seconds,
                low,
                high,
                promise.deadline,
                started,
            )
        )
        if timer:
            notice = min(self.promise_notice_s, high / 4)
            out.append(StartTimer(PROMISE_PREFIX + str(conv.id), promise.deadline - notice))
        else:
            out.append(CancelTimer(PROMISE_PREFIX + str(conv.id)))

    def promise_due(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        """The promise would be broken soon and the visitor is still waiting: re-estimate and say so."""
        if conv.wait_started_at is None or conv.id not in self._promises or conv.id not in self.queue:
            return
        figures = self.estimator.queue_figures(now).get(conv.id)
        if figures is None:
            return
        kind = wait_kind(conv)
        estimate = figures.estimate
        self._told[conv.id] = figures
        out.append(
            QueueUpdate(
                conv.id,
                conv.visitor_id,
                figures.position,
                estimate.seconds,
                figures.online,
                estimate.low,
                estimate.high,
                kind=kind,
                low_ms=estimate.low_ms,
                high_ms=estimate.high_ms,
                late=True,
            )
        )
        out.append(LateNotice(conv.id, conv.visitor_id, kind, estimate.seconds, estimate.low, estimate.high))
        self.promise(conv, kind, estimate, figures.position, now, out, late=True)

    # ------------------------------------------------------------------ hold messages

    def hold_due(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        if conv.wait_started_at is None or conv.left_message:
            return
        t = conv.transfer
        kind = wait_kind(conv)
        figures = self._told.get(conv.id)
        if figures is not None:
            position: int | None = figures.position
            estimate = figures.estimate
        elif t is not None and t.offered_to is not None:
            promise = self._promises.get(conv.id)
            position = None
            remaining_high = int(promise.deadline - now) if promise is not None else None
            typical = self.estimator.offer_estimate(t).seconds or 0
            estimate = Estimate(typical, 0, max(remaining_high or typical, typical))
        else:
            position, estimate = None, NO_ESTIMATE
        out.append(
            HoldMessage(
                conv.id,
                conv.visitor_id,
                kind,
                position,
                estimate.seconds,
                estimate.low,
                estimate.high,
                conv.hold_count,
                to_team=t.to_team if t is not None else None,
                to_operator_id=t.to_operator_id if t is not None else None,
            )
        )
        conv.hold_count += 1
        out.append(StartTimer(HOLD_PREFIX + str(conv.id), now + self.hold_interval_s))

    # ------------------------------------------------------------------ announcing the line

    def announce_queue(self, now: float, out: list[Effect]) -> None:
        """Tell each waiting visitor whose position or operator count changed, or whose estimate moved."""
        if not len(self.queue):
            return
        for cid, figures in self.estimator.queue_figures(now).items():
            conv = self.conversations[cid]
            if conv.left_message:
                continue
            previous = self._told.get(cid)
            if (
                previous is not None
                and previous.position == figures.position
                and previous.online == figures.online
                and not meaningfully_different(previous.estimate, figures.estimate)
            ):
                continue
            self._told[cid] = figures
            kind = wait_kind(conv)
            estimate = figures.estimate
            out.append(
                QueueUpdate(
                    cid,
                    conv.visitor_id,
                    figures.position,
                    estimate.seconds,
                    figures.online,
                    estimate.low,
                    estimate.high,
                    kind=kind,
                    low_ms=estimate.low_ms,
                    high_ms=estimate.high_ms,
                )
            )
            self.promise(conv, kind, estimate, figures.position, now, out)
