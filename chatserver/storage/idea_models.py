"""The tables of visitors' ideas: one row per distinct idea, one per visitor message that asked for it.

Registered in the one SQLModel metadata by ``models`` (which imports this module at its end).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class Idea(SQLModel, table=True):
    __tablename__ = "idea"

    id: int | None = Field(default=None, primary_key=True)
    summary: str = Field(sa_type=Text)
    key: str = Field(sa_type=Text)  # chatserver.ideas.key_of: the normalized words
    language: str = Field(max_length=35)
    status: str = Field(default="new", max_length=20, index=True)
    created_at: float
    updated_at: float


class IdeaAsker(SQLModel, table=True):
    __tablename__ = "idea_asker"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_idea_asker_message"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_BigId)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    seq: int
    visitor_id: str = Field(foreign_key="visitor.id", max_length=64, index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    text: str = Field(sa_type=Text)
    language: str = Field(max_length=35)
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    created_at: float
    told_status: str | None = Field(default=None, max_length=20)  # the news they were last told
    news_seq: int | None = None  # the system message that told them
    news_seen: bool = False  # shown to them (live, or on their next visit)
