"""SQLModel tables and the Create/Public shapes the API layer exposes.

All timestamps are float unix seconds supplied by the caller, so the stored
values match the `ts` fields on the wire and tests can pin time.
Migrations (not `metadata.create_all`) create these tables; a test checks
that the two never drift apart.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, Text, UniqueConstraint
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
        # The reports: conversations created in a period.
        Index("ix_conversation_created", "created_at"),
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
    # The reports: a conversation's first assignment, its transfers, nudges and left messages.
    __table_args__ = (Index("ix_conversation_event_conversation_kind_ts", "conversation_id", "kind", "ts"),)

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
        # The reports: a conversation's first operator message (and the first after a left message).
        Index("ix_message_conversation_sender_ts", "conversation_id", "sender", "ts"),
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


# --- customers, orders, context ----------------------------------------------
#
# What the chat knows about a customer beyond the identity: the operators'
# profile (tags, communication type, notes), order totals kept up to date by
# the shop's order feed (the segment is derived from them when read), the
# orders and cases (returns, complaints) the feed pushed, the page a visitor
# is on, and the ratings visitors gave their conversations.

CLOSED_ORDER_STATUSES = ("cancelled", "canceled", "refunded", "failed")
CLOSED_CASE_STATUSES = (
    "closed",
    "resolved",
    "rejected",
    "done",
    "completed",
    "cancelled",
    "canceled",
    "refunded",
)
# Case kinds that count against the customer (segment D).
COSTLY_CASE_KINDS = ("return", "complaint")


class CustomerProfileBase(SQLModel):
    # JSON list of strings.
    tags: str = Field(default="[]", sa_type=Text)
    comm_type: str | None = Field(default=None, max_length=40)
    notes: str = Field(default="", sa_type=Text)
    # Bumped by every operator edit; an edit may name the version it started from.
    version: int = 0
    updated_at: float | None = None
    updated_by: int | None = Field(default=None, foreign_key="operator.id", ondelete="SET NULL")
    # Kept by the order feed: orders not cancelled/refunded, their value, returns and complaints.
    order_count: int = 0
    order_total: float = 0.0
    case_count: int = 0
    # Kept by ratings and history merges: the customer's rated conversations and their scores' sum.
    rating_count: int = 0
    rating_total: int = 0


class CustomerProfile(CustomerProfileBase, table=True):
    __tablename__ = "customer_profile"
    __table_args__ = (Index("ix_customer_profile_order_total", "order_total"),)

    customer_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")


class CustomerProfilePublic(CustomerProfileBase):
    customer_id: int


class ShopOrderBase(SQLModel):
    order_id: str = Field(max_length=200)
    customer_id: int = Field(foreign_key="customer.id")
    status: str = Field(max_length=40)
    total: float
    currency: str = Field(default="", max_length=8)
    placed_at: float
    # JSON list of {"name", "qty", "price"}.
    items: str = Field(default="[]", sa_type=Text)
    # The shop's own change time when it sent one: an older push never overwrites a newer one.
    source_updated_at: float | None = None
    created_at: float
    updated_at: float


class ShopOrder(ShopOrderBase, table=True):
    __tablename__ = "shop_order"
    __table_args__ = (
        UniqueConstraint("order_id", name="uq_shop_order_order_id"),
        Index("ix_shop_order_customer_placed", "customer_id", "placed_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


class ShopOrderPublic(ShopOrderBase):
    id: int


class CustomerCaseBase(SQLModel):
    kind: str = Field(max_length=40)
    case_id: str = Field(max_length=200)
    customer_id: int = Field(foreign_key="customer.id")
    status: str = Field(max_length=40)
    is_open: bool = True
    text: str = Field(default="", sa_type=Text)
    order_id: str | None = Field(default=None, max_length=200)
    source_updated_at: float | None = None
    created_at: float
    updated_at: float


class CustomerCase(CustomerCaseBase, table=True):
    __tablename__ = "customer_case"
    __table_args__ = (
        UniqueConstraint("kind", "case_id", name="uq_customer_case_kind_id"),
        Index("ix_customer_case_customer_open", "customer_id", "is_open", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


class CustomerCasePublic(CustomerCaseBase):
    id: int


class VisitorPageBase(SQLModel):
    url: str = Field(sa_type=Text)
    title: str | None = Field(default=None, max_length=300)
    ts: float


class VisitorPage(VisitorPageBase, table=True):
    __tablename__ = "visitor_page"

    visitor_id: str = Field(foreign_key="visitor.id", primary_key=True, max_length=64, ondelete="CASCADE")


class VisitorPagePublic(VisitorPageBase):
    visitor_id: str


class ConversationRatingBase(SQLModel):
    score: int
    comment: str | None = Field(default=None, sa_type=Text)
    nps: int | None = None  # "how likely are you to recommend us", 0 to 10
    ts: float


class ConversationRating(ConversationRatingBase, table=True):
    __tablename__ = "conversation_rating"

    conversation_id: int = Field(foreign_key="conversation.id", primary_key=True, ondelete="CASCADE")


class ConversationRatingPublic(ConversationRatingBase):
    conversation_id: int


# A customer's conversations newest first, without a sort (the context beside the chat).
Index(
    "ix_conversation_customer_created",
    Conversation.__table__.c.customer_id,  # type: ignore[attr-defined]
    Conversation.__table__.c.created_at,  # type: ignore[attr-defined]
    Conversation.__table__.c.id,  # type: ignore[attr-defined]
)
# The conversations an operator handled: who may see a customer beside the chat.
Index(
    "ix_conversation_event_operator",
    ConversationEvent.__table__.c.operator_id,  # type: ignore[attr-defined]
    ConversationEvent.__table__.c.conversation_id,  # type: ignore[attr-defined]
)


# --- wait promises -----------------------------------------------------------
#
# Every wait figure a visitor is shown (queue or transfer) is a promise: the
# upper end of the range is the deadline. Its outcome says whether the wait
# ended in time ("kept"), was re-estimated first ("revised"; "revised_late"
# when the notice before the deadline did it), ran past it ("broken"), or
# ended otherwise ("returned", "left", "abandoned", "interrupted" by a restart).

PROMISE_KINDS = ("queue", "transfer")
PROMISE_OUTCOMES = (
    "kept",
    "broken",
    "revised",
    "revised_late",
    "returned",
    "left",
    "abandoned",
    "interrupted",
)


class WaitPromiseBase(SQLModel):
    key: str = Field(unique=True, max_length=40)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    kind: str = Field(max_length=20)
    made_at: float
    position: int | None = None
    estimate_s: int
    low_s: int
    high_s: int
    deadline: float
    wait_started_at: float
    outcome: str | None = Field(default=None, max_length=20)
    settled_at: float | None = None
    waited_s: float | None = None


class WaitPromise(WaitPromiseBase, table=True):
    __tablename__ = "wait_promise"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


class WaitPromisePublic(WaitPromiseBase):
    id: int


# --- the assistant learning from the operators ---------------------------------
#
# One row per operator signal about a recognised visitor message: the reply they
# picked (its situation) or the situation they set. `messages_json` is what the
# recognizer read, newest last. Each retraining stores its model and its report.

FEEDBACK_SOURCES = ("picked", "corrected")


class SituationFeedbackBase(SQLModel):
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    seq: int
    language: str = Field(max_length=35)
    messages_json: str = Field(sa_type=Text)
    recognized: str = Field(max_length=40)
    score: float
    corrected: str = Field(max_length=40)
    source: str = Field(max_length=20)
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    created_at: float


class SituationFeedback(SituationFeedbackBase, table=True):
    __tablename__ = "situation_feedback"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)


class SituationModelRow(SQLModel, table=True):
    __tablename__ = "situation_model"

    id: int | None = Field(default=None, primary_key=True)
    created_at: float
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    data: bytes = Field(sa_type=LargeBinary)
    report_json: str = Field(sa_type=Text)


# --- whispers, blocks and the abuse audit (their own module, registered here) -------

# --- ideas (their own module, registered here) ---------------------------------
from .idea_models import Idea, IdeaAsker  # noqa: E402, F401
from .safety_models import AbuseAudit, VisitorBlock, Whisper, WhisperBase  # noqa: E402, F401
