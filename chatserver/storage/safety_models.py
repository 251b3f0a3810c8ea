"""Tables of supervision and of the abusive-visitor protocol: whispers, blocks, the audit.

Kept out of ``models.py`` (which registers them) so that file stays one screenful per family.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, Text
from sqlmodel import Field, SQLModel

BigId = BigInteger().with_variant(Integer(), "sqlite")  # as in models.py

# --- supervisors' whispers ------------------------------------------------------
# A supervisor's note to the operator holding a chat. Kept apart from `message` on purpose:
# nothing that reads messages for a visitor (replays, transcripts, past chats) can see them.


class WhisperBase(SQLModel):
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    supervisor_id: int = Field(foreign_key="operator.id")
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    text: str = Field(sa_type=Text)
    ts: float


class Whisper(WhisperBase, table=True):
    __tablename__ = "whisper"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


# --- abusive visitors: blocks and the audit of each step ----------------------


class VisitorBlock(SQLModel, table=True):
    """A visitor (and the signed-in customer behind them) the server refuses until an admin lifts it."""

    __tablename__ = "visitor_block"

    id: int | None = Field(default=None, primary_key=True)
    visitor_id: str = Field(index=True, max_length=64)
    customer_id: int | None = Field(default=None, index=True, foreign_key="customer.id")
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id")
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    created_at: float
    lifted_at: float | None = None
    lifted_by: int | None = Field(default=None, foreign_key="operator.id")


class AbuseAudit(SQLModel, table=True):
    """One step of the boundary protocol (warn, cool_down, block, lift, end_cool_down): who, when,
    which chat, and why (the operator's ``reason``; ``signal`` "hater" when the recognizer saw it)."""

    __tablename__ = "abuse_audit"

    id: int | None = Field(default=None, primary_key=True)
    step: str = Field(max_length=20)
    visitor_id: str = Field(max_length=64)
    conversation_id: int | None = Field(default=None, index=True, foreign_key="conversation.id")
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    block_id: int | None = Field(default=None, foreign_key="visitor_block.id")
    until: float | None = None
    ts: float = Field(index=True)
    reason: str | None = Field(default=None, sa_type=Text)
    signal: str | None = Field(default=None, max_length=20)
