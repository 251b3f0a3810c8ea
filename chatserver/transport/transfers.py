"""Transfers over sockets: the operators' requests, and carrying out what the core decided.

The core (``chatserver.core``) decides who is offered the chat and when it comes back; this
module checks the ``transfer`` frames, writes the announcements in the visitor's language,
stores them as system messages, moves the claim and the conversation's state, and tells the
visitor, the colleague asked and the operator who transfers. The rules and their reasons are
in ``docs/etiquette.md``; the frames in ``docs/protocol.md``.
"""

from __future__ import annotations

import logging
from typing import Any

from chatserver.broker.base import Broker
from chatserver.core import events as ev
from chatserver.core import texts, transfer
from chatserver.core.effects import (
    Refused,
    TransferCompleted,
    TransferMoved,
    TransferOffered,
    TransferOfferWithdrawn,
    TransferReturned,
    TransferStarted,
)
from chatserver.customers.context import context_for_assigned
from chatserver.logs import context
from chatserver.storage import repository as repo
from chatserver.storage.writer import MessageWriter
from responses.fill import find_unfilled

from . import frames as f
from .briefing import Briefing
from .channels import Channels
from .core_driver import Ask, Clock
from .directory import OperatorDirectory
from .message_relay import MessageRelay
from .open_conversations import OpenConversations

log = logging.getLogger("chatserver.etiquette")


def _int_field(value: Any) -> bool:
    return f.int64(value)


