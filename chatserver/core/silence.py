"""No silence (docs/playbook.md#no-silence).

A gap opens with the first visitor message that has no operator reply after it, and closes with
the next operator reply. While an operator holds the chat: after ``after_s`` the operator is
nudged; after twice that the visitor gets one holding line in the operator's name. Then nothing
more until the gap closes: one of each per gap, never a flood. The clock runs only while an
operator holds the chat (queue time is covered by hold messages) and restarts for a new operator.
"""

from __future__ import annotations

from .conversation import Conversation
from .effects import CancelTimer, Effect, HoldingLine, SilenceNudge, StartTimer

SILENCE_PREFIX = "silence:"


class SilenceRule:
    def __init__(self, after_s: float) -> None:
        self.after_s = after_s

    @property
    def enabled(self) -> bool:
        return self.after_s > 0

    def _key(self, conv: Conversation) -> str:
        return SILENCE_PREFIX + str(conv.id)

    def _arm(self, conv: Conversation, out: list[Effect]) -> None:
        if not self.enabled or conv.gap_since is None or conv.operator_id is None or conv.gap_stage >= 2:
            return
        out.append(StartTimer(self._key(conv), conv.gap_clock + self.after_s * (conv.gap_stage + 1)))

    def visitor_wrote(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        if conv.gap_since is not None:
            return  # the gap is already open: its clock keeps running from the first message
        conv.gap_since = now
        conv.gap_clock = now
        conv.gap_stage = 0
        self._arm(conv, out)

    def operator_replied(self, conv: Conversation, out: list[Effect]) -> None:
        if conv.gap_since is None:
            return
        conv.gap_since = None
        conv.gap_stage = 0
        out.append(CancelTimer(self._key(conv)))

    def operator_changed(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        """A new operator holds the chat (or none does): their clock starts now."""
        if conv.gap_since is None:
            return
        conv.gap_clock = max(conv.gap_since, now)
        conv.gap_stage = 0
        if conv.operator_id is None:
            out.append(CancelTimer(self._key(conv)))
        else:
            self._arm(conv, out)

    def stop(self, conv: Conversation, out: list[Effect]) -> None:
        if conv.gap_since is not None:
            out.append(CancelTimer(self._key(conv)))
        conv.gap_since = None

    def fired(self, conv: Conversation, now: float, out: list[Effect]) -> None:
        if conv.gap_since is None or conv.operator_id is None or conv.gap_stage >= 2:
            return
        if conv.gap_stage == 0:
            out.append(SilenceNudge(conv.id, conv.operator_id, conv.gap_since, now - conv.gap_since))
        elif not conv.left_message:
            # The visitor who left a message is not sitting there: a holding line would be noise.
            out.append(HoldingLine(conv.id, conv.visitor_id, conv.operator_id, conv.gap_since))
        conv.gap_stage += 1
        self._arm(conv, out)
