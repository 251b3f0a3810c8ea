"""Wait estimates: whom a waiting chat competes with, its position, and the honest range it is told.

A chat waits either for a team (its first operator) or for a transfer target (a team or one
colleague, never the operator handing it over). Two chats compete when the same operators could
take them, so a visitor's position counts only the chats ahead of them that could take their slot.
Read-only: nothing here changes the queue, the roster or a conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conversation import Conversation
from .pace import slowed
from .queue import WaitingQueue
from .roster import OperatorState, Roster
from .transfer import Transfer
from .wait_time import Estimate, HandleTime, RateMeter, RecentDelays, ReleaseModel, estimate_from

# The shortest range end we promise: a shorter one would be re-announced before anyone read it.
MIN_PROMISE_S = 2

# Who a queued chat is waiting for: ("team", team, excluded operator) or ("op", operator, excluded).
WaitKey = tuple[str, object, int | None]


def floored(estimate: Estimate) -> Estimate:
    """The promise: never ending before MIN_PROMISE_S nor before the estimate. The exact range
    (``low_exact`` .. ``high_exact``) is left as calibrated: a wait of a fraction of a second is
    told so in milliseconds even though the promise it holds is MIN_PROMISE_S."""
    if estimate.seconds is None:
        return estimate
    high = max(
        estimate.high if estimate.high is not None else estimate.seconds, estimate.seconds, MIN_PROMISE_S
    )
    return Estimate(estimate.seconds, estimate.low, high, estimate.low_exact, estimate.high_exact)


@dataclass(frozen=True, slots=True)
class Figures:
    """What a waiting visitor is told: position among chats competing for the same operators."""

    position: int
    estimate: Estimate
    online: int


def key_of_transfer(t: Transfer) -> WaitKey:
    if t.to_operator_id is not None:
        return ("op", t.to_operator_id, t.from_operator_id)
    return ("team", t.to_team, t.from_operator_id)


def key_of(conv: Conversation) -> WaitKey:
    if conv.transfer is not None:
        return key_of_transfer(conv.transfer)
    return ("team", conv.team, None)


class Estimator:
    """Positions and estimates for everyone in line, from the roster and the recent pace of work."""

    def __init__(
        self,
        *,
        conversations: dict[int, Conversation],
        roster: Roster,
        queue: WaitingQueue,
        handle_time: HandleTime,
        accept_delay: RecentDelays,
        cut_ins: RateMeter,
        transfer_offer_s: float,
        promise_notice_s: float,
    ) -> None:
        self.conversations = conversations
        self.roster = roster
        self.queue = queue
        self.handle_time = handle_time
        self.accept_delay = accept_delay
        self.cut_ins = cut_ins
        self.transfer_offer_s = transfer_offer_s
        self.promise_notice_s = promise_notice_s

    def eligible(self, key: WaitKey) -> list[OperatorState]:
        """The serving operators who could take a chat waiting for ``key`` (free or not)."""
        kind, target, excluded = key
        if kind == "op":
            return [op for op in self.roster if op.serving and op.operator_id == target]
        team = target if isinstance(target, str) else None
        return [
            op for op in self.roster if op.serving and op.eligible_for(team) and op.operator_id != excluded
        ]

    def competes(self, ahead: WaitKey, mine: WaitKey) -> bool:
        """Could a chat waiting for ``ahead`` take a slot this one needs?"""
        if ahead == mine:
            return True
        a = {op.operator_id for op in self.eligible(ahead)}
        b = {op.operator_id for op in self.eligible(mine)}
        if a and b:
            return bool(a & b)
        # Nobody online for one of them: say who would compete once people are back.
        return ahead[0] == mine[0] == "team" and (ahead[1] is None or mine[1] is None)

    def release_model(self, key: WaitKey, now: float) -> ReleaseModel | None:
        """When the eligible slots free: every slot with the age of its chat (a free one is about to
        take a chat from the line, age 0), the team's handle times (slower if the chats in progress
        are clearly too old for them), the chats that cut in."""
        eligible = self.eligible(key)
        if not eligible:
            return None
        ages: list[float] = []
        free = 0
        for op in eligible:
            held = 0
            for cid in op.chats:
                conv = self.conversations.get(cid)
                if conv is not None and conv.assigned_at is not None and held < op.capacity:
                    ages.append(max(now - conv.assigned_at, 0.0))
                    held += 1
            free += max(op.capacity - held, 0)
        team = key[1] if key[0] == "team" and isinstance(key[1], str) else None
        # The chats in progress show a slowdown before the finished ones do (chatserver/core/pace.py).
        handle = slowed(self.handle_time.model(team), ages)
        return ReleaseModel(ages + [0.0] * free, handle, self.cut_ins.rate(now))

    def estimate_for(
        self,
        key: WaitKey,
        position: int,
        now: float,
        model: ReleaseModel | None = None,
        free: int | None = None,
    ) -> Estimate:
        if free is None:
            free = sum(op.free_slots for op in self.eligible(key))
        team = key[1] if key[0] == "team" and isinstance(key[1], str) else None
        transfer = key[2] is not None
        extra = min(self.accept_delay.typical(team), self.transfer_offer_s) if transfer else 0.0
        if model is None:
            model = self.release_model(key, now)
        return floored(
            estimate_from(
                model,
                position - free,
                extra_s=extra,
                extra_high_s=self.transfer_offer_s if transfer else 0.0,
            )
        )

    def queue_figures(self, now: float) -> dict[int, Figures]:
        """Figures for every chat in line, in queue order."""
        figures: dict[int, Figures] = {}
        ahead: dict[WaitKey, int] = {}
        competes: dict[tuple[WaitKey, WaitKey], bool] = {}
        estimates: dict[tuple[WaitKey, int], Estimate] = {}
        online: dict[WaitKey, int] = {}
        models: dict[WaitKey, ReleaseModel | None] = {}
        free: dict[WaitKey, int] = {}
        for cid in self.queue:
            conv = self.conversations[cid]
            key = key_of(conv)
            before = 0
            for other, count in ahead.items():
                pair = (other, key)
                if pair not in competes:
                    competes[pair] = self.competes(other, key)
                if competes[pair]:
                    before += count
            ahead[key] = ahead.get(key, 0) + 1
            position = before + 1
            if (key, position) not in estimates:
                if key not in models:
                    models[key] = self.release_model(key, now)
                    free[key] = sum(op.free_slots for op in self.eligible(key))
                estimates[(key, position)] = self.estimate_for(key, position, now, models[key], free[key])
            if key not in online:
                online[key] = len(self.eligible(key))
            figures[cid] = Figures(position, estimates[(key, position)], online[key])
        return figures

    def priority_index(self) -> int:
        """Where a chat that goes first goes: after the chats already put first."""
        for index, cid in enumerate(self.queue):
            if not self.conversations[cid].priority:
                return index
        return len(self.queue)

    def if_queued(self, t: Transfer, now: float) -> Figures:
        """The figures this transfer would get if it joined the line now (ahead of first-time chats)."""
        key = key_of_transfer(t)
        index = self.priority_index()
        position = 1 + sum(
            1 for cid in list(self.queue)[:index] if self.competes(key_of(self.conversations[cid]), key)
        )
        return Figures(position, self.estimate_for(key, position, now), len(self.eligible(key)))

    def offer_estimate(self, t: Transfer) -> Estimate:
        """An offer is answered within the offer time, usually about as fast as recent ones were."""
        typical = min(self.accept_delay.typical(t.to_team), self.transfer_offer_s)
        high = int(self.transfer_offer_s + self.promise_notice_s)
        return floored(Estimate(int(round(typical)), 0, high))
