"""SQLModel tables and the Create/Public shapes the API layer exposes.

All timestamps are float unix seconds supplied by the caller, so the stored
values match the `ts` fields on the wire and tests can pin time.
Migrations (not `metadata.create_all`) create these tables; a test checks
that the two never drift apart.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

OPERATOR_ROLES = ("operator", "admin", "supervisor")
CONVERSATION_STATES = ("waiting", "assigned", "transferring", "closed")
OPEN_STATES = ("waiting", "assigned", "transferring")
SENDERS = ("visitor", "operator", "system")

# 64-bit ids where rows pile up, but plain INTEGER on SQLite so the column
# stays an alias of the rowid (and keeps autoincrementing).
BigId = BigInteger().with_variant(Integer(), "sqlite")


# --- teams -------------------------------------------------------------------


class TeamBase(SQLModel):
    name: str = Field(unique=True, max_length=100)


class Team(TeamBase, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)


class TeamPublic(TeamBase):
    id: int


# --- operators ---------------------------------------------------------------


class OperatorBase(SQLModel):
    email: str = Field(unique=True, max_length=320)
    name: str = Field(max_length=200)
    title: str = Field(default="", max_length=200)
    role: str = Field(default="operator", max_length=20)
    capacity: int = 3
    active: bool = True


class Operator(OperatorBase, table=True):
    __tablename__ = "operator"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=500)
    created_at: float


class OperatorCreate(OperatorBase):
    """What an admin submits; the API hashes `password` before storing."""

    password: str
    teams: list[str] = []


class OperatorPublic(OperatorBase):
    id: int
    created_at: float
    teams: list[str] = []


class OperatorCredentials(OperatorPublic):
    """An operator plus the password hash, for login only; never serialize it."""

    password_hash: str


class OperatorTeam(SQLModel, table=True):
    __tablename__ = "operator_team"

    operator_id: int = Field(foreign_key="operator.id", primary_key=True, ondelete="CASCADE")
    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")


# --- customers and visitors --------------------------------------------------


class CustomerBase(SQLModel):
    external_id: str | None = Field(default=None, unique=True, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    locale: str | None = Field(default=None, max_length=35)


class Customer(CustomerBase, table=True):
    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    first_seen: float
    last_seen: float
    created_at: float


class CustomerPublic(CustomerBase):
    id: int
    first_seen: float
    last_seen: float
    created_at: float


class VisitorBase(SQLModel):
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    locale: str | None = Field(default=None, max_length=35)


class Visitor(VisitorBase, table=True):
    __tablename__ = "visitor"

    id: str = Field(primary_key=True, max_length=64)
    created_at: float
    last_seen: float


class VisitorPublic(VisitorBase):
    id: str
    created_at: float
    last_seen: float


# --- conversations -----------------------------------------------------------


class ConversationBase(SQLModel):
    visitor_id: str = Field(foreign_key="visitor.id", max_length=64)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    state: str = Field(default="waiting", max_length=20)
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    team: str | None = Field(default=None, max_length=100)
    locale: str | None = Field(default=None, max_length=35)


class Conversation(ConversationBase, table=True):
    __tablename__ = "conversation"
    __table_args__ = (
        Index("ix_conversation_visitor_state", "visitor_id", "state"),
        Index("ix_conversation_customer", "customer_id"),
        Index("ix_conversation_state", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: float
    assigned_at: float | None = None
    closed_at: float | None = None
    last_seq: int = 0


class ConversationPublic(ConversationBase):
    id: int
    created_at: float
    assigned_at: float | None = None
    closed_at: float | None = None
    last_seq: int = 0


class ConversationEventBase(SQLModel):
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    kind: str = Field(max_length=40)
    # The conversation's state after the event: lets sticky routing find the
    # last real assignment whatever `kind` the caller chose.
    state: str | None = Field(default=None, max_length=20)
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    data: str = Field(default="{}", sa_type=Text)
    ts: float


class ConversationEvent(ConversationEventBase, table=True):
    __tablename__ = "conversation_event"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


class ConversationEventPublic(ConversationEventBase):
    id: int


# --- messages ----------------------------------------------------------------


class MessageBase(SQLModel):
    conversation_id: int = Field(foreign_key="conversation.id")
    seq: int
    sender: str = Field(max_length=20)
    sender_id: str = Field(default="", max_length=64)
    client_id: str | None = Field(default=None, max_length=128)
    text: str = Field(sa_type=Text)
    ts: float
    author_name: str | None = Field(default=None, max_length=200)
    author_title: str | None = Field(default=None, max_length=200)


class Message(MessageBase, table=True):
    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_message_conversation_seq"),
        # A client_id is unique per sender. client_id leads so the batch duplicate
        # check (`client_id IN (...)`) is an index search; SQLite cannot use an
        # index for row-value IN lists.
        UniqueConstraint("client_id", "sender", "sender_id", name="uq_message_client_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


class MessagePublic(MessageBase):
    id: int


# --- settings ----------------------------------------------------------------


class Setting(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_type=Text)


# --- reply libraries ---------------------------------------------------------
#
# The admin-edited copy of the response libraries (responses/libraries/ seeds it
# on first start). `data` holds one reply as `Response.to_json()` text; the
# `responses` package validates it before it is stored.

REPLY_ACTIONS = ("create", "update", "delete", "restore", "import", "seed")
USAGE_KINDS = ("suggested", "sent_as_is", "sent_edited", "ignored")


class ReplyBase(SQLModel):
    library: str = Field(max_length=100)
    language: str = Field(max_length=35)
    response_id: str = Field(max_length=100)
    data: str = Field(sa_type=Text)
    version: int
    # A deleted reply keeps its row (and its last data) so it can be restored.
    deleted: bool = False
    # Order within the language: suggestions offer replies in library order.
    position: int = 0
    updated_at: float
    updated_by: int | None = Field(default=None, foreign_key="operator.id", ondelete="SET NULL")


class Reply(ReplyBase, table=True):
    __tablename__ = "reply"
    __table_args__ = (UniqueConstraint("library", "language", "response_id", name="uq_reply_key"),)

    id: int | None = Field(default=None, primary_key=True)


class ReplyPublic(ReplyBase):
    id: int


class ReplyVersionBase(SQLModel):
    library: str = Field(max_length=100)
    language: str = Field(max_length=35)
    response_id: str = Field(max_length=100)
    version: int
    # None for a deletion.
    data: str | None = Field(default=None, sa_type=Text)
    action: str = Field(max_length=20)
    operator_id: int | None = Field(default=None, foreign_key="operator.id", ondelete="SET NULL")
    ts: float


class ReplyVersion(ReplyVersionBase, table=True):
    __tablename__ = "reply_version"
    __table_args__ = (
        UniqueConstraint("library", "language", "response_id", "version", name="uq_reply_version"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


class ReplyVersionPublic(ReplyVersionBase):
    id: int


class ReplyUsageBase(SQLModel):
    library: str = Field(primary_key=True, max_length=100)
    language: str = Field(primary_key=True, max_length=35)
    response_id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(primary_key=True, max_length=20)
    count: int = 0
    last_at: float


class ReplyUsage(ReplyUsageBase, table=True):
    __tablename__ = "reply_usage"


class ReplyUsagePublic(ReplyUsageBase):
    pass