class Transfers:
    """Takes the transfer frames from operators' sockets and applies the transfer effects."""

    def __init__(
        self,
        *,
        writer: MessageWriter,
        broker: Broker,
        clock: Clock,
        ask: Ask,
        channels: Channels,
        directory: OperatorDirectory,
        conversations: OpenConversations,
        relay: MessageRelay,
        briefing: Briefing,
    ) -> None:
        self._writer = writer
        self._broker = broker
        self._clock = clock
        self._ask = ask
        self._channels = channels
        self._directory = directory
        self._conversations = conversations
        self._relay = relay
        self._briefing = briefing

    async def start(self) -> None:
        """Transfers a previous run left half done go back to their operator."""
        await self._writer.run(repo.reset_interrupted_transfers, now=self._clock())

    # ------------------------------------------------------------------ requests from sockets

    async def request_transfer(
        self, operator_id: int, conversation_id: int, frame: dict[str, Any], *, max_text_chars: int
    ) -> f.Reply:
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
                return f.transfer_text_incomplete_frame(conversation_id, missing)
            probe = transfer.fill(text, reason="r", benefit="b", wait="w", target="t")
            unfilled = find_unfilled(probe)
            if unfilled:
                raise f.FrameError(f.UNFILLED_SLOT, "fill these before sending: " + ", ".join(unfilled))
        if to_operator_id is not None:
            target = await self._writer.read(repo.get_operator, operator_id=to_operator_id)
            if target is None or not target.active:
                return f.refusal_frame(
                    Refused(
                        conversation_id, f.UNKNOWN_TRANSFER_TARGET, f"there is no operator {to_operator_id}"
                    )
                )
        else:
            teams = {t.name for t in await self._writer.read(repo.list_teams)}
            if to_team not in teams:
                return f.refusal_frame(
                    Refused(conversation_id, f.UNKNOWN_TRANSFER_TARGET, f"there is no team {to_team!r}")
                )
        return await self._asked(
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

    async def answer_offer(self, operator_id: int, conversation_id: int, *, accept: bool) -> f.Reply:
        event: ev.Event = (
            ev.TransferAccepted(conversation_id, operator_id)
            if accept
            else ev.TransferDeclined(conversation_id, operator_id)
        )
        return await self._asked(event)

    async def cancel_transfer(self, operator_id: int, conversation_id: int) -> f.Reply:
        return await self._asked(ev.TransferCancelled(conversation_id, operator_id))

    async def _asked(self, event: ev.Event) -> f.Reply:
        refused = await self._ask(event)
        return None if refused is None else f.refusal_frame(refused)

    # ------------------------------------------------------------------ effects

    async def started(self, e: TransferStarted) -> None:
        cid = e.conversation_id
        log.info(
            "conversation %s: transfer to %s asked (%s)",
            cid,
            f"operator {e.to_operator_id}" if e.to_operator_id is not None else f"team {e.to_team}",
            e.reason,
            extra=context(cid, e.from_operator_id, e.visitor_id),
        )
        locale = self._conversations.locale(cid)
        await self._writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="transferring",
            operator_id=e.from_operator_id,
            now=self._clock(),
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
        target = await self._directory.target_phrase(locale, e.to_operator_id, e.to_team)
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
        await self._relay.system_message(cid, text)
        status = "queued" if e.queued else "offering"
        await self._channels.tell_visitor(
            e.visitor_id,
            f.transfer_frame(
                cid,
                text=text,
                estimated_wait_s=e.estimated_wait_s,
                low_s=e.low_s,
                high_s=e.high_s,
                status=status,
                to=await self._directory.target_for_visitor(e.to_operator_id, e.to_team),
                reason=e.reason,
                benefit=e.benefit,
            ),
        )
        await self._channels.tell_operator(
            e.from_operator_id,
            f.transfer_status_frame(
                cid,
                status,
                to=await self._directory.target_for_operators(e.to_operator_id, e.to_team),
                text=text,
                estimated_wait_s=e.estimated_wait_s,
                **f.wait_range(e.low_s, e.high_s),
            ),
        )

    async def offered(self, e: TransferOffered) -> None:
        """The briefing: why, what the visitor gains, who they are, their history and the transcript."""
        cid = e.conversation_id
        conv = await self._writer.read(repo.get_conversation, conversation_id=cid)
        if conv is None:
            return
        customer = await context_for_assigned(self._writer, conv)
        transcript = await self._writer.read(
            repo.messages_after, conversation_id=cid, after_seq=0, limit=1000
        )
        sender = await self._directory.public(e.from_operator_id)
        now = self._clock()
        await self._channels.tell_operator(
            e.to_operator_id,
            f.transfer_offer_frame(
                cid,
                sender=sender,
                reason=e.reason,
                benefit=e.benefit,
                attempt=e.attempt,
                expires_in_s=max(int(round(e.expires_at - now)), 0),
                visitor_id=conv.visitor_id,
                locale=conv.locale,
                customer=customer,
                transcript=transcript,
            ),
        )
        await self._channels.tell_operator(
            e.from_operator_id,
            f.transfer_status_frame(
                cid,
                "offered",
                to=await self._directory.target_for_operators(e.to_operator_id, None),
                attempt=e.attempt,
            ),
        )
        await self._conversations.record_event(
            cid, "transfer_offered", {"attempt": e.attempt}, operator_id=e.to_operator_id
        )

    async def withdrawn(self, e: TransferOfferWithdrawn) -> None:
        await self._channels.tell_operator(
            e.operator_id, f.transfer_offer_withdrawn_frame(e.conversation_id, e.reason)
        )
        if e.reason in ("expired", "declined"):
            await self._conversations.record_event(
                e.conversation_id, "transfer_offer_" + e.reason, {}, operator_id=e.operator_id
            )

    async def moved(self, e: TransferMoved) -> None:
        cid = e.conversation_id
        locale = self._conversations.locale(cid)
        text = texts.render(
            "transfer_next",
            locale,
            target=texts.target_phrase(locale, team=e.to_team),
            wait_sentence=texts.wait_sentence(e.estimated_wait_s, e.low_s, e.high_s, locale),
        )
        await self._relay.system_message(cid, text)
        await self._channels.tell_visitor(
            e.visitor_id,
            f.transfer_update_frame(
                cid,
                "next_operator",
                text,
                estimated_wait_s=e.estimated_wait_s,
                **f.wait_range(e.low_s, e.high_s),
            ),
        )
        await self._channels.tell_operator(e.from_operator_id, f.transfer_status_frame(cid, "next_operator"))

    async def completed(self, e: TransferCompleted) -> None:
        cid = e.conversation_id
        claim = f"claim:conv:{cid}"
        await self._broker.release(claim, f"operator:{e.from_operator_id}")
        if not await self._broker.claim(claim, f"operator:{e.to_operator_id}"):
            log.warning(
                "conversation %s: another process claims it; transferring anyway",
                cid,
                extra=context(cid, e.to_operator_id, e.visitor_id),
            )
        log.info(
            "conversation %s: transferred from operator %s to %s",
            cid,
            e.from_operator_id,
            e.to_operator_id,
            extra=context(cid, e.to_operator_id, e.visitor_id),
        )
        await self._writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="assigned",
            operator_id=e.to_operator_id,
            now=self._clock(),
            event_kind="transferred",
            data={"from_operator_id": e.from_operator_id, "to_team": e.to_team, "reason": e.reason},
        )
        if e.to_team is not None:
            await self._writer.run(repo.set_conversation_team, conversation_id=cid, team=e.to_team)
        info = await self._directory.public(e.to_operator_id)
        await self._channels.tell_visitor(e.visitor_id, f.visitor_assigned_frame(cid, info))
        locale = self._conversations.locale(cid)
        await self._relay.system_message(cid, texts.render("transfer_accepted", locale, name=info["name"]))
        await self._channels.tell_operator(
            e.from_operator_id,
            f.transfer_status_frame(
                cid, "accepted", to=await self._directory.target_for_operators(e.to_operator_id, None)
            ),
        )

    async def completed_here(self, e: TransferCompleted) -> None:
        """In every process: brief the sockets the new operator has open here."""
        await self._briefing.brief_everywhere(e.to_operator_id, e.conversation_id)

    async def returned(self, e: TransferReturned) -> None:
        cid = e.conversation_id
        log.info(
            "conversation %s: transfer ended without a taker (%s)",
            cid,
            e.reason,
            extra=context(cid, e.operator_id, e.visitor_id),
        )
        locale = self._conversations.locale(cid)
        await self._writer.run(
            repo.set_conversation_state,
            conversation_id=cid,
            state="assigned",
            operator_id=e.operator_id,
            now=self._clock(),
            event_kind="transfer_" + e.reason,
            data={"to_operator_id": e.to_operator_id, "to_team": e.to_team},
        )
        info = await self._directory.public(e.operator_id)
        status = "cancelled" if e.reason == "cancelled" else "returned"
        key = "transfer_cancelled" if status == "cancelled" else "transfer_returned"
        target = await self._directory.target_phrase(locale, e.to_operator_id, e.to_team)
        text = texts.render(key, locale, operator=info["name"], target=target)
        await self._relay.system_message(cid, text)
        await self._channels.tell_visitor(
            e.visitor_id, f.transfer_update_frame(cid, status, text, operator=f.person(info))
        )
        # Whoever shows "connecting you to a colleague" learns who is with the visitor again.
        await self._channels.tell_visitor(e.visitor_id, f.visitor_assigned_frame(cid, info))
        await self._channels.tell_operator(e.operator_id, f.transfer_status_frame(cid, status))
