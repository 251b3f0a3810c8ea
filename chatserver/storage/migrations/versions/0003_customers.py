"""Customers beside the chat: profiles, shop orders and cases, visitor pages, ratings.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain INTEGER on SQLite keeps the column an alias of the autoincrementing rowid.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customer_profile",
        sa.Column(
            "customer_id", sa.Integer(), sa.ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("comm_type", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=True),
        sa.Column(
            "updated_by", sa.Integer(), sa.ForeignKey("operator.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("order_total", sa.Float(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_total", sa.Integer(), nullable=False),
    )
    op.create_index("ix_customer_profile_order_total", "customer_profile", ["order_total"])
    op.create_table(
        "shop_order",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("placed_at", sa.Float(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("source_updated_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("order_id", name="uq_shop_order_order_id"),
    )
    op.create_index("ix_shop_order_customer_placed", "shop_order", ["customer_id", "placed_at"])
    op.create_table(
        "customer_case",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=True),
        sa.Column("source_updated_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("kind", "case_id", name="uq_customer_case_kind_id"),
    )
    op.create_index(
        "ix_customer_case_customer_open", "customer_case", ["customer_id", "is_open", "updated_at"]
    )
    op.create_table(
        "visitor_page",
        sa.Column(
            "visitor_id", sa.String(64), sa.ForeignKey("visitor.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
    )
    op.create_table(
        "conversation_rating",
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
    )
    op.create_index("ix_conversation_customer_created", "conversation", ["customer_id", "created_at", "id"])
    op.create_index(
        "ix_conversation_event_operator", "conversation_event", ["operator_id", "conversation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_event_operator", table_name="conversation_event")
    op.drop_index("ix_conversation_customer_created", table_name="conversation")
    for table in ("conversation_rating", "visitor_page", "customer_case", "shop_order", "customer_profile"):
        op.drop_table(table)
