"""Assignment: giving chats to operators, taking them back, and draining the line into free slots.

The longest-waiting chat an operator may take goes first; chats that lost their operator go back
to the front of the line. A left message takes only a slot no waiting visitor can use.
"""

from __future__ import annotations

from .conversation import Conversation, State
from .effects import AnswerLater, Assign, Effect, Released, Requeued
from .promises import WaitRule
from .queue import WaitingQueue
from .roster import OFFLINE, OperatorState, Roster
from .routing import choose_operator
from .silence import SilenceRule
from .transfer import choose_receiver
from .transfer_rule import TransferRule
from .wait_time import RateMeter


class Assigner:
    """Moves chats between the line, the parked left messages and the operators' slots."""

    def __init__(
        self,
        *,
        conversations: dict[int, Conversation],
        roster: Roster,
        queue: WaitingQueue,
        parked: list[int],
        waits: WaitRule,
        transfers: TransferRule,
        silence: SilenceRule,
        cut_ins: RateMeter,
    ) -> None:
        self.conversations = conversations
        self.roster = roster
        self.queue = queue
        self.parked = parked
        self.waits = waits
        self.transfers = transfers
        self.silence = silence
        self.cut_ins = cut_ins

    def assign(
        self, conv: Conversation, op: OperatorState, now: float, out: list[Effect], *, sticky: bool
    ) -> None:
        conv.move(State.ASSIGNED)
        conv.operator_id = op.operator_id
        conv.assigned_at = now
        conv.priority = False
        op.chats.add(conv.id)
        op.idle_since = now
        self.waits.end(conv, now, out, "served")
        self.waits.forget(conv.id)
        out.append(Assign(conv.id, conv.visitor_id, op.operator_id, sticky=sticky))
        self.silence.operator_changed(conv, now, out)

    def unassign(self, conv: Conversation, now: float) -> None:
        op = self.roster.get(conv.operator_id) if conv.operator_id is not None else None
        if op is not None:
            op.chats.discard(conv.id)
        conv.move(State.WAITING)
        conv.operator_id = None
        conv.assigned_at = None

    def operator_lost(self, operator_id: int, now: float, out: list[Effect]) -> None:
        """The operator's grace period ran out: their chats go back to the front of the line."""
        op = self.roster.get(operator_id)
        if op is None or op.connected:
            return
        op.status = OFFLINE
        lost = sorted((self.conversations[c] for c in op.chats), key=lambda c: c.waiting_since)
        for conv in lost:
            if conv.transfer is not None:
                self.transfers.drop(conv, out, reason="operator_lost")
                self.waits.end(conv, now, out, "abandoned")
            self.unassign(conv, now)
            self.silence.operator_changed(conv, now, out)
            conv.priority = True
            out.append(Released(conv.id, operator_id))
            out.append(Requeued(conv.id, conv.visitor_id, operator_id, reason="operator_lost"))
        if lost and len(self.queue):
            self.cut_ins.hit(now, len(lost))
        self.queue.push_front([conv.id for conv in lost])
        for conv in lost:
            self.waits.enter(conv, now, out)

    def drain(self, now: float, out: list[Effect]) -> None:
        """Fill every free eligible slot with the longest-waiting chat it may take."""
        while len(self.queue):
            progressed = False
            for cid in list(self.queue):
                conv = self.conversations[cid]
                if conv.transfer is not None:
                    receiver = choose_receiver(self.roster, conv.transfer)
                    if receiver is None:
                        continue
                    self.transfers.offer(conv, receiver, now, out, announce=not conv.left_message)
                else:
                    choice = choose_operator(self.roster, team=conv.team, previous_operator_id=None)
                    if choice is None:
                        continue
                    self.queue.remove(cid)
                    self.assign(conv, choice[0], now, out, sticky=False)
                progressed = True
                break
            if not progressed:
                break
        # Left messages take only the slots no waiting visitor can use.
        for cid in list(self.parked):
            conv = self.conversations[cid]
            choice = choose_operator(self.roster, team=conv.team, previous_operator_id=None)
            if choice is None:
                continue
            self.parked.remove(cid)
            self.assign(conv, choice[0], now, out, sticky=False)
            out.append(AnswerLater(conv.id, choice[0].operator_id))
