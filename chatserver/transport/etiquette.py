"""The waiting etiquette over sockets: transfers, wait promises, hold messages, left messages, silence.

The core decides (``chatserver.core``); this module carries out its decisions for the hub: it
writes the texts in the visitor's language, stores them as system messages, sends the frames,
persists states, events and promises, and serves the hold-message library to admins. The rules
and their reasons are in ``docs/etiquette.md``; the frames in ``docs/protocol.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatserver.core import events as ev
from chatserver.core import hold, texts, transfer
from chatserver.core.effects import (
    AnswerLater,
    Effect,
    HoldingLine,
    HoldMessage,
    LateNotice,
    MessageLeft,
    PromiseMade,
    PromiseSettled,
    Refused,
    SilenceNudge,
    TransferAlternative,
    TransferCompleted,
    TransferMoved,
    TransferOffered,
    TransferOfferWithdrawn,
    TransferReturned,
    TransferStarted,
)
from chatserver.customers.context import context_for_assigned
from chatserver.storage import repository as repo
from chatserver.storage.records import NewMessage
from responses.fill import find_unfilled

from . import frames as f
from .outbox import Outbox

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("chatserver.etiquette")

# --- frame types ---------------------------------------------------------------------------
TRANSFER_OFFER = "transfer_offer"  # → receiver: the briefing
TRANSFER_ACCEPT = "transfer_accept"  # ← receiver
TRANSFER_DECLINE = "transfer_decline"  # ← receiver
TRANSFER_CANCEL = "transfer_cancel"  # ← original operator
TRANSFER_OFFER_WITHDRAWN = "transfer_offer_withdrawn"  # → receiver
TRANSFER_STATUS = "transfer_status"  # → original operator
TRANSFER_UPDATE = "transfer_update"  # → visitor
HOLD = "hold"  # → visitor: a wait-filler
LEAVE_MESSAGE = "leave_message"  # ← visitor
MESSAGE_LEFT = "message_left"  # → visitor (confirmation) and → operator (answer later)
MESSAGE_ANSWERED = "message_answered"  # → visitor, before the replay of an answered left message
NUDGE = "nudge"  # → operator

# --- error codes ---------------------------------------------------------------------------
TRANSFER_TARGET_OFFLINE = "transfer_target_offline"
TRANSFER_TARGET_BUSY = "transfer_target_busy"
TRANSFER_TEXT_INCOMPLETE = "transfer_text_incomplete"
TRANSFER_IN_PROGRESS = "transfer_in_progress"
UNKNOWN_TRANSFER_TARGET = "unknown_transfer_target"
NO_TRANSFER_OFFER = "no_transfer_offer"
NO_TRANSFER = "no_transfer"
NOT_WAITING = "not_waiting"

HOLD_SETTING = "hold_messages"
DEFAULT_HOLD_FILE = Path(hold.__file__).with_name("hold_messages.json")
# Other server processes pick up an admin's edit of the hold library within this long.
HOLD_LIBRARY_TTL_S = 10.0


def default_hold_library() -> hold.HoldLibrary:
    return hold.validate(json.loads(DEFAULT_HOLD_FILE.read_text(encoding="utf-8")))


def _range(low: int | None, high: int | None) -> dict[str, int | None]:
    """The range around an estimate, as every frame carries it."""
    return {"low_s": low, "high_s": high}


def _int_field(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Etiquette:
    """Carries out the etiquette effects for one hub, and takes the etiquette frames from sockets."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.library: hold.HoldLibrary = default_hold_library()
        self._library_read_at = -math.inf
        self._promise_keys: dict[int, str] = {}
        self._promise_ops: list[tuple[str, dict[str, Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._appliers: dict[type, Callable[[Any], Awaitable[None]]] = {
            TransferStarted: self._started,
            TransferOffered: self._offered,
            TransferOfferWithdrawn: self._withdrawn,
            TransferMoved: self._moved,
            TransferCompleted: self._completed,
            TransferReturned: self._returned,
            LateNotice: self._late,
            HoldMessage: self._hold,
            MessageLeft: self._message_left,
            AnswerLater: self._answer_later,
            SilenceNudge: self._nudge,
            HoldingLine: self._holding_line,
            PromiseMade: self._promise_made,
            PromiseSettled: self._promise_settled,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> set[int]:
        """Tidy what a previous run left in flight; the open chats whose visitor left a message."""
        now = self.hub.clock()
        await self.hub.writer.run(repo.reset_interrupted_transfers, now=now)
        await self.hub.writer.run(repo.interrupt_open_promises, now=now)
        await self._refresh_library(force=True)
        return await self.hub.writer.read(repo.left_message_conversations)

    async def flush(self) -> None:
        """Wait until every promise recorded so far is written (tests, shutdown)."""
        while self._flusher is not None and not self._flusher.done():
            await self._flusher

    async def apply(self, effect: Effect) -> None:
        applier = self._appliers.get(type(effect))
        if applier is not None:
            await applier(effect)
        elif isinstance(effect, Refused):
            log.info("refused without anyone asking: %r", effect)
        else:
            log.warning("no applier for %r", effect)

    # ------------------------------------------------------------------ helpers

    def _locale(self, conversation_id: int) -> str | None:
        return self.hub._conversation_locale.get(conversation_id)

    async def _operator(self, operator_id: int) -> dict[str, Any]:
        return await self.hub._operator_public(operator_id)

    async def _to(self, to_operator_id: int | None, to_team: str | None) -> dict[str, Any]:
        """The target as the operators see it."""
        if to_operator_id is not None:
            info = await self._operator(to_operator_id)
            return {"operator_id": to_operator_id, "name": info["name"], "title": info["title"]}
        return {"team": to_team}

    async def _target_phrase(
        self, locale: str | None, to_operator_id: int | None, to_team: str | None
    ) -> str:
        if to_operator_id is not None:
            info = await self._operator(to_operator_id)
            return texts.target_phrase(locale, name=info["name"], title=info["title"])
        return texts.target_phrase(locale, team=to_team)

    async def _visitor_to(self, to_operator_id: int | None, to_team: str | None) -> dict[str, Any]:
        """The target as the visitor sees it: a person's name and title, or the team."""
        if to_operator_id is not None:
            info = await self._operator(to_operator_id)
            return {"name": info["name"], "title": info["title"]}
        return {"team": to_team}

    async def _event(
        self, conversation_id: int, kind: str, data: dict[str, Any], operator_id: int | None = None
    ) -> None:
        await self.hub.writer.run(
            repo.append_conversation_event,
            conversation_id=conversation_id,
            kind=kind,
            now=self.hub.clock(),
            data=data,
            operator_id=operator_id,
        )

    async def _tell_operator(self, operator_id: int, frame: dict[str, Any]) -> None:
        from .hub import operator_channel

        await self.hub.publish(operator_channel(operator_id), frame)

    async def _tell_visitor(self, visitor_id: str, frame: dict[str, Any]) -> None:
        from .hub import visitor_channel

        await self.hub.publish(visitor_channel(visitor_id), frame)

    # ------------------------------------------------------------------ requests from sockets

    def _refusal(self, refused: Refused) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "type": f.ERROR,
            "code": refused.code,
            "message": refused.message,
            "conversation_id": refused.conversation_id,
        }
        if refused.alternatives:
            frame["alternatives"] = [self._alternative(a) for a in refused.alternatives]
        return frame

    @staticmethod
    def _alternative(a: TransferAlternative) -> dict[str, Any]:
        return {
            "to": {"team": a.team} if a.team is not None else None,
            "queue": a.queue,
            "operators_online": a.operators_online,
            "free_slots": a.free_slots,
            "estimated_wait_s": a.estimated_wait_s,
            **_range(a.low_s, a.high_s),
        }

    async def request_transfer(
        self, operator_id: int, conversation_id: int, frame: dict[str, Any], *, max_text_chars: int
    ) -> dict[str, Any] | None:
        """Check a ``transfer`` frame and hand it to the core: None when it started, else an error frame.

        The caller has checked that the operator holds the chat and gave a reason and a benefit.
        """
        reason, benefit = str(frame["reason"]).strip(), str(frame["benefit"]).strip()
        to = frame.get("to")
        if not isinstance(to, dict):
            raise f.FrameError(
                f.MISSING_FIELD, '\'transfer\' needs \'to\': {"operator_id": N} or {"team": "name"}'
            )
        to_operator_id, to_team = to.get("operator_id"), to.get("team")
        if to_operator_id is not None and not _int_field(to_operator_id):
            raise f.FrameError(f.INVALID_FIELD, "'to.operator_id' must be a number")
        if to_team is not None and not (isinstance(to_team, str) and to_team.strip()):
            raise f.FrameError(f.INVALID_FIELD, "'to.team' must be a team name")
        if (to_operator_id is None) == (to_team is None):
            raise f.FrameError(f.INVALID_FIELD, "'to' must name one operator_id or one team")
        queue = frame.get("queue", False)
        if not isinstance(queue, bool):
            raise f.FrameError(f.INVALID_FIELD, "'queue' must be true or false")
        text = frame.get("text")
        if text is not None:
            if not isinstance(text, str) or not text.strip():
                raise f.FrameError(f.INVALID_FIELD, "'text' must be the announcement, or left out")
            if len(text) > max_text_chars:
                raise f.FrameError(f.TEXT_TOO_LONG, f"'text' is longer than {max_text_chars} characters")
            missing = transfer.missing_parts(text, reason, benefit)
            if missing:
                return {
                    "type": f.ERROR,
                    "code": TRANSFER_TEXT_INCOMPLETE,
                    "message": "the announcement must keep the "
                    + ", the ".join(missing)
                    + ": write the reason and the benefit as given (or {reason}, {benefit}) and put {wait} "
                    "where the server writes the estimate",
                    "conversation_id": conversation_id,
                    "missing": missing,
                }
            probe = transfer.fill(text, reason="r", benefit="b", wait="w", target="t")
            unfilled = find_unfilled(probe)
            if unfilled:
                raise f.FrameError(f.UNFILLED_SLOT, "fill these before sending: " + ", ".join(unfilled))
        if to_operator_id is not None:
            target = await self.hub.writer.read(repo.get_operator, operator_id=to_operator_id)
            if target is None or not target.active:
                return self._refusal(
                    Refused(
                        conversation_id, UNKNOWN_TRANSFER_TARGET, f"there is no operator {to_operator_id}"
                    )
                )
        else:
            teams = {t.name for t in await self.hub.writer.read(repo.list_teams)}
            if to_team not in teams:
                return self._refusal(
                    Refused(conversation_id, UNKNOWN_TRANSFER_TARGET, f"there is no team {to_team!r}")
                )
        refused = self.hub.ask(
            ev.TransferRequested(
                conversation_id,
                operator_id,
                reason,
                benefit,
                to_operator_id=to_operator_id,
                to_team=to_team,
                queue=queue,
                text=text,
            )
        )
        return None if refused is None else self._refusal(refused)

    def answer_offer(self, operator_id: int, conversation_id: int, *, accept: bool) -> dict[str, Any] | None:
        event: ev.Event = (
            ev.TransferAccepted(conversation_id, operator_id)
            if accept
            else ev.TransferDeclined(conversation_id, operator_id)
        )
        refused = self.hub.ask(event)
        return None if refused is None else self._refusal(refused)

    def cancel_transfer(self, operator_id: int, conversation_id: int) -> dict[str, Any] | None:
        refused = self.hub.ask(ev.TransferCancelled(conversation_id, operator_id))
        return None if refused is None else self._refusal(refused)

    def leave_message(self, visitor_id: str) -> dict[str, Any] | None:
        cid = self.hub.open_conversation_of(visitor_id)
        if cid is None:
            raise f.FrameError(f.NO_OPEN_CONVERSATION, "there is no open conversation to leave a message in")
        refused = self.hub.ask(ev.LeaveMessage(cid))
        return None if refused is None else self._refusal(refused)

    @staticmethod
    def with_client_id(error: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
        """Echo the frame's client_id on an error, like every other error frame does."""
        if isinstance(frame.get("client_id"), str):
            error["client_id"] = frame["client_id"]
        return error

    async def visitor_back(
        self, outbox: Outbox, visitor_id: str, open_cid: int | None, resume: tuple[int, int] | None
    ) -> None:
        """After the welcome and replay: say a left message is waiting for its answer, or show an
        answer the visitor has not seen yet (replaying that conversation, then ``closed``)."""
        from .hub import conv_channel

        if open_cid is not None:
            conv = self.hub.engine.conversations.get(open_cid)
            if conv is None or not conv.left_message:
                return
            if conv.operator_id is None:
                outbox.put(f.encode({"type": MESSAGE_LEFT, "conversation_id": open_cid}))
            found = await self.hub.writer.read(repo.unseen_answer, visitor_id=visitor_id)
            if found is not None and found[0] == open_cid:
                await self._event(open_cid, repo.ANSWER_SEEN_EVENT, {"seq": found[1]})
            return
        found = await self.hub.writer.read(repo.unseen_answer, visitor_id=visitor_id)
        if found is None:
            return
        cid, seq = found
        # Marked first: an answer is shown once, even if this socket drops halfway through.
        await self._event(cid, repo.ANSWER_SEEN_EVENT, {"seq": seq})
        if resume is None or resume[0] != cid:
            outbox.put(f.encode({"type": MESSAGE_ANSWERED, "conversation_id": cid}))
            await self.hub.replay(outbox, cid, 0)
            self.hub.unlisten(conv_channel(cid), outbox)
            outbox.put(f.encode({"type": f.CLOSED, "conversation_id": cid}))

    # ------------------------------------------------------------------ transfers

    async def _started(self, e: TransferStarted) -> None:
        cid = e.conversation_id
        locale = self._locale(cid)
        await self.hub.writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="transferring",
            operator_id=e.from_operator_id,
            now=self.hub.clock(),
            event_kind="transfer_requested",
            data={
                "to_operator_id": e.to_operator_id,
                "to_team": e.to_team,
                "reason": e.reason,
                "benefit": e.benefit,
                "queued": e.queued,
                "estimated_wait_s": e.estimated_wait_s,
            },
        )
        target = await self._target_phrase(locale, e.to_operator_id, e.to_team)
        if e.text:
            wait = texts.wait_phrase(e.estimated_wait_s, e.low_s, e.high_s, locale)
            text = transfer.fill(e.text, reason=e.reason, benefit=e.benefit, wait=wait, target=target)
        else:
            text = texts.render(
                "transfer_announcement",
                locale,
                target=target,
                reason=transfer.clause(e.reason),
                benefit=transfer.clause(e.benefit),
                wait_sentence=texts.wait_sentence(e.estimated_wait_s, e.low_s, e.high_s, locale),
            )
        await self.hub.system_message(cid, text)
        status = "queued" if e.queued else "offering"
        await self._tell_visitor(
            e.visitor_id,
            {
                "type": f.TRANSFER,
                "conversation_id": cid,
                "text": text,
                "estimated_wait_s": e.estimated_wait_s,
                **_range(e.low_s, e.high_s),
                "status": status,
                "to": await self._visitor_to(e.to_operator_id, e.to_team),
                "reason": e.reason,
                "benefit": e.benefit,
            },
        )
        await self._tell_operator(
            e.from_operator_id,
            {
                "type": TRANSFER_STATUS,
                "conversation_id": cid,
                "status": status,
                "to": await self._to(e.to_operator_id, e.to_team),
                "text": text,
                "estimated_wait_s": e.estimated_wait_s,
                **_range(e.low_s, e.high_s),
            },
        )

    async def _offered(self, e: TransferOffered) -> None:
        """The briefing: why, what the visitor gains, who they are, their history and the transcript."""
        cid = e.conversation_id
        conv = await self.hub.writer.read(repo.get_conversation, conversation_id=cid)
        if conv is None:
            return
        customer = await context_for_assigned(self.hub.writer, conv)
        transcript = await self.hub.writer.read(
            repo.messages_after, conversation_id=cid, after_seq=0, limit=1000
        )
        sender = await self._operator(e.from_operator_id)
        now = self.hub.clock()
        await self._tell_operator(
            e.to_operator_id,
            {
                "type": TRANSFER_OFFER,
                "conversation_id": cid,
                "from": {"id": e.from_operator_id, "name": sender["name"], "title": sender["title"]},
                "reason": e.reason,
                "benefit": e.benefit,
                "attempt": e.attempt,
                "expires_in_s": max(int(round(e.expires_at - now)), 0),
                "visitor": {"id": conv.visitor_id, "locale": conv.locale},
                "customer": customer,
                "transcript": [f.message_frame(m) for m in transcript],
            },
        )
        await self._tell_operator(
            e.from_operator_id,
            {
                "type": TRANSFER_STATUS,
                "conversation_id": cid,
                "status": "offered",
                "to": await self._to(e.to_operator_id, None),
                "attempt": e.attempt,
            },
        )
        await self._event(cid, "transfer_offered", {"attempt": e.attempt}, operator_id=e.to_operator_id)

    async def _withdrawn(self, e: TransferOfferWithdrawn) -> None:
        await self._tell_operator(
            e.operator_id,
            {"type": TRANSFER_OFFER_WITHDRAWN, "conversation_id": e.conversation_id, "reason": e.reason},
        )
        if e.reason in ("expired", "declined"):
            await self._event(e.conversation_id, "transfer_offer_" + e.reason, {}, operator_id=e.operator_id)

    async def _moved(self, e: TransferMoved) -> None:
        cid = e.conversation_id
        locale = self._locale(cid)
        text = texts.render(
            "transfer_next",
            locale,
            target=texts.target_phrase(locale, team=e.to_team),
            wait_sentence=texts.wait_sentence(e.estimated_wait_s, e.low_s, e.high_s, locale),
        )
        await self.hub.system_message(cid, text)
        await self._tell_visitor(
            e.visitor_id,
            {
                "type": TRANSFER_UPDATE,
                "conversation_id": cid,
                "status": "next_operator",
                "text": text,
                "estimated_wait_s": e.estimated_wait_s,
                **_range(e.low_s, e.high_s),
            },
        )
        await self._tell_operator(
            e.from_operator_id, {"type": TRANSFER_STATUS, "conversation_id": cid, "status": "next_operator"}
        )

    async def _completed(self, e: TransferCompleted) -> None:
        from .hub import visitor_channel

        cid = e.conversation_id
        claim = f"claim:conv:{cid}"
        await self.hub.broker.release(claim, f"operator:{e.from_operator_id}")
        if not await self.hub.broker.claim(claim, f"operator:{e.to_operator_id}"):
            log.warning("conversation %s: another process claims it; transferring anyway", cid)
        await self.hub.writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="assigned",
            operator_id=e.to_operator_id,
            now=self.hub.clock(),
            event_kind="transferred",
            data={"from_operator_id": e.from_operator_id, "to_team": e.to_team, "reason": e.reason},
        )
        if e.to_team is not None:
            await self.hub.writer.run(repo.set_conversation_team, conversation_id=cid, team=e.to_team)
        info = await self._operator(e.to_operator_id)
        await self.hub.publish(
            visitor_channel(e.visitor_id),
            {
                "type": f.ASSIGNED,
                "conversation_id": cid,
                "operator": {"name": info["name"], "title": info["title"]},
            },
        )
        locale = self._locale(cid)
        await self.hub.system_message(cid, texts.render("transfer_accepted", locale, name=info["name"]))
        for outbox in list(self.hub._operator_outboxes.get(e.to_operator_id, ())):
            await self.hub.brief_operator(outbox, cid)
        await self._tell_operator(
            e.from_operator_id,
            {
                "type": TRANSFER_STATUS,
                "conversation_id": cid,
                "status": "accepted",
                "to": await self._to(e.to_operator_id, None),
            },
        )

    async def _returned(self, e: TransferReturned) -> None:
        cid = e.conversation_id
        locale = self._locale(cid)
        await self.hub.writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="assigned",
            operator_id=e.operator_id,
            now=self.hub.clock(),
            event_kind="transfer_" + e.reason,
            data={"to_operator_id": e.to_operator_id, "to_team": e.to_team},
        )
        info = await self._operator(e.operator_id)
        status = "cancelled" if e.reason == "cancelled" else "returned"
        key = "transfer_cancelled" if status == "cancelled" else "transfer_returned"
        target = await self._target_phrase(locale, e.to_operator_id, e.to_team)
        text = texts.render(key, locale, operator=info["name"], target=target)
        await self.hub.system_message(cid, text)
        operator = {"name": info["name"], "title": info["title"]}
        await self._tell_visitor(
            e.visitor_id,
            {
                "type": TRANSFER_UPDATE,
                "conversation_id": cid,
                "status": status,
                "text": text,
                "operator": operator,
            },
        )
        # Whoever shows "connecting you to a colleague" learns who is with the visitor again.
        await self._tell_visitor(
            e.visitor_id, {"type": f.ASSIGNED, "conversation_id": cid, "operator": operator}
        )
        await self._tell_operator(
            e.operator_id, {"type": TRANSFER_STATUS, "conversation_id": cid, "status": status}
        )

    # ------------------------------------------------------------------ waits and promises

    async def _late(self, e: LateNotice) -> None:
        locale = self._locale(e.conversation_id)
        if e.estimated_wait_s is None:
            text = texts.render("late_queue_none", locale)
        else:
            text = texts.render(
                "late_queue", locale, wait=texts.wait_phrase(e.estimated_wait_s, e.low_s, e.high_s, locale)
            )
        await self.hub.system_message(e.conversation_id, text)

    def _record(self, op: str, values: dict[str, Any]) -> None:
        """Queue a promise write; one writer call takes everything queued meanwhile, in order."""
        self._promise_ops.append((op, values))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_promises(), name="promise-writer")

    async def _flush_promises(self) -> None:
        await asyncio.sleep(0)
        while self._promise_ops:
            ops, self._promise_ops = self._promise_ops, []
            try:
                await self.hub.writer.run(repo.write_promises, ops=ops)
            except Exception:
                log.exception("could not record %d wait promise changes", len(ops))

    async def _promise_made(self, e: PromiseMade) -> None:
        key = uuid.uuid4().hex
        self._promise_keys[e.promise_id] = key
        self._record(
            "made",
            {
                "key": key,
                "conversation_id": e.conversation_id,
                "kind": e.kind,
                "made_at": e.made_at,
                "position": e.position,
                "estimate_s": e.estimate_s,
                "low_s": e.low_s,
                "high_s": e.high_s,
                "deadline": e.deadline,
                "wait_started_at": e.wait_started_at,
            },
        )

    async def _promise_settled(self, e: PromiseSettled) -> None:
        key = self._promise_keys.pop(e.promise_id, None)
        if key is not None:
            self._record(
                "settled", {"key": key, "outcome": e.outcome, "settled_at": e.at, "waited_s": e.waited_s}
            )

    # ------------------------------------------------------------------ hold messages

    async def _refresh_library(self, *, force: bool = False) -> None:
        now = self.hub.clock()
        if not force and now - self._library_read_at < HOLD_LIBRARY_TTL_S:
            return
        self._library_read_at = now
        raw = await self.hub.writer.read(repo.get_setting, key=HOLD_SETTING)
        if raw is None:
            self.library = default_hold_library()
            return
        try:
            self.library = hold.validate(json.loads(raw))
        except (ValueError, hold.InvalidHoldLibrary):
            log.exception("the stored hold library is unusable; using the default one")
            self.library = default_hold_library()

    async def hold_library(self) -> hold.HoldLibrary:
        await self._refresh_library(force=True)
        return self.library

    async def replace_hold_library(self, data: Any) -> hold.HoldLibrary:
        """Validate and store an admin's library (InvalidHoldLibrary says what is wrong)."""
        clean = hold.validate(data)
        await self.hub.writer.run(
            repo.put_setting,
            key=HOLD_SETTING,
            value=json.dumps(clean, ensure_ascii=False, separators=(",", ":")),
        )
        self.library = clean
        self._library_read_at = self.hub.clock()
        return clean

    async def reset_hold_library(self) -> hold.HoldLibrary:
        return await self.replace_hold_library(default_hold_library())

    async def _hold(self, e: HoldMessage) -> None:
        await self._refresh_library()
        locale = self._locale(e.conversation_id)
        kind = e.kind
        if kind == "queue" and e.estimated_wait_s is None:
            kind = "queue_offline"
        target = ""
        if kind == "transfer":
            target = await self._target_phrase(locale, e.to_operator_id, e.to_team)
        line = hold.pick(self.library, kind, locale, e.count)
        wait = texts.wait_phrase(e.estimated_wait_s, e.low_s, e.high_s, locale)
        # A frame, not a stored message: wait-fillers would crowd the transcript the next operator reads.
        await self._tell_visitor(
            e.visitor_id,
            {
                "type": HOLD,
                "conversation_id": e.conversation_id,
                "kind": e.kind,
                "text": hold.render(line, position=e.position, wait=wait, target=target),
                "position": e.position,
                "estimated_wait_s": e.estimated_wait_s,
                **_range(e.low_s, e.high_s),
            },
        )

    # ------------------------------------------------------------------ left messages

    async def _message_left(self, e: MessageLeft) -> None:
        cid = e.conversation_id
        if not e.again:
            await self._event(cid, repo.LEFT_MESSAGE_EVENT, {})
            await self.hub.system_message(cid, texts.render("message_left", self._locale(cid)))
        await self._tell_visitor(e.visitor_id, {"type": MESSAGE_LEFT, "conversation_id": cid})

    async def _answer_later(self, e: AnswerLater) -> None:
        await self._tell_operator(e.operator_id, {"type": MESSAGE_LEFT, "conversation_id": e.conversation_id})

    # ------------------------------------------------------------------ silence

    async def _nudge(self, e: SilenceNudge) -> None:
        await self._tell_operator(
            e.operator_id,
            {
                "type": NUDGE,
                "conversation_id": e.conversation_id,
                "stage": "nudge",
                "unanswered_since": e.since,
                "waited_s": int(e.waited_s),
            },
        )

    async def _holding_line(self, e: HoldingLine) -> None:
        info = await self._operator(e.operator_id)
        now = self.hub.clock()
        text = texts.render("holding_line", self._locale(e.conversation_id))
        await self.hub.store_and_fan_out(
            NewMessage(
                e.conversation_id,
                "operator",
                str(e.operator_id),
                None,
                text,
                now,
                author_name=info["name"],
                author_title=info["title"],
            )
        )
        await self._tell_operator(
            e.operator_id,
            {
                "type": NUDGE,
                "conversation_id": e.conversation_id,
                "stage": "holding_line",
                "unanswered_since": e.since,
                "waited_s": int(now - e.since),
                "text": text,
            },
        )
