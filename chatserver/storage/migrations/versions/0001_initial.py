"""Initial schema: teams, operators, customers, visitors, conversations, messages.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain INTEGER on SQLite keeps the column an alias of the autoincrementing rowid.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(500), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "operator_team",
        sa.Column(
            "operator_id",
            sa.Integer(),
            sa.ForeignKey("operator.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("team.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("external_id"),
    )
    op.create_table(
        "visitor",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
    )
    op.create_index("ix_visitor_customer_id", "visitor", ["customer_id"])
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("visitor_id", sa.String(64), sa.ForeignKey("visitor.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("assigned_at", sa.Float(), nullable=True),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_conversation_visitor_state", "conversation", ["visitor_id", "state"])
    op.create_index("ix_conversation_customer", "conversation", ["customer_id"])
    op.create_index("ix_conversation_state", "conversation", ["state"])
    op.create_table(
        "conversation_event",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
    )
    op.create_index("ix_conversation_event_conversation_id", "conversation_event", ["conversation_id"])
    op.create_table(
        "message",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=True),
        sa.Column("author_title", sa.String(200), nullable=True),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_message_conversation_seq"),
        sa.UniqueConstraint("client_id", "sender", "sender_id", name="uq_message_client_id"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "setting",
        "message",
        "conversation_event",
        "conversation",
        "visitor",
        "customer",
        "operator_team",
        "operator",
        "team",
    ):
        op.drop_table(table)
