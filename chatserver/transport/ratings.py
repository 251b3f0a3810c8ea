"""Storing a visitor's rating and its JSON, the same for the REST route and the widget's frame."""

from __future__ import annotations

from typing import Any

from chatserver.storage import repository as repo
from chatserver.storage.models import ConversationRatingPublic

from .state import ServerState

__all__ = ["rating_json", "save_rating"]


async def save_rating(
    state: ServerState,
    *,
    visitor_id: str,
    conversation_id: int,
    score: int,
    nps: int | None,
    comment: str | None,
) -> ConversationRatingPublic | None:
    """Store the visitor's rating of their own conversation; None when it is not theirs."""
    rating: ConversationRatingPublic | None = await state.writer.run(
        repo.rate_conversation,
        conversation_id=conversation_id,
        visitor_id=visitor_id,
        score=score,
        nps=nps,
        comment=comment or None,
        now=state.clock(),
    )
    return rating


def rating_json(rating: ConversationRatingPublic) -> dict[str, Any]:
    return {
        "conversation_id": rating.conversation_id,
        "score": rating.score,
        "nps": rating.nps,
        "comment": rating.comment,
    }
